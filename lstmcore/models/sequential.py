"""Sequential: a stack of layers; Keras's compile / fit / evaluate / predict come from `Trainer`.

Training is layer-by-layer backpropagation without an autograd graph: each
layer's forward pass keeps what its backward pass needs, and `Sequential`
runs the layers forwards, the loss, then the layers backwards.  All
trainable weights live in one flat buffer (each layer's weights are views
into it) and their gradients in another, so an optimizer step is a few
vectorised operations whatever the depth of the model.

Variable-length sequences: pass `lengths=` (one integer per sequence) to
fit / evaluate / predict / train_on_batch / input_gradients, or put a
`Masking` layer (or an `Embedding(mask_zero=True)`) first.  Every LSTM then
runs each sequence over its real steps only, and for sequence outputs the
padded steps are left out of the loss and the metrics.
"""
from __future__ import annotations

import numpy as np

from .. import backend, layers as layers_module
from .._threads import with_blas_pinned
from ..layers import Embedding, InputLayer, Layer
from ..saving import load_weights, register_model_class, save_model, save_weights
from ..trainers.trainer import Trainer, _check_batch_size, _check_lengths

__all__ = ["Sequential"]


@register_model_class
class Sequential(Trainer):
    """A linear stack of layers, built, compiled and trained as in Keras.

    Args:
        layers: optional list of layers (an `Input(shape=...)` may come first).
        name: model name.
        dtype: 'float32' or 'float64' for every layer that was not given one;
            None uses `lstmcore.floatx()` ('float32' unless set).

    Example::

        >>> import numpy as np, lstmcore as lc
        >>> model = lc.Sequential([lc.layers.LSTM(8, input_shape=(10, 1)), lc.layers.Dense(1)])
        >>> model.compile(optimizer="adam", loss="mse")
        >>> history = model.fit(np.zeros((64, 10, 1)), np.zeros(64), epochs=1, verbose=0)
        >>> model.predict(np.zeros((3, 10, 1))).shape
        (3, 1)
    """

    def __init__(self, layers=None, name=None, dtype=None):
        if name is not None and (not isinstance(name, str) or not name):
            raise ValueError(f"name must be a non-empty string. Received: name={name!r}")
        self.name = name or "sequential"
        self.dtype = backend.standardize_dtype(dtype)
        self.layers = []
        self.built = False
        self.compiled = False
        self.stop_training = False
        self.optimizer = None
        self.loss = None
        self.history = None
        self._input_shape = None
        self._flat_params = None
        self._flat_grads = None
        self.gradient_transforms = []
        if layers is not None:
            if isinstance(layers, Layer) or not hasattr(layers, "__iter__"):
                raise ValueError(f"layers must be a list of layers. Received: layers={layers!r}")
            for layer in layers:
                self.add(layer)

    # ----- construction ------------------------------------------------------------
    def add(self, layer):
        """Append a layer; the model builds as soon as its input shape is known."""
        if isinstance(layer, InputLayer):
            if self.layers:
                raise ValueError("An Input must come before every other layer. "
                                 f"Received: {layer!r} after {len(self.layers)} layers")
            self._input_shape = (layer.batch_size,) + tuple(layer.shape)
            return
        if not isinstance(layer, Layer):
            raise ValueError(f"layer must be an lstmcore.layers.Layer. Received: layer={layer!r}")
        if any(existing is layer for existing in self.layers):
            raise ValueError(f"layer {layer.name!r} is already in the model")
        if not self.layers and self._input_shape is None and layer._input_shape_arg is not None:
            self._input_shape = (layer.batch_size,) + tuple(layer._input_shape_arg)
        self.layers.append(layer)
        self.built = False
        if self._input_shape is not None:
            self.build(self._input_shape)

    def pop(self):
        """Remove the last layer."""
        if not self.layers:
            raise ValueError("There are no layers to pop")
        layer = self.layers.pop()
        self.built = False
        if self.layers and self._input_shape is not None:
            self.build(self._input_shape)
        return layer

    def build(self, input_shape=None):
        """Build every layer for inputs of `input_shape` (batch axis included, may be None)."""
        if input_shape is None:
            input_shape = self._input_shape
        if input_shape is None:
            raise ValueError("The input shape is unknown: give input_shape= to the first layer, start "
                             "with Input(shape=...), or call fit/predict. Received: input_shape=None")
        if not self.layers:
            raise ValueError("The model has no layers. Received: an empty Sequential")
        shape = tuple(input_shape)
        self._input_shape = shape
        for position, layer in enumerate(self.layers):
            if isinstance(shape, list):
                raise ValueError(f"Layer {self.layers[position - 1].name!r} returns several arrays "
                                 "(return_state=True or merge_mode=None), so it can only be the last layer")
            layer._set_model_dtype(self.dtype)
            if not layer.built:
                layer.build(shape)
            shape = layer.compute_output_shape(shape)
        self.built = True
        self._bind_weights()

    def _bind_weights(self):
        """Move the trainable weights and their gradients into two flat buffers (views per layer)."""
        slots = [(leaf, name) for layer in self.layers if layer.trainable
                 for leaf, name in layer._weight_slots()]
        total = sum(leaf._params[name].size for leaf, name in slots)
        params = np.empty(total, self.dtype)
        grads = np.zeros(total, self.dtype)
        offset = 0
        sizes = []
        for leaf, name in slots:
            value = leaf._params[name]
            size = value.size
            params[offset:offset + size] = value.ravel()
            leaf._params[name] = params[offset:offset + size].reshape(value.shape)
            leaf._grads[name] = grads[offset:offset + size].reshape(value.shape)
            sizes.append(size)
            offset += size
        self._flat_params, self._flat_grads, self._segments = params, grads, np.array(sizes, np.int64)
        self._regularized = [layer for layer in self.layers
                             if any(leaf._regularizers for leaf in [layer] + layer._sublayers())]

    def _ensure_built(self, x):
        if not self.built:
            self.build((None,) + tuple(np.shape(x)[1:]))

    # ----- weights -------------------------------------------------------------------------
    @property
    def weights(self):
        return [w for layer in self.layers for w in layer.weights]

    @property
    def trainable_weights(self):
        return [w for layer in self.layers if layer.trainable for w in layer.weights]

    def get_weights(self):
        """Copies of all weights, in Keras order (layer by layer)."""
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        """Overwrite all weights from a list in Keras order (e.g. from keras `model.get_weights()`)."""
        weights = list(weights)
        expected = sum(len(layer.weights) for layer in self.layers)
        if len(weights) != expected:
            raise ValueError(f"The model expects {expected} weight arrays. Received: a list of {len(weights)}")
        start = 0
        for layer in self.layers:
            count = len(layer.weights)
            layer.set_weights(weights[start:start + count])
            start += count

    def count_params(self):
        return int(sum(w.size for w in self.weights))

    # ----- the two passes -------------------------------------------------------------------
    def _forward(self, x, training, lengths, keep_cache):
        for layer in self.layers:
            x = layer.forward(x, training=training, lengths=lengths, keep_cache=keep_cache)
            lengths = layer.output_lengths(lengths)
        return x, lengths

    def _backward(self, grad):
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
            if grad is None:
                break
        return grad

    def _prepare_x(self, x, argument="x"):
        if x is None:
            raise ValueError(f"{argument} must be an array of shape (samples, ...). Received: {argument}=None")
        first = self.layers[0] if self.layers else None
        if isinstance(first, Embedding):
            x = np.asarray(x)
        else:
            try:
                x = np.ascontiguousarray(x, dtype=self.dtype)
            except (TypeError, ValueError) as error:
                raise ValueError(f"{argument} must be a numeric array. Received: {argument} that fails to "
                                 f"convert ({error})") from None
        if x.ndim < 2:
            raise ValueError(f"{argument} must have a sample axis and at least one more. "
                             f"Received: {argument}.shape={x.shape}")
        self._ensure_built(x)
        return x

    def _steps_of(self, x):
        """Number of steps of sequence input x, or None for input without a time axis."""
        if x.ndim >= 3 or (x.ndim == 2 and isinstance(self.layers[0], Embedding)):
            return x.shape[1]
        return None

    def _output_shape_for(self, x):
        shape = (None,) + tuple(x.shape[1:])
        for layer in self.layers:
            shape = layer.compute_output_shape(shape)
        return shape

    def __call__(self, x, training=False, lengths=None):
        """Run the model on one batch (no batching, no cache)."""
        x = self._prepare_x(x)
        out, _ = self._forward(x, training=training, lengths=lengths, keep_cache=False)
        return out

    # ----- gradients for attribution -------------------------------------------------------------------------
    @with_blas_pinned
    def input_gradients(self, x, output_index=None, lengths=None, output_weights=None, batch_size=None):
        """Gradients of the model's outputs with respect to its inputs, in inference mode (no dropout).

        The scalar differentiated, per sample, is `sum(outputs * output_weights)`:
        with output_weights None it is the sum of all outputs, or of the last-axis
        column `output_index` when that is given (e.g. one class's score).  For
        sequence outputs with lengths, padded steps are left out.  The result has
        x's shape; `x * input_gradients(x)` is gradient-times-input attribution.

        Args:
            x: (samples, steps, features) input (not integer tokens).
            output_index: None or int, a column of the last output axis.
            lengths: (samples,) real lengths, or None.
            output_weights: array broadcastable to the output (per-sample rows allowed).
            batch_size: samples per pass (default 32).
        """
        from .attribution import input_gradients

        return input_gradients(self, x, output_index=output_index, lengths=lengths, output_weights=output_weights,
                               batch_size=batch_size)

    # ----- state, summary, config --------------------------------------------------------------------------------
    def reset_states(self):
        """Zero the carried state of every stateful layer."""
        for layer in self.layers:
            if hasattr(layer, "reset_states"):
                layer.reset_states()

    reset_state = reset_states

    @property
    def input_shape(self):
        return self._input_shape

    @property
    def output_shape(self):
        if not self.built:
            raise AttributeError("The model is not built yet, so it has no output shape")
        shape = self._input_shape
        for layer in self.layers:
            shape = layer.compute_output_shape(shape)
        return shape

    def summary(self, print_fn=None):
        """Print each layer's type, output shape and parameter count, then the totals."""
        print_fn = print_fn or print
        rows = []
        shape = self._input_shape
        for layer in self.layers:
            if self.built:
                shape = layer.compute_output_shape(shape)
                shown, params = str(shape), f"{layer.count_params():,}"
            else:
                shown, params = "?", "0 (unbuilt)"
            rows.append((f"{layer.name} ({type(layer).__name__})", shown, params))
        headers = ("Layer (type)", "Output Shape", "Param #")
        widths = [max(len(headers[i]), *(len(r[i]) for r in rows)) + 2 if rows else len(headers[i]) + 2
                  for i in range(3)]
        line = "─" * sum(widths)
        print_fn(f'Model: "{self.name}"')
        print_fn(line)
        print_fn("".join(h.ljust(w) for h, w in zip(headers, widths)))
        print_fn("═" * sum(widths))
        for row in rows:
            print_fn("".join(c.ljust(w) for c, w in zip(row, widths)))
        print_fn(line)
        total = self.count_params() if self.built else 0
        trainable = sum(w.size for w in self.trainable_weights) if self.built else 0
        print_fn(f" Total params: {total:,}")
        print_fn(f" Trainable params: {trainable:,}")
        print_fn(f" Non-trainable params: {total - trainable:,}")

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype,
                "input_shape": None if self._input_shape is None else list(self._input_shape),
                "layers": [layers_module.serialize(layer) for layer in self.layers]}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        model = cls(name=config.get("name"), dtype=config.get("dtype"))
        specs = config.get("layers", [])
        for spec in specs:
            model.layers.append(layers_module.deserialize(spec, custom_objects))
        if config.get("input_shape") is not None and model.layers:
            model.build(tuple(config["input_shape"]))
        return model

    # ----- files ----------------------------------------------------------------------------------------------------
    def save(self, filepath, overwrite=True, include_optimizer=True):
        """Write the model (config, weights, compile settings, optimizer state) to one safetensors file."""
        save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer)

    def save_weights(self, filepath, overwrite=True):
        """Write only the weights (safetensors, Keras order) atomically."""
        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath):
        """Read weights written by `save_weights` or `save` into this (built) model."""
        load_weights(self, filepath)

    def __repr__(self):
        return f"<Sequential name={self.name!r}, layers={len(self.layers)}, built={self.built}>"


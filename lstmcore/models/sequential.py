"""Sequential: a stack of layers, the functional `Model`'s special case of a chain.

Compile / fit / evaluate / predict come from `Trainer`, weights and files from `Model`.

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

from .. import layers as layers_module
from ..layers import Embedding, Input, InputLayer, Layer
from ..layers.symbolic import KerasTensor
from ..saving import register_model_class
from .model import Model
from .summary import print_summary

__all__ = ["Sequential"]


@register_model_class
class Sequential(Model):
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
        self._init_state("sequential" if name is None else name, dtype)
        self._input_shape = None
        self._chain = None
        if layers is not None:
            if isinstance(layers, Layer) or not hasattr(layers, "__iter__"):
                raise ValueError(f"layers must be a list of layers. Received: layers={layers!r}")
            for layer in layers:
                self.add(layer)

    # ----- construction ------------------------------------------------------------
    def add(self, layer):
        """Append a layer; the model builds as soon as its input shape is known."""
        if isinstance(layer, KerasTensor) and isinstance(layer.node.layer, InputLayer):
            layer = layer.node.layer          # Sequential([Input(shape=...), ...]), as Keras 3 writes it
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
        self._chain = None
        self._bind_weights()

    def _ensure_built(self, x):
        if not self.built:
            self.build((None,) + tuple(np.shape(x)[1:]))

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
    # ----- state, summary, config --------------------------------------------------------------------------------
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
        rows = []
        shape = self._input_shape
        for layer in self.layers:
            if self.built:
                shape = layer.compute_output_shape(shape)
                shown, params = str(shape), f"{layer.count_params():,}"
            else:
                shown, params = "?", "0 (unbuilt)"
            rows.append((f"{layer.name} ({type(layer).__name__})", shown, params))
        print_summary(self, rows, print_fn or print)

    # ----- the chain as a graph (Keras's model.inputs / model.outputs / layer.output) ------------------
    _single_input = _single_output = True

    @property
    def output_names(self):
        return [self.layers[-1].name] if self.layers else ["output"]

    @property
    def inputs(self):
        return self._symbolic_chain()[0]

    @property
    def outputs(self):
        return self._symbolic_chain()[1]

    def _symbolic_chain(self):
        """The chain of layers recorded as a functional graph, made when first asked for."""
        if not self.built:
            raise AttributeError(f"The model {self.name!r} is not built yet, so it has no inputs or outputs")
        if self._chain is None:
            first = Input(shape=self._input_shape[1:], batch_size=self._input_shape[0],
                          dtype="int32" if isinstance(self.layers[0], Embedding) else self.dtype)
            tensor = first
            for layer in self.layers:
                tensor = layer(tensor)
            self._chain = ([first], tensor if isinstance(tensor, list) else [tensor])
        return self._chain

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

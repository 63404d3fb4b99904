"""Model: the functional API (`Model(inputs, outputs)`), and what every model shares.

    >>> import numpy as np, lstmcore as lc
    >>> sequence = lc.Input(shape=(20, 4), name="sequence")
    >>> counts = lc.Input(shape=(3,), name="counts")
    >>> features = lc.layers.LSTM(8)(sequence)
    >>> joined = lc.layers.Concatenate()([features, counts])
    >>> label = lc.layers.Dense(1, activation="sigmoid", name="label")(joined)
    >>> model = lc.Model(inputs=[sequence, counts], outputs=label)
    >>> model.compile(optimizer="adam", loss="binary_crossentropy")
    >>> model.predict([np.zeros((2, 20, 4)), np.zeros((2, 3))]).shape
    (2, 1)

A model with several inputs takes a list (in `inputs` order) or a dict by
input name; one with several outputs returns a list and trains on a list or
dict of targets, with a loss per output (see `Trainer.compile`).  Layers may
be shared (called on several tensors); an LSTM's `initial_state` may come
from another LSTM's states (`return_state=True`), as in encoder-decoder
models.  The weights live in two flat buffers, as in `Sequential`, which is
the special case of a chain of layers (`Sequential` subclasses `Model`).
"""
from __future__ import annotations

import numpy as np

from .. import backend, layers as layers_module
from .._threads import with_blas_pinned
from ..layers.base import InputLayer
from ..layers.symbolic import KerasTensor, is_symbolic
from ..saving import load_weights, register_model_class, save_model, save_weights
from ..trainers.trainer import Trainer
from . import graph, graph_config
from .summary import print_summary

__all__ = ["Model"]


def _tensors(value, argument):
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    if not items or not all(isinstance(item, KerasTensor) for item in items):
        raise ValueError(f"{argument} must be symbolic tensors from lstmcore.Input() and layer calls. "
                         f"Received: {argument}={value!r}")
    return items


@register_model_class
class Model(Trainer):
    """A model from a graph of layers: `Model(inputs, outputs, name=None)`.

    Args:
        inputs: an `Input` tensor or a list of them.
        outputs: a tensor a layer call returned, or a list of them.
        name: model name.
    """

    def __init__(self, inputs=None, outputs=None, name=None, **kwargs):
        if inputs is None or outputs is None:
            raise TypeError("Model(inputs, outputs) builds a functional model; lstmcore has no subclassed "
                            "models (they need automatic differentiation). Build the graph with "
                            "lstmcore.Input and layer calls, or use Sequential")
        if kwargs:
            key = next(iter(kwargs))
            raise TypeError(f"Model got an unexpected keyword argument {key!r}")
        self._init_state(name or "functional", None)
        self._single_input = not isinstance(inputs, (list, tuple))
        self._single_output = not isinstance(outputs, (list, tuple))
        self.inputs = _tensors(inputs, "inputs")
        self.outputs = _tensors(outputs, "outputs")
        self._nodes = graph.running_order(self.inputs, self.outputs)
        self.layers = graph.unique_layers(self.inputs, self._nodes)
        names = [layer.name for layer in self.layers]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"Every layer of a model needs its own name; {repeated[0]!r} is used twice")
        dtypes = {layer.dtype for layer in self.layers if not isinstance(layer, InputLayer)}
        self.dtype = dtypes.pop() if len(dtypes) == 1 else backend.floatx()
        self.built = True
        self._bind_weights()

    def _init_state(self, name, dtype):
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty string. Received: name={name!r}")
        self.name = name
        self.dtype = backend.standardize_dtype(dtype)
        self.layers = []
        self.built = False
        self.compiled = False
        self.stop_training = False
        self.optimizer = None
        self.loss = None
        self.history = None
        self._flat_params = None
        self._flat_grads = None
        self.gradient_transforms = []

    # ----- the graph's ends ---------------------------------------------------------------
    @property
    def input(self):
        return self.inputs[0] if self._single_input else list(self.inputs)

    @property
    def output(self):
        return self.outputs[0] if self._single_output else list(self.outputs)

    @property
    def input_names(self):
        return [tensor.node.layer.name for tensor in self.inputs]

    @property
    def output_names(self):
        return [tensor.node.layer.name for tensor in self.outputs]

    @property
    def input_shape(self):
        shapes = [tensor.shape for tensor in self.inputs]
        return shapes[0] if self._single_input else shapes

    @property
    def output_shape(self):
        shapes = [tensor.shape for tensor in self.outputs]
        return shapes[0] if self._single_output else shapes

    def get_layer(self, name=None, index=None):
        """The layer called `name`, or at position `index` of `layers`."""
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No layer named {name!r}. Layers: {', '.join(layer.name for layer in self.layers)}")

    # ----- weights ----------------------------------------------------------------------------
    def _bind_weights(self):
        """Move the trainable weights and their gradients into two flat buffers (views per layer)."""
        slots = [slot for layer in self.layers for slot in layer._trainable_weight_slots()]
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

    @property
    def weights(self):
        return [w for layer in self.layers for w in layer.weights]

    @property
    def trainable_weights(self):
        return [w for layer in self.layers for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self):
        return [w for layer in self.layers for w in layer.non_trainable_weights]

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

    # ----- the two passes ------------------------------------------------------------------------
    def _forward(self, x, training, lengths, keep_cache):
        arrays = [x] if self._single_input else x
        values, caches = graph.run_forward(self.inputs, self._nodes, arrays, lengths, training, keep_cache)
        self._last_run = (values, caches) if keep_cache else None
        outs = [values[tensor.id] for tensor in self.outputs]
        if self._single_output:
            return outs[0]
        return [array for array, _ in outs], [lengths for _, lengths in outs]

    def _backward(self, grad):
        values, caches = self._last_run
        self._last_run = None
        self._flat_grads.fill(0)
        grads = [grad] if self._single_output else grad
        d_inputs = graph.run_backward(self.inputs, self.outputs, self._nodes, caches, values, grads)
        return d_inputs[0] if self._single_input else d_inputs

    def _prepare_x(self, x, argument="x"):
        """Inputs as the graph takes them: one array, or a list in `inputs` order (from a list or a dict)."""
        if x is None:
            raise ValueError(f"{argument} must be given. Received: {argument}=None")
        if isinstance(x, dict):
            missing = [name for name in self.input_names if name not in x]
            if missing:
                raise ValueError(f"{argument} has no array for the input {missing[0]!r}. "
                                 f"Inputs: {', '.join(self.input_names)}")
            x = [x[name] for name in self.input_names]
        items = list(x) if isinstance(x, (list, tuple)) and not self._single_input else [x]
        if len(items) != len(self.inputs):
            raise ValueError(f"{argument} must hold {len(self.inputs)} arrays, one per input "
                             f"({', '.join(self.input_names)}). Received: {len(items)}")
        arrays = [self._prepare_input(tensor, item, f"{argument}[{i}]" if len(items) > 1 else argument)
                  for i, (tensor, item) in enumerate(zip(self.inputs, items))]
        if len({array.shape[0] for array in arrays}) > 1:
            raise ValueError(f"The arrays of {argument} must have the same number of samples. "
                             f"Received: {[array.shape[0] for array in arrays]}")
        return arrays[0] if self._single_input else arrays

    def _prepare_input(self, tensor, value, argument):
        integer = np.dtype(tensor.dtype).kind in "iu"
        try:
            array = np.asarray(value) if integer else np.ascontiguousarray(value, dtype=self.dtype)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{argument} must be a numeric array. Received: {argument} that fails to "
                             f"convert ({error})") from None
        expected = tensor.shape[1:]
        if array.ndim != len(tensor.shape) or any(e is not None and e != a for e, a in zip(expected, array.shape[1:])):
            raise ValueError(f"{argument} must have shape (samples, {', '.join(map(str, expected))}) for the input "
                             f"{tensor.node.layer.name!r}. Received: {argument}.shape={array.shape}")
        return array

    def _steps_of(self, x):
        """Number of steps of the first sequence input, or None when no input has a time axis."""
        for tensor, array in zip(self.inputs, [x] if self._single_input else x):
            integer = np.dtype(tensor.dtype).kind in "iu"
            if array.ndim >= 3 or (array.ndim == 2 and integer):
                return array.shape[1]
        return None

    def _output_shape_for(self, x):
        return self.output_shape

    def __call__(self, x, training=False, lengths=None):
        """Run the model on one batch (no batching, no cache)."""
        if is_symbolic(x):
            raise TypeError("Calling a Model on symbolic tensors (a model inside a model) is not supported yet; "
                            "call its layers instead")
        output, _ = self._forward(self._prepare_x(x), training=training, lengths=lengths, keep_cache=False)
        return output

    @with_blas_pinned
    def input_gradients(self, x, output_index=None, lengths=None, output_weights=None, batch_size=None):
        """Gradients of the (single) output with respect to the (single) input; see
        `lstmcore.attribution.input_gradients`."""
        if not (self._single_input and self._single_output):
            raise ValueError("input_gradients needs a model with one input and one output")
        from ..attribution import input_gradients

        return input_gradients(self, x, output_index=output_index, lengths=lengths, output_weights=output_weights,
                               batch_size=batch_size)

    # ----- state, summary, config, files -------------------------------------------------------------
    def reset_states(self):
        """Zero the carried state of every stateful layer."""
        for layer in self.layers:
            if hasattr(layer, "reset_states"):
                layer.reset_states()

    reset_state = reset_states

    def summary(self, print_fn=None):
        """Print each layer's type, output shape, parameter count and inputs, then the totals."""
        print_summary(self, graph_config.summary_rows(self), print_fn or print, connected=True)

    def get_config(self):
        return graph_config.functional_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        inputs, outputs = graph_config.rebuild(config, custom_objects)
        return cls(inputs=inputs, outputs=outputs, name=config.get("name"))

    def to_json(self, **kwargs):
        """The model's architecture as JSON (no weights), for `lstmcore.models.model_from_json`."""
        import json

        return json.dumps({"format": "lstmcore", "class_name": type(self).__name__, "config": self.get_config()},
                          **kwargs)

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
        return f"<{type(self).__name__} name={self.name!r}, layers={len(self.layers)}, built={self.built}>"


"""The Layer base class: weights, shapes, caches and the forward/backward contract.

A layer owns its weights under Keras's names (`kernel`, `recurrent_kernel`,
`bias`, ...) in Keras's order, and runs in two passes:

- `forward(x, training=False, lengths=None, keep_cache=None)` computes the
  output for a batch and, when `keep_cache` (default: `training`) is true,
  keeps what its backward pass needs on the layer;
- `backward(grad)` takes the gradient of the loss with respect to that output,
  writes the gradients of the weights into `layer.gradients` (same order as
  `layer.weights`) and returns the gradient with respect to the input.

`lengths` is the (batch,) vector of real sequence lengths, or None when every
sequence fills all steps; `output_lengths(lengths)` says what the next layer
receives (an LSTM that returns only its last output ends the lengths).

Shapes follow Keras: `build(input_shape)` and `compute_output_shape` take the
full shape with the batch axis as None, e.g. (None, 10, 1).

Merge layers (`Concatenate`, `Add`, `Multiply`) take several inputs: their
`build` and `compute_output_shape` receive a list of shapes, `forward` a list
of arrays (and `lengths` a list with one entry per input, or one array shared
by all), `output_lengths` that same list or array, and `backward(grad)`
returns a list of input gradients, one per input, in input order.

Weights are trainable unless created with `add_weight(..., trainable=False)`
(BatchNormalization's moving statistics): those are saved and loaded with the
others and listed in `weights` in Keras order, but `trainable_weights` leaves
them out, so a model never hands them to its optimizer; the layer updates
them itself in its forward pass.
"""
from __future__ import annotations

import re
from collections import defaultdict

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .. import backend, initializers
from .._native import dispatch
from . import symbolic

__all__ = ["Layer", "InputLayer", "Input", "check_positive_int", "check_rate", "check_bool", "column_sums",
           "planned_weight_shapes"]

_name_counts = defaultdict(int)
backend.on_clear_session(_name_counts.clear)   # Keras's clear_session starts the names afresh


def _unique_name(prefix):
    count = _name_counts[prefix]
    _name_counts[prefix] += 1
    return prefix if count == 0 else f"{prefix}_{count}"


def snake_case(name):
    """A class name as Keras names its instances (keras/src/utils/naming.py): Conv1D -> conv1d,
    MaxPooling1D -> max_pooling1d, LSTM -> lstm, BatchNormalization -> batch_normalization; a Keras
    script's model.get_layer("conv1d") finds the same layer here."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


_ones_cache = {}


def column_sums(matrix, out=None):
    """Sum a 2-D array over its rows.

    float32 through the native kernels' row-order sum (the same bits on every CPU: a BLAS
    product with ones sums in its kernel's order, which OpenBLAS picks by the CPU); float64 as a
    BLAS matrix-vector product with a ones vector.  np.sum(axis=0) on a tall, narrow array walks
    it column by column and is tens of times slower than either for the (batch * steps,
    features) arrays of the backward passes.
    """
    if matrix.dtype == np.float32 and (out is None or (out.dtype == np.float32 and out.flags.c_contiguous)):
        target = np.empty(matrix.shape[1], np.float32) if out is None else out
        dispatch.active().column_sums_f32(np.ascontiguousarray(matrix), target.reshape(-1))
        return target
    rows = matrix.shape[0]
    key = (rows, matrix.dtype.str)
    ones = _ones_cache.get(key)
    if ones is None:
        if len(_ones_cache) > 64:
            _ones_cache.clear()
        ones = _ones_cache[key] = np.ones(rows, matrix.dtype)
    return np.dot(ones, matrix, out=out)


def check_positive_int(name, value):
    """Raise unless `value` is a positive integer; return it as int."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
    return int(value)


def check_rate(name, value):
    """Raise unless 0 <= value < 1; return it as float."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a number in [0, 1). Received: {name}={value!r}")
    return float(value)


def check_bool(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False. Received: {name}={value!r}")
    return bool(value)


def _check_input_shape(name, shape):
    if shape is None:
        return None
    try:
        shape = tuple(None if s is None else int(s) for s in shape)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a tuple of positive integers or None. Received: {name}={shape!r}") from None
    if any(s is not None and s < 1 for s in shape):
        raise ValueError(f"{name} must be a tuple of positive integers or None. Received: {name}={shape!r}")
    return shape


class Layer:
    """Base class of every layer.

    Args:
        name: unique name; derived from the class name when None.
        dtype: 'float32' or 'float64'; None uses the model's or `lstmcore.floatx()`.
        trainable: whether `fit` updates the weights.
        input_shape: shape of one sample, e.g. (10, 1); lets a Sequential build at once.
        batch_size: fixed batch size (stateful LSTMs).
    """

    def __init__(self, *, name=None, dtype=None, trainable=True, input_shape=None,
                 batch_size=None, input_dim=None, **unknown):
        if unknown:
            key = next(iter(unknown))
            raise TypeError(f"{type(self).__name__} got an unexpected keyword argument {key!r}. "
                            f"Received: {key}={unknown[key]!r}")
        if name is not None and (not isinstance(name, str) or not name):
            raise ValueError(f"name must be a non-empty string. Received: name={name!r}")
        self.name = name or _unique_name(snake_case(type(self).__name__))
        self._explicit_dtype = None if dtype is None else backend.standardize_dtype(dtype)
        self.dtype = self._explicit_dtype or backend.floatx()
        self.trainable = check_bool("trainable", trainable)
        if input_shape is None and input_dim is not None:
            input_shape = (None, check_positive_int("input_dim", input_dim))
        self._input_shape_arg = _check_input_shape("input_shape", input_shape)
        self.batch_size = None if batch_size is None else check_positive_int("batch_size", batch_size)
        self.built = False
        self.input_shape = None
        self._params = {}          # weight name -> ndarray, in Keras order
        self._grads = {}           # weight name -> ndarray, same shapes
        self._regularizers = {}    # weight name -> Regularizer
        self._non_trainable = set()  # names of weights the optimizer never updates
        self._cache = None

    # ----- weights -------------------------------------------------------------
    def add_weight(self, name, shape, initializer="zeros", regularizer=None, trainable=True):
        """Create a weight (and its gradient buffer) in this layer's dtype.

        trainable=False makes a weight that is saved with the others but never
        given to the optimizer (a statistic the layer updates itself).
        """
        value = initializers.get(initializer)(tuple(shape), self.dtype)
        value = np.ascontiguousarray(value, dtype=self.dtype)
        self._params[name] = value
        self._grads[name] = np.zeros_like(value)
        if regularizer is not None:
            self._regularizers[name] = regularizer
        if not trainable:
            self._non_trainable.add(name)
        return value

    def _sublayers(self):
        """Layers whose weights this layer holds (wrappers override)."""
        return []

    def _weight_slots(self):
        """(leaf layer, weight name) pairs in Keras weight order."""
        slots = [(self, name) for name in self._params]
        for layer in self._sublayers():
            slots.extend(layer._weight_slots())
        return slots

    def _trainable_weight_slots(self):
        """The (leaf layer, weight name) pairs an optimizer updates: none when this layer is frozen."""
        if not self.trainable:
            return []
        slots = [(self, name) for name in self._params if name not in self._non_trainable]
        for layer in self._sublayers():
            slots.extend(layer._trainable_weight_slots())
        return slots

    @property
    def weights(self):
        """The weight arrays themselves, in Keras order (not copies)."""
        return [layer._params[name] for layer, name in self._weight_slots()]

    @property
    def trainable_weights(self):
        """The weights `fit` updates (all of them, less non-trainable ones; none if not trainable)."""
        return [layer._params[name] for layer, name in self._trainable_weight_slots()]

    @property
    def non_trainable_weights(self):
        """The weights `fit` leaves to the layer (moving statistics), or all of them if not trainable."""
        trainable = {(id(layer), name) for layer, name in self._trainable_weight_slots()}
        return [layer._params[name] for layer, name in self._weight_slots()
                if (id(layer), name) not in trainable]

    @property
    def weight_names(self):
        """Names of the weights, as stored in model files ('forward.kernel', ...)."""
        return [name for _, name in self._weight_slots()]

    @property
    def gradients(self):
        """Gradient buffers of the last backward pass, aligned with `weights`."""
        return [layer._grads[name] for layer, name in self._weight_slots()]

    def get_weights(self):
        """Copies of the weights, in Keras order."""
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        """Overwrite the weights in place from a list in Keras order (shapes must match)."""
        slots = self._weight_slots()
        weights = list(weights)
        if len(weights) != len(slots):
            raise ValueError(f"Layer {self.name!r} expects {len(slots)} weights. "
                             f"Received: a list of {len(weights)} arrays")
        for (layer, name), value in zip(slots, weights):
            target = layer._params[name]
            value = np.asarray(value)
            if value.shape != target.shape:
                raise ValueError(f"Weight {name!r} of layer {self.name!r} has shape {target.shape}. "
                                 f"Received: shape {value.shape}")
            np.copyto(target, value, casting="unsafe")

    def count_params(self):
        return int(sum(w.size for w in self.weights))

    def regularization_loss(self, add_gradients=False):
        """The weight penalties of this layer; optionally add their gradients to `gradients`."""
        total = 0.0
        for layer in [self] + self._sublayers():
            for name, reg in layer._regularizers.items():
                weight = layer._params[name]
                total += reg.penalty(weight)
                if add_gradients:
                    reg.add_gradient(weight, layer._grads[name])
        return total

    # ----- shapes and building -------------------------------------------------
    def build(self, input_shape):
        """Create the weights for inputs of `input_shape` (batch axis included)."""
        self.input_shape = tuple(input_shape)
        self.built = True

    def _maybe_build(self, input_shape):
        if not self.built:
            self.build(tuple(input_shape))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    @property
    def output_shape(self):
        if self.input_shape is None:
            raise AttributeError(f"Layer {self.name!r} is not built yet, so it has no output shape")
        return self.compute_output_shape(self.input_shape)

    # ----- running ---------------------------------------------------------------
    def forward(self, x, training=False, lengths=None, keep_cache=None):
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError

    def output_lengths(self, lengths):
        """Lengths the next layer receives (default: passed through)."""
        return lengths

    def __init_subclass__(cls, **kwargs):
        """Every layer class's `__call__` records a graph call when given symbolic tensors (see below)."""
        super().__init_subclass__(**kwargs)
        if "__call__" in cls.__dict__:
            cls.__call__ = symbolic.dispatching(cls.__dict__["__call__"])

    def __call__(self, x, training=False, lengths=None, **kwargs):
        """Run the layer on a batch, building it first if needed (no cache is kept).

        Called on a symbolic tensor (from `Input`), it records the call in a
        functional graph instead and returns the output's symbolic tensor(s).
        """
        x = self._prepare_input(x)
        self._maybe_build((None,) + x.shape[1:])
        return self.forward(x, training=training, lengths=lengths, keep_cache=False, **kwargs)

    @property
    def input(self):
        """The symbolic tensor(s) this layer was called on in a functional graph (called once only)."""
        node = symbolic.only_call(self, "input")
        return list(node.inputs) if node.several else (node.inputs[0] if node.inputs else node.outputs[0])

    @property
    def output(self):
        """The symbolic tensor(s) this layer returned in a functional graph (called once only)."""
        outputs = symbolic.only_call(self, "output").outputs
        return outputs[0] if len(outputs) == 1 else list(outputs)

    def _prepare_input(self, x):
        return np.ascontiguousarray(x, dtype=self.dtype)

    # ----- configuration ----------------------------------------------------------
    def get_config(self):
        """The constructor arguments, as JSON-able values."""
        config = {"name": self.name, "trainable": self.trainable}
        if self._explicit_dtype is not None:
            config["dtype"] = self._explicit_dtype
        if self._input_shape_arg is not None:
            config["input_shape"] = list(self._input_shape_arg)
        if self.batch_size is not None:
            config["batch_size"] = self.batch_size
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def _set_model_dtype(self, dtype):
        """Adopt the model's dtype unless the layer was given one."""
        if self._explicit_dtype is None and not self.built:
            self.dtype = dtype
        for layer in self._sublayers():
            layer._set_model_dtype(self.dtype)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}, built={self.built}>"


Layer.__call__ = symbolic.dispatching(Layer.__call__)


def planned_weight_shapes(layer, input_shape):
    """[(stored weight name, shape)] in Keras order: the weights `layer` would create if built for
    `input_shape`, learnt by building it without allocating or initialising any of them.

    Why: a model file's config fixes the shapes of weights that depend on a
    layer's input (an LSTM's kernel is (features, 4 * units)); comparing them
    with the file's tensors before the real build refuses a crafted file
    before a 51 GB kernel is allocated, not after.

    For the length of the build, `add_weight` of this layer and of the layers
    it wraps is replaced, on these instances only (so loads on other threads
    are untouched), by one that records the shape and returns a writeable
    zero-strided view of one element: every element is the same float, so a
    build that writes into its weights (LSTM's unit_forget_bias) still runs,
    on 0 bytes whatever the shape.  Initialisers are not called.  The layer
    (unbuilt before) is left unbuilt, with no weights, afterwards.  A shape
    the build rejects raises as the real build would (ValueError, TypeError).
    """
    leaves = layer_tree(layer)
    if any(leaf.built for leaf in leaves):  # its real weights would be dropped below
        raise ValueError(f"Layer {layer.name!r} is built already; plan the weights of an unbuilt copy")
    planned = {}
    try:
        for leaf in leaves:
            planned[id(leaf)] = {}
            leaf.add_weight = _weight_recorder(leaf, planned[id(leaf)])
        layer.build(tuple(input_shape))
        return [(stored, planned[id(leaf)][name])
                for stored, (leaf, name) in zip(layer.weight_names, layer._weight_slots())]
    finally:
        for leaf in leaves:
            leaf.__dict__.pop("add_weight", None)
            leaf._params, leaf._grads, leaf._regularizers, leaf._non_trainable = {}, {}, {}, set()
            leaf.built, leaf.input_shape = False, None


def layer_tree(layer):
    """The layer and every layer it wraps, at any depth."""
    found = [layer]
    for inner in layer._sublayers():
        found.extend(layer_tree(inner))
    return found


def _weight_recorder(layer, shapes):
    """An `add_weight` for `layer` that writes each weight's shape into `shapes` and allocates nothing."""

    def add_weight(name, shape, initializer="zeros", regularizer=None, trainable=True):
        shape = tuple(int(n) for n in shape)
        shapes[name] = shape
        layer._params[name] = placeholder = _placeholder(shape, layer.dtype)
        return placeholder

    return add_weight


def _placeholder(shape, dtype):
    """A writeable array of `shape` over one element (strides 0); a shape numpy cannot index at all (more
    bytes than an address space) gets one of ones instead: only the recorded shape is compared."""
    element = np.zeros(1, dtype)
    try:
        return as_strided(element, shape=shape, strides=(0,) * len(shape), writeable=True)
    except ValueError:
        return as_strided(element, shape=(1,) * len(shape), strides=(0,) * len(shape), writeable=True)


class KernelAndBias:
    """Keras's `kernel` and `bias` attributes, and their creation, for layers that have both (Dense,
    Conv1D, LSTM): the weights themselves live in `_params` like every layer's."""

    def _add_kernel_and_bias(self, kernel_shape, bias_size):
        self.add_weight("kernel", kernel_shape, self.kernel_initializer, self.kernel_regularizer)
        if self.use_bias:
            return self.add_weight("bias", (bias_size,), self.bias_initializer, self.bias_regularizer)
        return None

    @property
    def kernel(self):
        return self._params["kernel"]

    @property
    def bias(self):
        return self._params.get("bias")


class InputLayer(Layer):
    """Declares the shape of one sample; Sequential builds from it at once.

    `Input(shape=(10, 1))` as the first item of a Sequential is the Keras 3 way
    of saying `input_shape=(10, 1)` on the first layer.
    """

    def __init__(self, shape=None, batch_size=None, dtype=None, name=None, input_shape=None):
        shape = shape if shape is not None else input_shape
        if shape is None:
            raise ValueError("shape must be given, e.g. Input(shape=(10, 1)). Received: shape=None")
        super().__init__(name=name, dtype=dtype, input_shape=shape, batch_size=batch_size)
        self.shape = self._input_shape_arg

    def get_config(self):
        config = {"shape": list(self.shape), "name": self.name}
        if self.batch_size is not None:
            config["batch_size"] = self.batch_size
        if self._explicit_dtype is not None:
            config["dtype"] = self._explicit_dtype
        return config


def Input(shape=None, batch_size=None, dtype=None, name=None):
    """A symbolic input of one sample's `shape`, as `keras.Input`: call layers on it and build
    `lstmcore.Model(inputs, outputs)`; or put it first in a Sequential to declare its input shape.

    `dtype` is a float type, or an integer type ("int32") for token indices fed to an `Embedding`.
    """
    integer = dtype is not None and np.dtype(dtype).kind in "iu"
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=None if integer else dtype, name=name)
    node = symbolic.Node(layer, [], several=False)
    tensor_dtype = np.dtype(dtype).name if integer else layer.dtype
    node.outputs = [symbolic.KerasTensor((batch_size,) + tuple(layer.shape), tensor_dtype, node, name=layer.name)]
    symbolic.record_call(layer, node)
    return node.outputs[0]

"""Concatenate, Add and Multiply: layers with several inputs.

The merge contract (see `lstmcore.layers.base`): `build` and
`compute_output_shape` take a list of shapes, `forward` a list of arrays and
`lengths` as a list (one entry per input, None allowed) or one array shared by
all, and `backward(grad)` returns one gradient per input, in input order.
Where inputs carry lengths, a merged step is real only where it is real in
every input (Keras combines the masks with a logical and): the output
lengths are the shortest per sequence.
"""
from __future__ import annotations

import numpy as np

from .base import Layer
from .steps import merged_lengths

__all__ = ["Concatenate", "Add", "Multiply"]


def _unbroadcast(grad, shape):
    """Sum grad down to `shape`, undoing NumPy broadcasting (size-1 axes)."""
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, size in enumerate(shape) if size == 1 and grad.shape[i] != 1)
    return grad.sum(axis=axes, keepdims=True) if axes else grad


class _Merge(Layer):
    """Shared by the merge layers: lists of inputs, shapes and lengths."""

    def _check_inputs(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
            received = f"a list of {len(inputs)}" if isinstance(inputs, (list, tuple)) else type(inputs).__name__
            raise ValueError(f"{type(self).__name__} {self.name!r} expects a list of at least 2 inputs. "
                             f"Received: {received}")
        return list(inputs)

    def build(self, input_shape):
        shapes = [tuple(shape) for shape in self._check_inputs(input_shape)]
        self.compute_output_shape(shapes)
        self.input_shape = shapes
        self.built = True

    def _maybe_build(self, input_shape):
        if not self.built:
            self.build(input_shape)

    def __call__(self, inputs, training=False, lengths=None, **kwargs):
        """Run the layer on a list of batches, building it first if needed (no cache is kept)."""
        arrays = [np.ascontiguousarray(x, dtype=self.dtype) for x in self._check_inputs(inputs)]
        self._maybe_build([(None,) + x.shape[1:] for x in arrays])
        return self.forward(arrays, training=training, lengths=lengths, keep_cache=False, **kwargs)

    def output_lengths(self, lengths):
        return merged_lengths(lengths)


class _ElementwiseMerge(_Merge):
    """Add and Multiply: inputs of one shape (or broadcastable to it, as in Keras)."""

    def compute_output_shape(self, input_shape):
        shapes = [tuple(shape) for shape in self._check_inputs(input_shape)]
        rank = max(len(s) for s in shapes)
        padded = [(1,) * (rank - len(s)) + s for s in shapes]
        out = []
        for sizes in zip(*padded):
            known = {s for s in sizes if s not in (None, 1)}
            if len(known) > 1:
                raise ValueError(f"{type(self).__name__} {self.name!r} needs inputs of the same shape "
                                 f"(or broadcastable). Received: shapes {shapes}")
            out.append(known.pop() if known else (None if None in sizes else 1))
        return tuple(out)

    def forward(self, inputs, training=False, lengths=None, keep_cache=None):
        keep_cache = training if keep_cache is None else keep_cache
        inputs = self._check_inputs(inputs)
        self.compute_output_shape([x.shape for x in inputs])
        out = self._combine(inputs)
        self._cache = inputs if keep_cache else None
        return out

    def backward(self, grad):
        inputs, self._cache = self._cache, None
        return [_unbroadcast(part, x.shape) for part, x in zip(self._input_gradients(inputs, grad), inputs)]


class Add(_ElementwiseMerge):
    """The sum of its inputs (a list of arrays of one shape), as keras.layers.Add."""

    def _combine(self, inputs):
        out = inputs[0] + inputs[1]
        for x in inputs[2:]:
            out = out + x
        return out

    def _input_gradients(self, inputs, grad):
        return [grad] * len(inputs)


class Multiply(_ElementwiseMerge):
    """The elementwise product of its inputs (a list of arrays of one shape), as keras.layers.Multiply."""

    def _combine(self, inputs):
        out = inputs[0] * inputs[1]
        for x in inputs[2:]:
            out = out * x
        return out

    def _input_gradients(self, inputs, grad):
        grads = []
        for i in range(len(inputs)):
            part = grad
            for j, x in enumerate(inputs):
                if j != i:
                    part = part * x
            grads.append(part)
        return grads


class Concatenate(_Merge):
    """Join its inputs along `axis` (default -1, the features), as keras.layers.Concatenate.

    Args:
        axis: the axis to join along (not the batch axis); the other axes must match.

    Joining along the step axis (axis=1) takes no lengths: padding would land
    between the parts.
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise ValueError(f"axis must be an integer. Received: axis={axis!r}")
        self.axis = int(axis)

    def _axis_for(self, rank):
        axis = self.axis + rank if self.axis < 0 else self.axis
        if not 1 <= axis < rank:
            raise ValueError(f"Concatenate {self.name!r}: axis={self.axis} is not a non-batch axis of "
                             f"inputs of rank {rank}")
        return axis

    def compute_output_shape(self, input_shape):
        shapes = [tuple(shape) for shape in self._check_inputs(input_shape)]
        rank = len(shapes[0])
        axis = self._axis_for(rank)
        for shape in shapes[1:]:
            if len(shape) != rank or any(a != b and None not in (a, b)
                                         for i, (a, b) in enumerate(zip(shape, shapes[0])) if i != axis):
                raise ValueError(f"Concatenate {self.name!r} needs inputs whose shapes match except on axis "
                                 f"{self.axis}. Received: shapes {shapes}")
        sizes = [shape[axis] for shape in shapes]
        joined = None if None in sizes else sum(sizes)
        first = shapes[0]
        return first[:axis] + (joined,) + first[axis + 1:]

    def forward(self, inputs, training=False, lengths=None, keep_cache=None):
        keep_cache = training if keep_cache is None else keep_cache
        inputs = self._check_inputs(inputs)
        self.compute_output_shape([x.shape for x in inputs])
        axis = self._axis_for(inputs[0].ndim)
        if axis == 1 and inputs[0].ndim >= 3 and merged_lengths(lengths) is not None:
            raise ValueError(f"Concatenate {self.name!r} joins along the step axis, which takes no lengths: "
                             "padding would fall between the parts. Received: lengths")
        self._cache = ([x.shape[axis] for x in inputs], axis) if keep_cache else None
        return np.concatenate(inputs, axis=axis)

    def backward(self, grad):
        sizes, axis = self._cache
        self._cache = None
        return [np.ascontiguousarray(part) for part in np.split(grad, np.cumsum(sizes)[:-1], axis=axis)]

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config

"""Flatten, Reshape, Permute and RepeatVector: layers that only move values around.

Lengths: a layer that keeps the step axis first (Reshape to the same number
of steps, Permute with dims[0] == 1) passes them on.  One that mixes the
steps into other axes (Flatten, other Reshapes and Permutes) zeroes the
padded steps first, so a sequence's result is what it gives padded with
zeros, and ends the lengths (the next layer sees whole samples).
"""
from __future__ import annotations

import math

import numpy as np

from .base import Layer, check_positive_int
from .convolutional import check_channels_last
from .steps import step_mask

__all__ = ["Flatten", "Reshape", "Permute", "RepeatVector"]


class Flatten(Layer):
    """(batch, d1, d2, ...) -> (batch, d1 * d2 * ...), as keras.layers.Flatten.

    Args:
        data_format: None or 'channels_last' only.

    With lengths the padded steps enter as zeros, and the output has no lengths.
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = check_channels_last(data_format)

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(s is None for s in rest) else int(math.prod(rest))
        return (input_shape[0], size)

    def output_lengths(self, lengths):
        return None

    def forward(self, x, training=False, lengths=None, keep_cache=None):
        keep_cache = training if keep_cache is None else keep_cache
        mask = step_mask(x, lengths)
        self._cache = (x.shape, mask) if keep_cache else None
        if mask is not None:
            x = x * mask
        return x.reshape(x.shape[0], -1)

    def backward(self, grad):
        shape, mask = self._cache
        self._cache = None
        d_x = grad.reshape(shape)
        return d_x if mask is None else d_x * mask

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


def _resolve_shape(target, size, name):
    """target_shape with its -1 filled in for `size` values per sample (size None: left as None)."""
    if size is None or -1 not in target:
        return target
    known = int(math.prod(s for s in target if s != -1))
    if known == 0 or size % known:
        raise ValueError(f"Reshape {name!r} cannot reshape {size} values per sample to {target}")
    return tuple(size // known if s == -1 else s for s in target)


class Reshape(Layer):
    """Reshape each sample to `target_shape` (the batch axis is kept), as keras.layers.Reshape.

    Args:
        target_shape: tuple of positive ints; one entry may be -1 (inferred).

    Lengths pass through when the first axis keeps the number of steps;
    otherwise the padded steps enter as zeros and the output has no lengths.
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        try:
            shape = tuple(int(s) for s in target_shape)
        except (TypeError, ValueError):
            raise ValueError("target_shape must be a tuple of positive integers (one may be -1). "
                             f"Received: target_shape={target_shape!r}") from None
        if any(s < 1 and s != -1 for s in shape) or shape.count(-1) > 1:
            raise ValueError("target_shape must be a tuple of positive integers (one may be -1). "
                             f"Received: target_shape={target_shape!r}")
        self.target_shape = shape
        self._keeps_steps = False

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(s is None for s in rest) else int(math.prod(rest))
        target = _resolve_shape(self.target_shape, size, self.name)
        return (input_shape[0],) + tuple(None if s == -1 else s for s in target)

    def output_lengths(self, lengths):
        return lengths if self._keeps_steps else None

    def forward(self, x, training=False, lengths=None, keep_cache=None):
        keep_cache = training if keep_cache is None else keep_cache
        target = _resolve_shape(self.target_shape, int(math.prod(x.shape[1:])), self.name)
        if math.prod(target) != math.prod(x.shape[1:]):
            raise ValueError(f"Reshape {self.name!r} cannot reshape samples of shape {x.shape[1:]} "
                             f"to target_shape={self.target_shape}")
        self._keeps_steps = x.ndim >= 3 and len(target) >= 2 and target[0] == x.shape[1]
        mask = None if self._keeps_steps else step_mask(x, lengths)
        self._cache = (x.shape, mask) if keep_cache else None
        if mask is not None:
            x = x * mask
        return x.reshape((x.shape[0],) + target)

    def backward(self, grad):
        shape, mask = self._cache
        self._cache = None
        d_x = grad.reshape(shape)
        return d_x if mask is None else d_x * mask

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = list(self.target_shape)
        return config


class Permute(Layer):
    """Permute the non-batch axes, as keras.layers.Permute.

    Args:
        dims: a permutation of 1 .. rank-1 (1-indexed; the batch axis stays put),
            e.g. (2, 1) swaps steps and features.

    Lengths pass through when dims[0] == 1 (the steps stay first); otherwise the
    padded steps enter as zeros and the output has no lengths.
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        try:
            dims = tuple(int(d) for d in dims)
        except (TypeError, ValueError):
            raise ValueError(f"dims must be a permutation of 1 .. n. Received: dims={dims!r}") from None
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(f"dims must be a permutation of 1 .. {len(dims)}. Received: dims={dims!r}")
        self.dims = dims

    def compute_output_shape(self, input_shape):
        if len(input_shape) != len(self.dims) + 1:
            raise ValueError(f"Permute {self.name!r} with dims={self.dims} expects inputs of rank "
                             f"{len(self.dims) + 1}. Received: input_shape={tuple(input_shape)}")
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def output_lengths(self, lengths):
        return lengths if self.dims[0] == 1 else None

    def forward(self, x, training=False, lengths=None, keep_cache=None):
        keep_cache = training if keep_cache is None else keep_cache
        self.compute_output_shape(x.shape)
        mask = None if self.dims[0] == 1 else step_mask(x, lengths)
        self._cache = mask if keep_cache else None
        if mask is not None:
            x = x * mask
        return np.ascontiguousarray(x.transpose((0,) + self.dims))

    def backward(self, grad):
        mask, self._cache = self._cache, None
        inverse = np.argsort((0,) + self.dims)
        d_x = np.ascontiguousarray(grad.transpose(inverse))
        return d_x if mask is None else d_x * mask

    def get_config(self):
        config = super().get_config()
        config["dims"] = list(self.dims)
        return config


class RepeatVector(Layer):
    """(batch, features) -> (batch, n, features): the input repeated n times, as keras.layers.RepeatVector.

    The encoder-decoder idiom: an LSTM's last output repeated as the decoder's input sequence.

    Args:
        n: positive int, the number of steps.
    """

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = check_positive_int("n", n)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"RepeatVector {self.name!r} expects input of shape (batch, features). "
                             f"Received: input_shape={tuple(input_shape)}")
        return (input_shape[0], self.n, input_shape[1])

    def output_lengths(self, lengths):
        return None

    def forward(self, x, training=False, lengths=None, keep_cache=None):
        keep_cache = training if keep_cache is None else keep_cache
        self.compute_output_shape(x.shape)
        self._cache = True if keep_cache else None
        return np.ascontiguousarray(np.broadcast_to(x[:, None, :], (x.shape[0], self.n, x.shape[1])))

    def backward(self, grad):
        self._cache = None
        return grad.sum(axis=1)

    def get_config(self):
        config = super().get_config()
        config["n"] = self.n
        return config

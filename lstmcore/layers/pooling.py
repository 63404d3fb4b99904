"""Pooling over steps: global pooling over the real steps of each sequence, and 1-D window pooling.

MaskedGlobalPooling is a sequence classifier's "is it anywhere?".

A bidirectional LSTM that returns its whole output sequence, followed by a
max (or mean) over time, lets a motif at any position raise the score, which
is what binding sites and promoter boxes need; the last state alone has to
carry the evidence through every later step.  Padded steps (past a
sequence's length) never enter the pool, so a variable-length batch gives
the same result as one sequence at a time.
"""
from __future__ import annotations

import numpy as np

from .base import Layer, check_bool
from .convolutional import check_channels_last
from .steps import valid_steps
from .windows import (add_window_gradients, check_int_or_singleton, check_padding, output_lengths,
                      output_steps, pad_steps, padding_amounts, window_view)

__all__ = ["MaskedGlobalPooling", "POOLING_MODES", "GlobalMaxPooling1D", "GlobalAveragePooling1D",
           "MaxPooling1D", "AveragePooling1D"]

POOLING_MODES = ("max", "mean", "max_mean")


class MaskedGlobalPooling(Layer):
    """(batch, steps, features) -> (batch, features) (or 2*features for "max_mean"), over real steps only.

    Args:
        mode: "max" (default), "mean", or "max_mean" (both, concatenated).
    """

    def __init__(self, mode="max", **kwargs):
        super().__init__(**kwargs)
        if mode not in POOLING_MODES:
            raise ValueError(f"mode must be one of {', '.join(POOLING_MODES)}. Received: mode={mode!r}")
        self.mode = mode

    def compute_output_shape(self, input_shape):
        width = input_shape[-1] * (2 if self.mode == "max_mean" else 1)
        return (input_shape[0], width)

    def output_lengths(self, lengths):
        return None

    @staticmethod
    def _valid_steps(x, lengths):
        steps = x.shape[1]
        if lengths is None:
            return np.ones(x.shape[:2], dtype=bool)
        return np.arange(steps)[None, :] < np.asarray(lengths)[:, None]

    def forward(self, x, training=False, lengths=None, keep_cache=None):
        keep_cache = training if keep_cache is None else keep_cache
        valid = self._valid_steps(x, lengths)
        counts = np.maximum(valid.sum(axis=1), 1).astype(x.dtype)[:, None]
        parts, cache = [], {"valid": valid, "counts": counts, "shape": x.shape}
        if self.mode in ("max", "max_mean"):
            masked = np.where(valid[:, :, None], x, -np.inf)
            argmax = masked.argmax(axis=1)                       # (B, F)
            best = np.take_along_axis(x, argmax[:, None, :], axis=1)[:, 0, :]
            best = np.where(valid.any(axis=1)[:, None], best, 0).astype(x.dtype)
            parts.append(best)
            cache["argmax"] = argmax
        if self.mode in ("mean", "max_mean"):
            parts.append((x * valid[:, :, None]).sum(axis=1) / counts)
        self._cache = cache if keep_cache else None
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=-1)

    def backward(self, grad):
        cache, self._cache = self._cache, None
        batch, steps, features = cache["shape"]
        d_x = np.zeros(cache["shape"], dtype=grad.dtype)
        offset = 0
        if "argmax" in cache:
            d_max = grad[:, :features] * cache["valid"].any(axis=1)[:, None]
            np.put_along_axis(d_x, cache["argmax"][:, None, :], d_max[:, None, :], axis=1)
            offset = features
        if self.mode in ("mean", "max_mean"):
            d_mean = grad[:, offset:offset + features] / cache["counts"]
            d_x += d_mean[:, None, :] * cache["valid"][:, :, None]
        return d_x

    def get_config(self):
        config = super().get_config()
        config["mode"] = self.mode
        return config


# ----- Keras's 1-D pooling layers ----------------------------------------------------------------
class _GlobalPooling1D(MaskedGlobalPooling):
    """Keras's global pooling over the steps, mask-aware: with lengths only real steps are pooled."""

    _mode = None

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        kwargs.pop("mode", None)
        super().__init__(mode=self._mode, **kwargs)
        self.data_format = check_channels_last(data_format)
        self.keepdims = check_bool("keepdims", keepdims)

    def compute_output_shape(self, input_shape):
        batch, width = super().compute_output_shape(input_shape)
        return (batch, 1, width) if self.keepdims else (batch, width)

    def forward(self, x, training=False, lengths=None, keep_cache=None):
        if x.ndim != 3:
            raise ValueError(f"{type(self).__name__} {self.name!r} expects input of shape (batch, steps, features). "
                             f"Received: x.shape={x.shape}")
        out = super().forward(x, training=training, lengths=lengths, keep_cache=keep_cache)
        return out[:, None, :] if self.keepdims else out

    def backward(self, grad):
        return super().backward(grad[:, 0, :] if self.keepdims else grad)

    def get_config(self):
        config = super().get_config()
        del config["mode"]
        config.update(data_format=self.data_format, keepdims=self.keepdims)
        return config


class GlobalMaxPooling1D(_GlobalPooling1D):
    """(batch, steps, features) -> (batch, features): the largest value of each feature over the real steps.

    Args:
        keepdims: default False; True keeps the step axis: (batch, 1, features).
        data_format: None or 'channels_last' only.

    With lengths, steps past a sequence's length are left out (a sequence of
    length 0 gives zeros).
    """

    _mode = "max"


class GlobalAveragePooling1D(_GlobalPooling1D):
    """(batch, steps, features) -> (batch, features): the mean of each feature over the real steps.

    Args:
        keepdims: default False; True keeps the step axis: (batch, 1, features).
        data_format: None or 'channels_last' only.

    With lengths, the mean runs over each sequence's real steps only, as
    Keras's does with a mask.
    """

    _mode = "mean"


def _keep_first_winners(winners):
    """Clear, in place, every True of the (batch, windows, pool_size, channels) mask after the first
    along the window's steps (axis 2): ties go to the first step, as argmax and PyTorch send them.

    A running "already won" mask, one step at a time: a step wins only if it equals the maximum and
    no earlier step did (`hit > seen` is `hit and not seen`).  Ties are common (a ReLU before the
    pooling zeroes whole windows), so this always runs; each step touches only batch * windows *
    channels booleans.
    """
    seen = winners[:, :, 0].copy()
    for step in range(1, winners.shape[2]):
        hit = winners[:, :, step]
        np.greater(hit, seen, out=hit)
        np.logical_or(seen, hit, out=seen)


class _Pooling1D(Layer):
    """Windows of `pool_size` steps every `strides` steps, reduced per channel."""

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = check_int_or_singleton("pool_size", pool_size)
        self.strides = check_int_or_singleton("strides", strides, allow_none=True) or self.pool_size
        self.padding = check_padding(padding)
        self.data_format = check_channels_last(data_format)

    def compute_output_shape(self, input_shape):
        steps = output_steps(input_shape[1], self.pool_size, self.strides, self.padding)
        return (input_shape[0], steps) + tuple(input_shape[2:])

    def output_lengths(self, lengths):
        return output_lengths(lengths, self.pool_size, self.strides, self.padding)

    def _layout(self, x, lengths):
        """(left, right, out_steps, real) for x; `real` is the padded (batch, steps) mask of real
        steps, or None when every window is full of real steps."""
        if x.ndim != 3:
            raise ValueError(f"{type(self).__name__} {self.name!r} expects input of shape (batch, steps, channels). "
                             f"Received: x.shape={x.shape}")
        batch, steps, _ = x.shape
        left, right = padding_amounts(steps, self.pool_size, self.strides, self.padding)
        out = output_steps(steps, self.pool_size, self.strides, self.padding)
        if out == 0:
            raise ValueError(f"{type(self).__name__} {self.name!r} needs at least pool_size={self.pool_size} "
                             f"steps with padding='valid'. Received: {steps} steps")
        valid = valid_steps(lengths, batch, steps)
        if valid is None and not left and not right:
            return left, right, out, None
        if valid is None:
            valid = np.ones((1, steps), bool)
        real = np.pad(valid, ((0, 0), (left, right)))
        return left, right, out, real

    def _window_counts(self, real, out):
        """(batch or 1, out_steps, 1) number of real steps in each window."""
        counts = real.astype(np.int64)[:, :, None]
        view = window_view(counts, out, self.pool_size, 1, self.strides)
        return view.sum(axis=2)

    def _scatter(self, tap_gradient, shape, left, right, dtype):
        batch, steps, channels = shape
        d_padded = add_window_gradients(tap_gradient, self.pool_size, (batch, steps + left + right, channels),
                                        dtype, 1, self.strides)
        return np.ascontiguousarray(d_padded[:, left:left + steps])

    def get_config(self):
        config = super().get_config()
        config.update(pool_size=self.pool_size, strides=self.strides, padding=self.padding,
                      data_format=self.data_format)
        return config


class MaxPooling1D(_Pooling1D):
    """The largest value of each channel in windows of `pool_size` steps, as keras.layers.MaxPooling1D.

    Args:
        pool_size: default 2.  strides: default None (= pool_size).
        padding: "valid" (default: only whole windows) or "same" (ceil(steps / strides)
            outputs; padding never wins the max).
        data_format: None or 'channels_last' only.

    Input (batch, steps, channels); output (batch, out_steps, channels).
    Lengths: steps past a sequence's length never enter a window; output lengths
    as Conv1D's with kernel_size = pool_size ("valid": whole windows inside the
    sequence; "same": ceil(L / strides)).  A window with no real step gives 0.
    Ties go to the first step, as in PyTorch.
    """

    def forward(self, x, training=False, lengths=None, keep_cache=None):
        keep_cache = training if keep_cache is None else keep_cache
        left, right, out, real = self._layout(x, lengths)
        if real is None and not left and not right and self.strides == self.pool_size:
            return self._forward_tiled(x, out, keep_cache)
        padded = pad_steps(x, left, right)
        if real is not None:
            padded = np.where(real[:, :, None], padded, -np.inf).astype(x.dtype, copy=False)
        windows = window_view(padded, out, self.pool_size, 1, self.strides)
        argmax = windows.argmax(axis=2)
        best = np.take_along_axis(windows, argmax[:, :, None, :], axis=2)[:, :, 0, :]
        empty = None
        if real is not None:
            empty = self._window_counts(real, out) == 0
            best = np.where(empty, 0, best).astype(x.dtype, copy=False)
        self._cache = (argmax, empty, x.shape, left, right) if keep_cache else None
        return np.ascontiguousarray(best)

    def _forward_tiled(self, x, out, keep_cache):
        """Windows that tile the steps (strides == pool_size, no padding, no lengths): a reshape, and
        NumPy's max along it, instead of an argmax over a strided view (8 % of a DanQ epoch)."""
        tiles = x[:, :out * self.pool_size].reshape(x.shape[0], out, self.pool_size, x.shape[2])
        best = tiles.max(axis=2)
        self._cache = ("tiled", tiles, best, x.shape) if keep_cache else None
        return best

    def _backward_tiled(self, grad):
        """Each window's gradient to its first maximum: an equality mask against the cached maxima,
        cleared after the first winner of each window, times the gradient (written once, no scatter)."""
        _, tiles, best, shape = self._cache
        self._cache = None
        winners = np.equal(tiles, best[:, :, None, :])
        _keep_first_winners(winners)
        d_x = np.empty(shape, grad.dtype)
        covered = tiles.shape[1] * self.pool_size
        d_x[:, covered:] = 0                                         # steps after the last whole window
        np.multiply(winners, grad[:, :, None, :], out=d_x[:, :covered].reshape(tiles.shape))
        return d_x

    def backward(self, grad):
        if isinstance(self._cache[0], str):
            return self._backward_tiled(grad)
        argmax, empty, shape, left, right = self._cache
        self._cache = None
        if empty is not None:
            grad = np.where(empty, 0, grad)
        return self._scatter(lambda tap: np.where(argmax == tap, grad, 0), shape, left, right, grad.dtype)


class AveragePooling1D(_Pooling1D):
    """The mean of each channel in windows of `pool_size` steps, as keras.layers.AveragePooling1D.

    Args:
        pool_size: default 2.  strides: default None (= pool_size).
        padding: "valid" (default) or "same" (the padding is left out of the mean, as in Keras).
        data_format: None or 'channels_last' only.

    Lengths: the mean of a window runs over its real steps only; output lengths
    as MaxPooling1D's.  A window with no real step gives 0.
    """

    def forward(self, x, training=False, lengths=None, keep_cache=None):
        keep_cache = training if keep_cache is None else keep_cache
        left, right, out, real = self._layout(x, lengths)
        if real is None:
            scale = np.asarray(1.0 / self.pool_size, x.dtype)
            padded = x
        else:
            scale = (1.0 / np.maximum(self._window_counts(real, out), 1)).astype(x.dtype)
            padded = pad_steps(x, left, right) * real[:, :, None].astype(x.dtype)
        windows = window_view(padded, out, self.pool_size, 1, self.strides)
        result = windows.sum(axis=2) * scale
        self._cache = (scale, real, x.shape, left, right) if keep_cache else None
        return result

    def backward(self, grad):
        scale, real, shape, left, right = self._cache
        self._cache = None
        d_window = grad * scale
        d_x = self._scatter(lambda tap: d_window, shape, left, right, grad.dtype)
        if real is not None:
            d_x *= real[:, left:left + shape[1], None]
        return d_x

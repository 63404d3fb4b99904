"""Sliding windows over the step axis: padding arithmetic, window views and their gradients.

Conv1D and the 1-D pooling layers slide a window of `span` input steps
(kernel_size, or (kernel_size - 1) * dilation_rate + 1 with dilation) along
the steps with a stride.  Padding follows Keras (TensorFlow's rules):

- "valid": no padding; out = (steps - span) // stride + 1.
- "same": out = ceil(steps / stride); the total padding
  max((out - 1) * stride + span - steps, 0) is split with the smaller half
  on the left (left = total // 2).
- "causal" (Conv1D only): span - 1 steps on the left, none on the right, so
  output t sees inputs up to step t * stride.

The windows are a strided view of the padded array (no copy); their
gradients are added back one tap at a time (a loop over the window's taps,
never over the batch or the steps).
"""
from __future__ import annotations

import numpy as np

__all__ = ["check_padding", "padding_amounts", "output_steps", "output_lengths", "pad_steps",
           "window_view", "add_window_gradients", "add_tap_gradients", "check_int_or_singleton"]

FEW_CHANNELS = 8   # up to this many channels add_tap_gradients sums channels first (from 16 that is slower)


def check_int_or_singleton(name, value, allow_none=False):
    """A positive int from an int or a one-element tuple/list (Keras accepts both)."""
    if value is None and allow_none:
        return None
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer or a tuple of one. Received: {name}={value!r}")
    return int(value)


def check_padding(padding, allowed=("valid", "same")):
    """The padding name, lower-cased, if it is one of `allowed`."""
    name = padding.lower() if isinstance(padding, str) else padding
    if name not in allowed:
        raise ValueError(f"padding must be one of {', '.join(repr(a) for a in allowed)}. "
                         f"Received: padding={padding!r}")
    return name


def padding_amounts(steps, span, stride, padding):
    """(left, right) padding steps for windows of `span` steps every `stride` steps."""
    if padding == "valid":
        return 0, 0
    if padding == "causal":
        return span - 1, 0
    out = -(-steps // stride)
    total = max((out - 1) * stride + span - steps, 0)
    return total // 2, total - total // 2


def output_steps(steps, span, stride, padding):
    """Number of output steps for `steps` input steps (None stays None)."""
    if steps is None:
        return None
    left, right = padding_amounts(steps, span, stride, padding)
    return max((steps + left + right - span) // stride + 1, 0)


def output_lengths(lengths, span, stride, padding):
    """Real output lengths of sequences of `lengths` real steps (None stays None).

    "valid": the windows that lie wholly inside the sequence,
    max((length - span) // stride + 1, 0), exactly what the sequence alone gives.
    "same" / "causal": ceil(length / stride), the outputs whose step
    t * stride lies inside the sequence (with stride 1: the lengths themselves).
    """
    if lengths is None:
        return None
    lengths = np.asarray(lengths, dtype=np.int64)
    if padding == "valid":
        return np.maximum((lengths - span) // stride + 1, 0)
    return -(-lengths // stride)


def pad_steps(x, left, right, value=0.0):
    """x (batch, steps, channels) with `left` / `right` steps of `value` added (x itself if none)."""
    if not left and not right:
        return x
    return np.pad(x, ((0, 0), (left, right), (0, 0)), constant_values=value)


def window_view(padded, out_steps, taps, dilation, stride):
    """Read-only (batch, out_steps, taps, channels) view: window t, tap j is step t * stride + j * dilation."""
    batch, _, channels = padded.shape
    s_batch, s_step, s_channel = padded.strides
    return np.lib.stride_tricks.as_strided(
        padded, (batch, out_steps, taps, channels),
        (s_batch, s_step * stride, s_step * dilation, s_channel), writeable=False)


def add_window_gradients(tap_gradient, taps, padded_shape, dtype, dilation, stride):
    """Sum per-window gradients back onto the padded steps (col2im).

    tap_gradient(j) gives the (batch, out_steps, channels) gradient of tap j
    of every window; returns the (batch, padded_steps, channels) gradient.
    """
    grad = np.zeros(padded_shape, dtype)
    for tap in range(taps):
        part = tap_gradient(tap)
        if part.shape[1] == 0:
            break
        start = tap * dilation
        grad[:, start:start + stride * (part.shape[1] - 1) + 1:stride] += part
    return grad


def add_tap_gradients(d_taps, padded_shape, dilation, stride):
    """col2im of an im2col product: sum the (batch, out_steps, taps, channels) window gradients
    back onto the padded steps; returns the (batch, padded_steps, channels) gradient, maybe a view.

    Each step's terms are added in tap order, as add_window_gradients does, so the sums are the
    same to the bit.  A tap's slice holds runs of only `channels` contiguous numbers, and NumPy's
    add pays a fixed cost per run: with few channels (one-hot DNA has 4) the sum runs instead in
    a (channels, batch, steps) buffer, where a run is a whole sequence, and is transposed back
    once.  With more channels the runs are long already, and that layout would be the slow one.
    """
    batch, steps, channels = padded_shape
    taps = d_taps.shape[2]
    if channels > FEW_CHANNELS:
        return add_window_gradients(lambda tap: d_taps[:, :, tap], taps, padded_shape, d_taps.dtype,
                                    dilation, stride)
    by_channel = np.zeros((channels, batch, steps), d_taps.dtype)
    last = stride * (d_taps.shape[1] - 1) + 1
    for tap in range(taps):
        start = tap * dilation
        by_channel[:, :, start:start + last:stride] += np.moveaxis(d_taps[:, :, tap], 2, 0)
    return by_channel.transpose(1, 2, 0)

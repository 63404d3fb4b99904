"""The functional LSTM: argument checks once, then one call into native code.

`lstm_forward` runs one LSTM layer, one direction, over a whole batch of
sequences; `lstm_backward` returns the gradients of every input.  The exact
semantics (gate equations, lengths, reverse direction) are specified by the
NumPy reference in `lstmcore._reference`, which the tests hold this module to.

Layout is Keras's: x is batch-major (B, T, D); kernel (D, 4H),
recurrent_kernel (H, 4H), bias (4H,), gate order i, f, c, o.
"""
from __future__ import annotations

import functools

import numpy as np

from . import _threads
from ._lstm_types import LSTMForward, LSTMGradients
from ._native import dispatch
from .precision import check_precision

__all__ = ["lstm_forward", "lstm_backward", "LSTMForward", "LSTMGradients"]

_DTYPES = (np.float32, np.float64)


def _require_array(name, value, dtype, shape):
    """Check an array argument's type, dtype, shape and contiguity; return it."""
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray. Received: {name} of type {type(value).__name__}")
    if value.dtype != dtype:
        raise ValueError(f"{name} must have dtype {np.dtype(dtype).name}, like x. Received: {name}.dtype={value.dtype}")
    if value.shape != shape:
        raise ValueError(f"{name} must have shape {shape}. Received: {name}.shape={value.shape}")
    if not value.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous (use np.ascontiguousarray). Received: a strided view")
    return value


def _has_even_rows(value):
    """Whether a (B, T, H) array's rows are contiguous and evenly spaced, as the kernel
    reads and writes outputs: C-contiguous, or a slice of the last axis of one (one
    direction's half of a Bidirectional layer's (B, T, 2H) buffer)."""
    batch, steps, units = value.shape
    batch_stride, step_stride, unit_stride = value.strides
    row_stride = step_stride if steps > 1 else (batch_stride if batch > 1 else units * value.itemsize)
    return value.size == 0 or (
        unit_stride == value.itemsize and row_stride >= units * value.itemsize
        and (batch <= 1 or steps <= 1 or batch_stride == steps * step_stride))


def _require_rows(name, value, dtype, shape):
    """Check an outputs-shaped argument: like _require_array, but a view whose rows are
    contiguous and evenly spaced will do (see _has_even_rows)."""
    if not isinstance(value, np.ndarray) or value.dtype != dtype or value.shape != shape:
        return _require_array(name, value, dtype, shape)
    if not _has_even_rows(value):
        raise ValueError(f"{name} must have contiguous, evenly spaced rows (a C-contiguous array, "
                         f"or a slice of its last axis). Received: strides={value.strides}")
    return value


def as_output_rows(array, dtype):
    """`array` as lstm_backward's d_outputs takes it: itself when its dtype and row layout
    already do, else a C-contiguous copy (layers call this instead of np.ascontiguousarray,
    which would copy each half of a Bidirectional layer's gradient)."""
    array = np.asarray(array)
    if array.dtype == dtype and array.ndim == 3 and _has_even_rows(array):
        return array
    return np.ascontiguousarray(array, dtype=dtype)


def _check_lengths(lengths, batch, steps):
    """Validate a lengths vector and return it as int64, or None for full length."""
    if lengths is None:
        return None
    lengths = np.asarray(lengths)
    if lengths.shape != (batch,):
        raise ValueError(f"lengths must have shape ({batch},), one per sequence. Received: lengths.shape={lengths.shape}")
    if lengths.dtype.kind not in "iu":
        raise ValueError(f"lengths must hold integers. Received: lengths.dtype={lengths.dtype}")
    bad = np.nonzero((lengths < 0) | (lengths > steps))[0]
    if bad.size:
        k = int(bad[0])
        raise ValueError(f"lengths must lie in [0, {steps}]. Received: lengths[{k}]={int(lengths[k])}")
    return lengths.astype(np.int64)


@functools.lru_cache(maxsize=64)
def _full_length_order(batch, steps):
    """(order, sorted lengths) of a batch without lengths, read-only and shared between calls:
    a training loop calls with the same shapes every batch, and at the seed size these two
    small arrays cost a few percent of the call."""
    order = np.arange(batch, dtype=np.int64)
    sorted_lengths = np.full(batch, steps, np.int64)
    order.flags.writeable = sorted_lengths.flags.writeable = False
    return order, sorted_lengths


def _call_threads(threads):
    """The thread count of one call: `threads`, or the library's setting."""
    if threads is None:
        return _threads.get_num_threads()
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive integer or None. Received: threads={threads!r}")
    return threads


class _Cache:
    """What the native backward needs from a training forward, nothing more."""

    __slots__ = ("x", "kernel", "recurrent_kernel", "has_bias", "order", "sorted_lengths",
                 "reverse", "gates", "cells", "hiddens", "x_steps", "h0", "c0")


def _check_forward_arrays(x, kernel, recurrent_kernel, bias, h0, c0, out):
    """Every array argument of lstm_forward checked against x; returns (batch, steps, units)."""
    x_dtype = getattr(x, "dtype", None)
    if not isinstance(x, np.ndarray) or x.ndim != 3:
        raise ValueError(f"x must be a 3-D array (batch, steps, features). Received: x.shape={getattr(x, 'shape', None)}")
    if x_dtype not in _DTYPES:
        raise ValueError(f"x must have dtype float32 or float64. Received: x.dtype={x_dtype}")
    batch, steps, features = x.shape
    if features < 1:
        raise ValueError(f"x must have at least one feature. Received: x.shape={x.shape}")
    _require_array("x", x, x_dtype, x.shape)
    if not isinstance(recurrent_kernel, np.ndarray) or recurrent_kernel.ndim != 2 or recurrent_kernel.shape[0] < 1:
        raise ValueError(f"recurrent_kernel must be a 2-D array (units, 4*units). Received: recurrent_kernel.shape={getattr(recurrent_kernel, 'shape', None)}")
    units = recurrent_kernel.shape[0]
    _require_array("kernel", kernel, x_dtype, (features, 4 * units))
    _require_array("recurrent_kernel", recurrent_kernel, x_dtype, (units, 4 * units))
    if bias is not None:
        _require_array("bias", bias, x_dtype, (4 * units,))
    for name, state in (("h0", h0), ("c0", c0)):
        if state is not None:
            _require_array(name, state, x_dtype, (batch, units))
    if out is not None:
        _require_rows("out", out, x_dtype, (batch, steps, units))
        if not out.flags.writeable:
            raise ValueError("out must be writeable. Received: a read-only array")
        if np.may_share_memory(out, x):
            raise ValueError("out must not overlap x: the kernel reads x while it writes out")
    return batch, steps, units


# The bfloat16 product rounds a block of h rows on the stack (lstm_gemm_bf16.h, LC_BF16_MAX_K).
BFLOAT16_MAX_UNITS = 16384


def _check_precision(precision, x, recurrent_kernel, training) -> bool:
    """True for the bfloat16 path, after checking that it applies to this call."""
    check_precision(precision)
    if precision == "float32":
        return False
    if x.dtype != np.float32:
        raise ValueError(f"precision='bfloat16' needs float32 inputs; received {x.dtype}")
    if training:
        raise ValueError("precision='bfloat16' is for inference; training runs in the inputs' dtype")
    if max(recurrent_kernel.shape[0], x.shape[2]) > BFLOAT16_MAX_UNITS:
        raise ValueError(f"precision='bfloat16' supports up to {BFLOAT16_MAX_UNITS} units and input features; "
                         f"this layer has {recurrent_kernel.shape[0]} units and {x.shape[2]} features")
    return True


def lstm_forward(x, kernel, recurrent_kernel, bias=None, *, h0=None, c0=None,
                 lengths=None, reverse=False, training=False, threads=None,
                 out=None, precision="float32") -> LSTMForward:
    """Run one LSTM layer over a batch of sequences in native code.

    Args:
        x: (B, T, D) float32 or float64, C-contiguous.
        kernel: (D, 4H); recurrent_kernel: (H, 4H); bias: (4H,) or None.
        h0, c0: (B, H) initial state, zeros when None.
        lengths: (B,) integers in [0, T], any order; None means every sequence has T steps.
        reverse: visit each sequence backwards inside its own length; outputs are
            written at the position consumed, so they line up with the forward direction.
        training: keep what `lstm_backward` needs (returned as `cache`).
        threads: native threads for this call; None means `lstmcore.get_num_threads()`.
        out: (B, T, H) array to write the outputs into instead of a new one; C-contiguous,
            or a slice of the last axis of a wider array, e.g. ``both[..., :H]`` and
            ``both[..., H:]`` of a (B, T, 2H) buffer hold the two directions of a
            bidirectional layer with no concatenation.  Returned as `outputs`.
        precision: "float32", or "bfloat16" for float32 inference with the recurrent
            product's operands (the recurrent kernel and each step's h), and for inputs wider
            than 16 features the input projection's (x and kernel), rounded to bfloat16, with
            float32 sums, state and gates: half the weights' bytes, and AVX512-BF16
            instructions where the CPU has them (elsewhere the same rounding, emulated, at
            float32 speed).  Opt-in: outputs move by about 1e-3 (docs/precision.md).

    Returns:
        LSTMForward(outputs (B, T, H), h_n (B, H), c_n (B, H), cache or None).
    """
    batch, steps, _ = _check_forward_arrays(x, kernel, recurrent_kernel, bias, h0, c0, out)
    bfloat16 = _check_precision(precision, x, recurrent_kernel, training)
    lengths = _check_lengths(lengths, batch, steps)
    if lengths is None:
        order, sorted_lengths = _full_length_order(batch, steps)
    else:
        order = np.argsort(-lengths, kind="stable").astype(np.int64)
        sorted_lengths = np.ascontiguousarray(lengths[order])
    with _threads.blas_pinned():
        outputs, h_n, c_n, state = dispatch.active().forward(
            x, kernel, recurrent_kernel, bias, h0, c0, order, sorted_lengths,
            bool(reverse), bool(training), _call_threads(threads), out, bfloat16)
    cache = None
    if training:
        cache = _Cache()
        cache.x, cache.kernel, cache.recurrent_kernel = x, kernel, recurrent_kernel
        cache.has_bias, cache.order, cache.sorted_lengths = bias is not None, order, sorted_lengths
        cache.reverse = bool(reverse)
        cache.gates, cache.cells, cache.hiddens, cache.x_steps, cache.h0, cache.c0 = state
    return LSTMForward(outputs, h_n, c_n, cache)


def lstm_backward(cache, d_outputs=None, d_h_n=None, d_c_n=None, *,
                  retain_cache=False, threads=None, initial_state_gradients=True) -> LSTMGradients:
    """Gradients of a scalar loss w.r.t. every input of a training `lstm_forward`.

    Args:
        cache: the `cache` of an `lstm_forward(..., training=True)` result.  It is
            consumed (the gate buffer becomes the gate gradients, which saves a
            buffer the size of the cache) unless `retain_cache=True`.
        d_outputs: (B, T, H) gradient w.r.t. outputs, or None for zeros; C-contiguous or
            a slice of the last axis of a wider array (see lstm_forward's `out`).
        d_h_n, d_c_n: (B, H) gradients w.r.t. the final state, or None for zeros.
        threads: native threads for this call; None means `lstmcore.get_num_threads()`.
        initial_state_gradients: False when nothing needs d_h0 and d_c0 (a layer whose
            initial state is not an input): they are returned as None, and the last step's
            product (into d_h0) is skipped, one of T steps' products.

    Returns:
        LSTMGradients(d_x, d_kernel, d_recurrent_kernel, d_bias or None, d_h0, d_c0).
    """
    if not isinstance(cache, _Cache):
        raise TypeError("cache must be the cache of lstm_forward(..., training=True). "
                        f"Received: cache of type {type(cache).__name__}")
    if cache.gates is None:
        raise ValueError("cache was already consumed by an earlier lstm_backward call; run the forward again")
    x = cache.x
    batch, steps, _ = x.shape
    units = cache.recurrent_kernel.shape[0]
    if d_outputs is not None:
        _require_rows("d_outputs", d_outputs, x.dtype, (batch, steps, units))
    if d_h_n is not None:
        _require_array("d_h_n", d_h_n, x.dtype, (batch, units))
    if d_c_n is not None:
        _require_array("d_c_n", d_c_n, x.dtype, (batch, units))
    gates = cache.gates.copy() if retain_cache else cache.gates
    with _threads.blas_pinned():
        grads = dispatch.active().backward(
            x, cache.kernel, cache.recurrent_kernel, cache.order, cache.sorted_lengths,
            cache.reverse, gates, cache.cells, cache.hiddens, cache.x_steps,
            cache.h0, cache.c0, d_outputs, d_h_n, d_c_n, _call_threads(threads),
            bool(initial_state_gradients))
    if not retain_cache:
        cache.gates = None
    d_x, d_kernel, d_rkernel, d_bias, d_h0, d_c0 = grads
    return LSTMGradients(d_x, d_kernel, d_rkernel, d_bias if cache.has_bias else None, d_h0, d_c0)

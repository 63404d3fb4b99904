"""A plain NumPy LSTM: the executable specification of the native kernel.

Same contract as `lstmcore.ops.lstm_forward` / `lstm_backward`, written for
clarity rather than speed.  Tests use it as the oracle; the native path never
falls back to it.

Gate equations (Keras layout; gate order i, f, c, o along the 4*H axis)::

    z   = x_t @ kernel + h_{t-1} @ recurrent_kernel + bias
    i   = sigmoid(z[:, 0H:1H])      input gate
    f   = sigmoid(z[:, 1H:2H])      forget gate
    g   = tanh   (z[:, 2H:3H])      candidate cell
    o   = sigmoid(z[:, 3H:4H])      output gate
    c_t = f * c_{t-1} + i * g
    h_t = o * tanh(c_t)

Lengths: sequence b is processed over its first `lengths[b]` positions only.
Forward it visits positions 0, 1, ..., L-1; with `reverse=True` it visits
L-1, ..., 0, and the output of each step is written at the position it
consumed (so both directions of a Bidirectional layer line up).  Positions
past the length have zero output; the final state is the state after the
last visited step.
"""
from __future__ import annotations

import numpy as np

from ._lstm_types import LSTMForward, LSTMGradients


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _visit_positions(lengths, step, reverse):
    """Rows active at `step`, and the position each of them consumes."""
    active = np.nonzero(lengths > step)[0]
    positions = lengths[active] - 1 - step if reverse else np.full(active.size, step)
    return active, positions


def lstm_forward(x, kernel, recurrent_kernel, bias=None, h0=None, c0=None,
                 lengths=None, reverse=False, training=False):
    """Run one LSTM layer over a batch; see the module docstring for the contract."""
    batch, steps, _ = x.shape
    units = recurrent_kernel.shape[0]
    dtype = x.dtype
    lengths = np.full(batch, steps, np.int64) if lengths is None else np.asarray(lengths, np.int64)
    h = np.zeros((batch, units), dtype) if h0 is None else np.array(h0, dtype)
    c = np.zeros((batch, units), dtype) if c0 is None else np.array(c0, dtype)
    h_init, c_init = h.copy(), c.copy()
    bias_row = np.zeros(4 * units, dtype) if bias is None else bias
    outputs = np.zeros((batch, steps, units), dtype)
    tape = []
    for step in range(int(lengths.max(initial=0))):
        rows, pos = _visit_positions(lengths, step, reverse)
        z = x[rows, pos] @ kernel + h[rows] @ recurrent_kernel + bias_row
        i = _sigmoid(z[:, :units])
        f = _sigmoid(z[:, units:2 * units])
        g = np.tanh(z[:, 2 * units:3 * units])
        o = _sigmoid(z[:, 3 * units:])
        c_prev, h_prev = c[rows].copy(), h[rows].copy()
        c[rows] = f * c_prev + i * g
        h[rows] = o * np.tanh(c[rows])
        outputs[rows, pos] = h[rows]
        tape.append((rows, pos, i, f, g, o, c_prev, h_prev, c[rows].copy()))
    cache = None
    if training:
        cache = dict(x=x, kernel=kernel, recurrent_kernel=recurrent_kernel,
                     has_bias=bias is not None, tape=tape, h0=h_init, c0=c_init)
    return LSTMForward(outputs, h, c, cache)


def lstm_backward(cache, d_outputs=None, d_h_n=None, d_c_n=None):
    """Gradients of a loss given its gradients w.r.t. outputs, h_n and c_n."""
    x, kernel, rkernel = cache["x"], cache["kernel"], cache["recurrent_kernel"]
    batch, _, _ = x.shape
    units = rkernel.shape[0]
    dtype = x.dtype
    d_x = np.zeros_like(x)
    d_kernel = np.zeros_like(kernel)
    d_rkernel = np.zeros_like(rkernel)
    d_bias = np.zeros(4 * units, dtype)
    dh = np.zeros((batch, units), dtype) if d_h_n is None else np.array(d_h_n, dtype)
    dc = np.zeros((batch, units), dtype) if d_c_n is None else np.array(d_c_n, dtype)
    for rows, pos, i, f, g, o, c_prev, h_prev, c_new in reversed(cache["tape"]):
        dh_step = dh[rows] + (0.0 if d_outputs is None else d_outputs[rows, pos])
        tanh_c = np.tanh(c_new)
        dc_step = dc[rows] + dh_step * o * (1.0 - tanh_c ** 2)
        dz = np.concatenate([
            dc_step * g * i * (1.0 - i),
            dc_step * c_prev * f * (1.0 - f),
            dc_step * i * (1.0 - g ** 2),
            dh_step * tanh_c * o * (1.0 - o),
        ], axis=1)
        x_step = x[rows, pos]
        d_x[rows, pos] = dz @ kernel.T
        d_kernel += x_step.T @ dz
        d_rkernel += h_prev.T @ dz
        d_bias += dz.sum(axis=0)
        dh[rows] = dz @ rkernel.T
        dc[rows] = dc_step * f
    return LSTMGradients(d_x, d_kernel, d_rkernel,
                         d_bias if cache["has_bias"] else None, dh, dc)

"""The native kernel against torch.nn.LSTM with converted weights."""
from __future__ import annotations

import numpy as np
import pytest

from lstmcore import ops
from kernel_cases import TOLERANCE, varied_lengths

torch = pytest.importorskip("torch")
DTYPES = {np.float32: torch.float32, np.float64: torch.float64}


def keras_weights(lstm, suffix=""):
    """Our layout from a torch.nn.LSTM: transpose, and one bias = b_ih + b_hh."""
    weight_ih = getattr(lstm, f"weight_ih_l0{suffix}").detach().numpy()
    weight_hh = getattr(lstm, f"weight_hh_l0{suffix}").detach().numpy()
    bias = (getattr(lstm, f"bias_ih_l0{suffix}") + getattr(lstm, f"bias_hh_l0{suffix}")).detach().numpy()
    return (np.ascontiguousarray(weight_ih.T), np.ascontiguousarray(weight_hh.T),
            np.ascontiguousarray(bias))


def torch_lstm(features, units, dtype, bidirectional=False, seed=0):
    torch.manual_seed(seed)
    return torch.nn.LSTM(features, units, batch_first=True, bidirectional=bidirectional,
                         dtype=DTYPES[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_forward_and_backward_match_torch(dtype):
    batch, steps, features, units = 8, 12, 3, 16
    lstm = torch_lstm(features, units, dtype)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, steps, features)).astype(dtype)
    h0 = rng.standard_normal((batch, units)).astype(dtype)
    c0 = rng.standard_normal((batch, units)).astype(dtype)
    grad = rng.standard_normal((batch, steps, units)).astype(dtype)

    x_t = torch.tensor(x, requires_grad=True)
    h0_t = torch.tensor(h0[None], requires_grad=True)
    c0_t = torch.tensor(c0[None], requires_grad=True)
    out_t, (hn_t, cn_t) = lstm(x_t, (h0_t, c0_t))
    (out_t * torch.tensor(grad)).sum().backward()

    kernel, rkernel, bias = keras_weights(lstm)
    result = ops.lstm_forward(x, kernel, rkernel, bias, h0=h0, c0=c0, training=True)
    tol = TOLERANCE[dtype]
    np.testing.assert_allclose(result.outputs, out_t.detach().numpy(), **tol)
    np.testing.assert_allclose(result.h_n, hn_t[0].detach().numpy(), **tol)
    np.testing.assert_allclose(result.c_n, cn_t[0].detach().numpy(), **tol)

    grads = ops.lstm_backward(result.cache, grad)
    np.testing.assert_allclose(grads.d_x, x_t.grad.numpy(), **tol)
    np.testing.assert_allclose(grads.d_kernel, lstm.weight_ih_l0.grad.numpy().T, **tol)
    np.testing.assert_allclose(grads.d_recurrent_kernel, lstm.weight_hh_l0.grad.numpy().T, **tol)
    np.testing.assert_allclose(grads.d_bias, lstm.bias_ih_l0.grad.numpy(), **tol)
    np.testing.assert_allclose(grads.d_h0, h0_t.grad[0].numpy(), **tol)
    np.testing.assert_allclose(grads.d_c0, c0_t.grad[0].numpy(), **tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_variable_lengths_both_directions_match_torch_packed_sequences(dtype):
    batch, steps, features, units = 7, 10, 3, 8
    lengths = varied_lengths(batch, steps)
    lengths[lengths == 0] = 1          # torch's packing rejects empty sequences
    lstm = torch_lstm(features, units, dtype, bidirectional=True)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((batch, steps, features)).astype(dtype)
    grad = rng.standard_normal((batch, steps, 2 * units)).astype(dtype)
    for b, length in enumerate(lengths):
        grad[b, length:] = 0

    x_t = torch.tensor(x, requires_grad=True)
    packed = torch.nn.utils.rnn.pack_padded_sequence(x_t, torch.tensor(lengths), batch_first=True,
                                                     enforce_sorted=False)
    out_packed, (hn_t, cn_t) = lstm(packed)
    out_t, _ = torch.nn.utils.rnn.pad_packed_sequence(out_packed, batch_first=True, total_length=steps)
    (out_t * torch.tensor(grad)).sum().backward()

    tol = TOLERANCE[dtype]
    d_x = np.zeros_like(x)
    for direction, suffix, reverse in ((0, "", False), (1, "_reverse", True)):
        kernel, rkernel, bias = keras_weights(lstm, suffix)
        result = ops.lstm_forward(x, kernel, rkernel, bias, lengths=lengths, reverse=reverse,
                                  training=True)
        half = slice(direction * units, (direction + 1) * units)
        np.testing.assert_allclose(result.outputs, out_t[:, :, half].detach().numpy(), **tol)
        np.testing.assert_allclose(result.h_n, hn_t[direction].detach().numpy(), **tol)
        np.testing.assert_allclose(result.c_n, cn_t[direction].detach().numpy(), **tol)
        grads = ops.lstm_backward(result.cache, np.ascontiguousarray(grad[:, :, half]))
        np.testing.assert_allclose(grads.d_kernel, getattr(lstm, f"weight_ih_l0{suffix}").grad.numpy().T, **tol)
        np.testing.assert_allclose(grads.d_recurrent_kernel,
                                   getattr(lstm, f"weight_hh_l0{suffix}").grad.numpy().T, **tol)
        np.testing.assert_allclose(grads.d_bias, getattr(lstm, f"bias_hh_l0{suffix}").grad.numpy(), **tol)
        d_x += grads.d_x
    np.testing.assert_allclose(d_x, x_t.grad.numpy(), **tol)

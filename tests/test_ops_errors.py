"""Every bad argument to the functional layer raises one error that names it."""
from __future__ import annotations

import numpy as np
import pytest

from lstmcore import ops
from kernel_cases import forward_args, make_problem


def base():
    return make_problem(3, 5, 2, 4, np.float32)


def call(**changes):
    problem = base()
    problem.update(changes)
    args, kwargs = forward_args(problem)
    return ops.lstm_forward(*args, **kwargs)


BAD = {
    "x-not-3d": (dict(x=np.zeros((3, 5), np.float32)), ValueError, r"x must be a 3-D array .* Received: x.shape=\(3, 5\)"),
    "x-integer": (dict(x=np.zeros((3, 5, 2), np.int32)), ValueError, r"x must have dtype float32 or float64. Received: x.dtype=int32"),
    "x-not-array": (dict(x=[[[1.0]]]), ValueError, r"x must be a 3-D array"),
    "x-strided": (dict(x=np.zeros((3, 10, 2), np.float32)[:, ::2]), ValueError, r"x must be C-contiguous"),
    "kernel-shape": (dict(kernel=np.zeros((3, 16), np.float32)), ValueError, r"kernel must have shape \(2, 16\). Received: kernel.shape=\(3, 16\)"),
    "kernel-dtype": (dict(kernel=np.zeros((2, 16), np.float64)), ValueError, r"kernel must have dtype float32, like x. Received: kernel.dtype=float64"),
    "recurrent-not-square": (dict(recurrent_kernel=np.zeros((4, 12), np.float32)), ValueError, r"recurrent_kernel must have shape \(4, 16\)"),
    "bias-shape": (dict(bias=np.zeros(15, np.float32)), ValueError, r"bias must have shape \(16,\). Received: bias.shape=\(15,\)"),
    "h0-shape": (dict(h0=np.zeros((2, 4), np.float32)), ValueError, r"h0 must have shape \(3, 4\). Received: h0.shape=\(2, 4\)"),
    "c0-type": (dict(c0=[[0.0] * 4] * 3), TypeError, r"c0 must be a numpy.ndarray. Received: c0 of type list"),
    "lengths-too-long": (dict(lengths=np.array([5, 250, 1])), ValueError, r"lengths must lie in \[0, 5\]. Received: lengths\[1\]=250"),
    "lengths-negative": (dict(lengths=np.array([-1, 2, 1])), ValueError, r"lengths must lie in \[0, 5\]. Received: lengths\[0\]=-1"),
    "lengths-shape": (dict(lengths=np.array([1, 2])), ValueError, r"lengths must have shape \(3,\), one per sequence. Received: lengths.shape=\(2,\)"),
    "lengths-float": (dict(lengths=np.array([1.0, 2.0, 3.0])), ValueError, r"lengths must hold integers. Received: lengths.dtype=float64"),
}


@pytest.mark.parametrize("change,error,message", BAD.values(), ids=BAD.keys())
def test_bad_argument_raises_named_error(change, error, message):
    with pytest.raises(error, match=message):
        call(**change)


def test_backward_rejects_a_foreign_cache_and_wrong_gradient_shapes():
    with pytest.raises(TypeError, match="cache must be the cache of lstm_forward"):
        ops.lstm_backward({"gates": None})
    problem = base()
    args, kwargs = forward_args(problem)
    result = ops.lstm_forward(*args, **kwargs, training=True)
    with pytest.raises(ValueError, match=r"d_outputs must have shape \(3, 5, 4\)"):
        ops.lstm_backward(result.cache, np.zeros((3, 5, 3), np.float32))
    with pytest.raises(ValueError, match=r"d_h_n must have dtype float32"):
        ops.lstm_backward(result.cache, None, np.zeros((3, 4), np.float64))


def test_zero_features_are_rejected():
    with pytest.raises(ValueError, match=r"x must have at least one feature. Received: x.shape=\(3, 5, 0\)"):
        ops.lstm_forward(np.zeros((3, 5, 0), np.float32), np.zeros((0, 16), np.float32),
                         np.zeros((4, 16), np.float32))

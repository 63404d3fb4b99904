"""Shared builders for the kernel tests: random problems with fixed seeds."""
from __future__ import annotations

import numpy as np

TOLERANCE = {np.float32: dict(rtol=2e-4, atol=2e-5), np.float64: dict(rtol=1e-9, atol=1e-10)}


def make_problem(batch=5, steps=7, features=3, units=4, dtype=np.float64, seed=0,
                 lengths=None, initial_state=False, scale=0.5):
    """A dict of random LSTM inputs in Keras layout (kernel (D,4H), recurrent (H,4H), bias (4H,))."""
    rng = np.random.default_rng(seed)

    def rand(*shape):
        return (rng.standard_normal(shape) * scale).astype(dtype)

    problem = dict(x=rand(batch, steps, features), kernel=rand(features, 4 * units),
                   recurrent_kernel=rand(units, 4 * units), bias=rand(4 * units))
    if initial_state:
        problem.update(h0=rand(batch, units), c0=rand(batch, units))
    if lengths is not None:
        problem["lengths"] = np.asarray(lengths, np.int64)
    return problem


def varied_lengths(batch, steps, seed=1):
    """Unsorted lengths covering 0, 1 and the full length."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, steps + 1, batch)
    lengths[: min(3, batch)] = [steps, 0, 1][: min(3, batch)]
    return rng.permutation(lengths)


def upstream_gradients(problem, seed=2):
    """Random gradients of a loss w.r.t. outputs, h_n and c_n."""
    rng = np.random.default_rng(seed)
    batch, steps, _ = problem["x"].shape
    units = problem["recurrent_kernel"].shape[0]
    dtype = problem["x"].dtype
    return (rng.standard_normal((batch, steps, units)).astype(dtype),
            rng.standard_normal((batch, units)).astype(dtype),
            rng.standard_normal((batch, units)).astype(dtype))


def forward_args(problem):
    args = (problem["x"], problem["kernel"], problem["recurrent_kernel"], problem["bias"])
    kwargs = {k: problem[k] for k in ("h0", "c0", "lengths") if k in problem}
    return args, kwargs

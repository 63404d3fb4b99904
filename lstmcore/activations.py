"""Activation functions with their backward passes.

Each activation has `forward(z) -> a` and `backward(a, grad) -> grad wrt z`,
written in terms of the output `a` so layers keep a single array for the
backward pass.  Functions may work in place on arrays the caller owns.
"""
from __future__ import annotations

import numpy as np

from ._native import dispatch

__all__ = ["get", "serialize", "Activation", "linear", "relu", "sigmoid", "tanh", "softmax"]


class Activation:
    """An elementwise (or last-axis, for softmax) nonlinearity with its derivative."""

    name = "activation"

    def forward(self, z):
        """Activate `z`; may overwrite `z`, which the caller owns."""
        raise NotImplementedError

    def backward(self, a, grad):
        """Gradient w.r.t. the input, given the output `a` and the gradient w.r.t. it."""
        raise NotImplementedError

    def __call__(self, z):
        return self.forward(np.array(z, copy=True))

    def __repr__(self):
        return self.name


class Linear(Activation):
    name = "linear"

    def forward(self, z):
        return z

    def backward(self, a, grad):
        return grad


class ReLU(Activation):
    name = "relu"

    def forward(self, z):
        return np.maximum(z, 0, out=z)

    def backward(self, a, grad):
        return grad * (a > 0)


class Sigmoid(Activation):
    name = "sigmoid"

    def forward(self, z):
        # 1 / (1 + exp(-z)) without overflow warnings for large negative z.
        np.negative(z, out=z)
        np.clip(z, -88.0 if z.dtype == np.float32 else -709.0, None, out=z)
        np.exp(z, out=z)
        z += 1.0
        return np.reciprocal(z, out=z)

    def backward(self, a, grad):
        return grad * a * (1.0 - a)


class Tanh(Activation):
    name = "tanh"

    def forward(self, z):
        return np.tanh(z, out=z)

    def backward(self, a, grad):
        return grad * (1.0 - a * a)


def last_axis_sum(values):
    """Sum over the last axis, keeping it (as size 1).

    float32 through the native kernels' in-order sum (the same bits on every CPU, where a BLAS
    product sums in its kernel's order); float64 through a BLAS product with ones: NumPy's
    reduction over a short last axis (a few classes) costs a loop per row, a matrix-vector
    product does the same sum at memory speed.
    """
    if values.dtype == np.float32 and values.ndim >= 1 and values.shape[-1] > 0:
        flat = np.ascontiguousarray(values).reshape(-1, values.shape[-1])
        out = np.empty(flat.shape[0], np.float32)
        dispatch.active().last_axis_sums_f32(flat, out)
        return out.reshape(values.shape[:-1] + (1,))
    ones = np.ones(values.shape[-1], values.dtype)
    return np.dot(values, ones)[..., None]


def last_axis_max(values):
    """Maximum over the last axis (kept as size 1); a column loop when the axis is short."""
    width = values.shape[-1]
    if width > 16:
        return values.max(axis=-1, keepdims=True)
    result = values[..., 0].copy()
    for column in range(1, width):
        np.maximum(result, values[..., column], out=result)
    return result[..., None]


class Softmax(Activation):
    """Softmax over the last axis."""

    name = "softmax"

    def forward(self, z):
        z -= last_axis_max(z)
        np.exp(z, out=z)
        z /= last_axis_sum(z)
        return z

    def backward(self, a, grad):
        inner = last_axis_sum(grad * a)
        return a * (grad - inner)


_BY_NAME = {cls.name: cls() for cls in (Linear, ReLU, Sigmoid, Tanh, Softmax)}
linear, relu, sigmoid, tanh, softmax = (_BY_NAME[n] for n in ("linear", "relu", "sigmoid", "tanh", "softmax"))


def get(identifier, argument="activation"):
    """An Activation from None (linear), a name, or an Activation instance."""
    if identifier is None:
        return linear
    if isinstance(identifier, Activation):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]
    known = ", ".join(sorted(_BY_NAME))
    raise ValueError(f"{argument} must be None or one of: {known}. Received: {argument}={identifier!r}")


def serialize(activation):
    return activation.name

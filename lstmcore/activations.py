"""Activation functions with their backward passes.

Each activation has `forward(z) -> a` and `backward(a, grad) -> grad wrt z`,
written in terms of the output `a` so layers keep a single array for the
backward pass.  Functions may work in place on arrays the caller owns.
"""
from __future__ import annotations

import numpy as np

from ._native import dispatch

__all__ = ["get", "serialize", "Activation", "linear", "relu", "sigmoid", "tanh", "softmax", "elu", "selu",
           "softplus", "softsign", "leaky_relu", "relu6", "hard_sigmoid", "exponential"]


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


class ELU(Activation):
    """Keras's elu: z for z > 0, alpha (exp(z) - 1) below, alpha = 1; derivative a + alpha below."""

    name, alpha, scale = "elu", 1.0, 1.0

    def forward(self, z):
        z[...] = np.where(z > 0, z, self.alpha * np.expm1(np.minimum(z, 0)))
        if self.scale != 1.0:
            z *= self.scale
        return z

    def backward(self, a, grad):
        return grad * np.where(a > 0, self.scale, a + self.scale * self.alpha)


class SELU(ELU):
    """Keras's selu: scale * elu(z, alpha) with the self-normalising constants."""

    name, alpha, scale = "selu", 1.67326324235437728481, 1.05070098735548049342


class Softplus(Activation):
    """log(1 + exp(z)); its derivative, the sigmoid of z, is 1 - exp(-a)."""

    name = "softplus"

    def forward(self, z):
        return np.logaddexp(0, z, out=z)

    def backward(self, a, grad):
        return grad * -np.expm1(-a)


class Softsign(Activation):
    """z / (1 + |z|); derivative 1 / (1 + |z|)^2 = (1 - |a|)^2."""

    name = "softsign"

    def forward(self, z):
        return np.divide(z, 1 + np.abs(z), out=z)

    def backward(self, a, grad):
        return grad * np.square(1 - np.abs(a))


class LeakyReLU(Activation):
    """Keras 3's leaky_relu: z for z > 0, 0.2 z below."""

    name, negative_slope = "leaky_relu", 0.2

    def forward(self, z):
        return np.multiply(z, np.where(z > 0, 1.0, self.negative_slope).astype(z.dtype), out=z)

    def backward(self, a, grad):
        return grad * np.where(a > 0, 1.0, self.negative_slope)


class ReLU6(Activation):
    name = "relu6"

    def forward(self, z):
        return np.clip(z, 0, 6, out=z)

    def backward(self, a, grad):
        return grad * ((a > 0) & (a < 6))


class HardSigmoid(Activation):
    """Keras 3's hard_sigmoid, relu6(z + 3) / 6 (Keras 2's was clip(0.2 z + 0.5, 0, 1))."""

    name = "hard_sigmoid"

    def forward(self, z):
        z /= 6.0
        z += 0.5
        return np.clip(z, 0, 1, out=z)

    def backward(self, a, grad):
        return grad * (((a > 0) & (a < 1)) / 6.0)


class Exponential(Activation):
    name = "exponential"

    def forward(self, z):
        return np.exp(z, out=z)

    def backward(self, a, grad):
        return grad * a


# Keras activations whose derivative is not a function of the output (they are not monotonic), so a
# layer that keeps only its output cannot train through them.
_NEEDS_THE_INPUT = ("gelu", "silu", "swish", "mish", "log_softmax")

_BY_NAME = {cls.name: cls() for cls in (Linear, ReLU, Sigmoid, Tanh, Softmax, ELU, SELU, Softplus, Softsign,
                                        LeakyReLU, ReLU6, HardSigmoid, Exponential)}
linear, relu, sigmoid, tanh, softmax = (_BY_NAME[n] for n in ("linear", "relu", "sigmoid", "tanh", "softmax"))
elu, selu, softplus, softsign, leaky_relu, relu6, hard_sigmoid, exponential = (
    _BY_NAME[n] for n in ("elu", "selu", "softplus", "softsign", "leaky_relu", "relu6", "hard_sigmoid", "exponential"))


def get(identifier, argument="activation"):
    """An Activation from None (linear), a name, or an Activation instance."""
    if identifier is None:
        return linear
    if isinstance(identifier, Activation):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]
    known = ", ".join(sorted(_BY_NAME))
    if isinstance(identifier, str) and identifier.lower() in _NEEDS_THE_INPUT:
        raise ValueError(f"{argument}={identifier!r} is not supported: its derivative needs the layer's input, "
                         f"and lstmcore's layers keep their output for the backward pass; one of: {known}")
    raise ValueError(f"{argument} must be None or one of: {known}. Received: {argument}={identifier!r}")


def serialize(activation):
    return activation.name

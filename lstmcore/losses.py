"""Losses with Keras's names, formulas and reduction, each with its gradient.

A loss maps (y_true, y_pred) to one value per sample (per step, for sequence
outputs): `values(y_true, y_pred)` has shape y_pred.shape[:-1].  The model
reduces them Keras's way ("sum over batch size"): the weighted sum divided by
the number of values, where padded steps of a sequence output are left out of
both.  `gradient(y_true, y_pred)` is d values / d y_pred, so the model's
gradient is `weights[..., None] * gradient / count`.

Look one up by name with `get("mse")`; names resolve through
`lstmcore.registry.losses`, which plugins extend.
"""
from __future__ import annotations

import numpy as np

from . import registry
from .activations import last_axis_max, last_axis_sum

__all__ = ["Loss", "MeanSquaredError", "MeanAbsoluteError", "Huber", "BinaryCrossentropy",
           "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "Poisson", "get",
           "serialize", "BUILTIN_LOSSES", "EPSILON"]

EPSILON = 1e-7  # Keras's backend.epsilon()


def _softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=-1, keepdims=True)
    return shifted


def _softmax_fast(logits):
    shifted = logits - last_axis_max(logits)
    np.exp(shifted, out=shifted)
    shifted /= last_axis_sum(shifted)
    return shifted


def _sigmoid(z):
    return 0.5 * (np.tanh(0.5 * z) + 1.0)


class Loss:
    """Base class.  Subclasses implement `values` and `gradient`."""

    name = "loss"

    def values(self, y_true, y_pred):
        raise NotImplementedError

    def gradient(self, y_true, y_pred):
        raise NotImplementedError

    def prepare_target(self, y_true, y_pred_shape, dtype):
        """Bring targets to the dtype and rank the formulas expect (done once per fit)."""
        y_true = np.asarray(y_true, dtype=dtype)
        if y_true.ndim == len(y_pred_shape) - 1 and y_pred_shape[-1] == 1:
            y_true = y_true[..., None]
        return y_true

    def __call__(self, y_true, y_pred, sample_weight=None):
        """The reduced loss, as `keras.losses.Loss.__call__` returns it."""
        y_pred = np.asarray(y_pred, dtype=np.result_type(np.asarray(y_pred).dtype, np.float32))
        y_true = self.prepare_target(y_true, y_pred.shape, y_pred.dtype)
        values = self.values(y_true, y_pred)
        if sample_weight is not None:
            values = values * np.broadcast_to(
                np.asarray(sample_weight, values.dtype).reshape(
                    np.shape(sample_weight) + (1,) * (values.ndim - np.ndim(sample_weight))), values.shape)
        return float(values.sum() / max(values.size, 1))

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class MeanSquaredError(Loss):
    """mean((y_true - y_pred)**2) over the last axis."""

    name = "mean_squared_error"

    def values(self, y_true, y_pred):
        diff = y_pred - y_true
        return np.square(diff).mean(axis=-1)

    def gradient(self, y_true, y_pred):
        return (y_pred - y_true) * (2.0 / y_pred.shape[-1])


class MeanAbsoluteError(Loss):
    """mean(|y_true - y_pred|) over the last axis."""

    name = "mean_absolute_error"

    def values(self, y_true, y_pred):
        return np.abs(y_pred - y_true).mean(axis=-1)

    def gradient(self, y_true, y_pred):
        return np.sign(y_pred - y_true) * (1.0 / y_pred.shape[-1])


class Huber(Loss):
    """0.5 e**2 where |e| <= delta, delta (|e| - 0.5 delta) elsewhere; mean over the last axis."""

    name = "huber"

    def __init__(self, delta=1.0):
        if isinstance(delta, bool) or not isinstance(delta, (int, float)) or delta <= 0:
            raise ValueError(f"delta must be a positive number. Received: delta={delta!r}")
        self.delta = float(delta)

    def values(self, y_true, y_pred):
        error = np.abs(y_pred - y_true)
        quadratic = np.minimum(error, self.delta)
        return (0.5 * quadratic * quadratic + self.delta * (error - quadratic)).mean(axis=-1)

    def gradient(self, y_true, y_pred):
        error = y_pred - y_true
        return np.clip(error, -self.delta, self.delta) * (1.0 / y_pred.shape[-1])

    def get_config(self):
        return {"delta": self.delta}


class _Probabilistic(Loss):
    def __init__(self, from_logits=False, label_smoothing=0.0):
        if not isinstance(from_logits, bool):
            raise ValueError(f"from_logits must be True or False. Received: from_logits={from_logits!r}")
        if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float)) \
                or not 0 <= label_smoothing <= 1:
            raise ValueError(f"label_smoothing must be a number in [0, 1]. "
                             f"Received: label_smoothing={label_smoothing!r}")
        self.from_logits, self.label_smoothing = from_logits, float(label_smoothing)

    def get_config(self):
        return {"from_logits": self.from_logits, "label_smoothing": self.label_smoothing}


class BinaryCrossentropy(_Probabilistic):
    """-(y log p + (1 - y) log(1 - p)), p clipped to [eps, 1 - eps]; mean over the last axis."""

    name = "binary_crossentropy"

    def _smooth(self, y_true):
        if self.label_smoothing:
            return y_true * (1.0 - self.label_smoothing) + 0.5 * self.label_smoothing
        return y_true

    def values(self, y_true, y_pred):
        y_true = self._smooth(y_true)
        if self.from_logits:
            # log(1 + exp(-|z|)) + max(z, 0) - y z, stable for any z.
            z = y_pred
            return (np.maximum(z, 0) - z * y_true + np.log1p(np.exp(-np.abs(z)))).mean(axis=-1)
        p = np.clip(y_pred, EPSILON, 1.0 - EPSILON)
        return -(y_true * np.log(p) + (1.0 - y_true) * np.log(1.0 - p)).mean(axis=-1)

    def gradient(self, y_true, y_pred):
        y_true = self._smooth(y_true)
        scale = 1.0 / y_pred.shape[-1]
        if self.from_logits:
            return (_sigmoid(y_pred) - y_true) * scale
        inside = (y_pred > EPSILON) & (y_pred < 1.0 - EPSILON)
        p = np.clip(y_pred, EPSILON, 1.0 - EPSILON)
        return ((p - y_true) / (p * (1.0 - p))) * inside * scale


class CategoricalCrossentropy(_Probabilistic):
    """-sum(y log p) over classes (last axis); probabilities renormalised and clipped as Keras."""

    name = "categorical_crossentropy"

    def _smooth(self, y_true):
        if self.label_smoothing:
            classes = y_true.shape[-1]
            return y_true * (1.0 - self.label_smoothing) + self.label_smoothing / classes
        return y_true

    def values(self, y_true, y_pred):
        y_true = self._smooth(y_true)
        if self.from_logits:
            shifted = y_pred - y_pred.max(axis=-1, keepdims=True)
            log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
            return -(y_true * log_p).sum(axis=-1)
        p = y_pred / y_pred.sum(axis=-1, keepdims=True)
        p = np.clip(p, EPSILON, 1.0 - EPSILON)
        return -(y_true * np.log(p)).sum(axis=-1)

    def gradient(self, y_true, y_pred):
        y_true = self._smooth(y_true)
        if self.from_logits:
            return _softmax(y_pred) * y_true.sum(axis=-1, keepdims=True) - y_true
        total = y_pred.sum(axis=-1, keepdims=True)
        p = y_pred / total
        inside = (p > EPSILON) & (p < 1.0 - EPSILON)
        d_p = -y_true / np.clip(p, EPSILON, 1.0 - EPSILON) * inside
        # p = y_pred / total: d p_j / d y_k = (delta_jk - p_j) / total
        return (d_p - (d_p * p).sum(axis=-1, keepdims=True)) / total


class SparseCategoricalCrossentropy(Loss):
    """Categorical crossentropy with integer class targets (shape y_pred.shape[:-1], or with a trailing 1)."""

    name = "sparse_categorical_crossentropy"

    def __init__(self, from_logits=False):
        if not isinstance(from_logits, bool):
            raise ValueError(f"from_logits must be True or False. Received: from_logits={from_logits!r}")
        self.from_logits = from_logits
        self._dense = CategoricalCrossentropy(from_logits=from_logits)

    def prepare_target(self, y_true, y_pred_shape, dtype):
        y_true = np.asarray(y_true)
        if y_true.ndim == len(y_pred_shape) and y_true.shape[-1] == 1:
            y_true = y_true[..., 0]
        if y_true.shape != tuple(y_pred_shape[:-1]) and None not in y_pred_shape[:-1]:
            raise ValueError(f"y must hold one class index per prediction, shape {tuple(y_pred_shape[:-1])}. "
                             f"Received: y.shape={y_true.shape}")
        classes = y_pred_shape[-1]
        if y_true.size and (y_true.min() < 0 or y_true.max() >= classes):
            raise ValueError(f"y must hold class indices in [0, {classes}). "
                             f"Received: a value {y_true.min() if y_true.min() < 0 else y_true.max()}")
        return y_true.astype(np.intp)

    # Written on the true class's entry directly: no one-hot array, one pass per term.
    def _log_softmax_true(self, y_true, logits):
        shifted = logits - last_axis_max(logits)
        log_total = np.log(last_axis_sum(np.exp(shifted)))[..., 0]
        return np.take_along_axis(shifted, y_true[..., None], axis=-1)[..., 0] - log_total

    def values(self, y_true, y_pred):
        if self.from_logits:
            return -self._log_softmax_true(y_true, y_pred)
        total = last_axis_sum(y_pred)[..., 0]
        p_true = np.take_along_axis(y_pred, y_true[..., None], axis=-1)[..., 0] / total
        return -np.log(np.clip(p_true, EPSILON, 1.0 - EPSILON))

    def gradient(self, y_true, y_pred):
        index = y_true[..., None]
        if self.from_logits:
            grad = _softmax_fast(y_pred)
            np.put_along_axis(grad, index, np.take_along_axis(grad, index, axis=-1) - 1.0, axis=-1)
            return grad
        # loss = -log(y_t / S): d/dy_k = 1/S - [k == t] / y_t, zero where the clip is active.
        total = last_axis_sum(y_pred)
        y_t = np.take_along_axis(y_pred, index, axis=-1)
        p_t = y_t / total
        inside = ((p_t > EPSILON) & (p_t < 1.0 - EPSILON)).astype(y_pred.dtype)
        grad = np.broadcast_to(inside / total, y_pred.shape).copy()
        np.put_along_axis(grad, index, np.take_along_axis(grad, index, axis=-1) - inside / y_t, axis=-1)
        return grad

    def get_config(self):
        return {"from_logits": self.from_logits}


class Poisson(Loss):
    """mean(y_pred - y_true * log(y_pred + eps)) over the last axis, for counts."""

    name = "poisson"

    def values(self, y_true, y_pred):
        return (y_pred - y_true * np.log(y_pred + EPSILON)).mean(axis=-1)

    def gradient(self, y_true, y_pred):
        return (1.0 - y_true / (y_pred + EPSILON)) * (1.0 / y_pred.shape[-1])


BUILTIN_LOSSES = {
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "huber": Huber, "huber_loss": Huber,
    "binary_crossentropy": BinaryCrossentropy, "bce": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "poisson": Poisson,
}


def get(identifier, argument="loss"):
    """A Loss from an instance, a Loss subclass, or a name registered in `registry.losses`."""
    return registry.resolve(registry.losses, identifier, Loss, argument, "mse")


def serialize(loss):
    """JSON-able description: the registered name and the config."""
    name = getattr(loss, "registered_name", None) or loss.name
    return {"name": name, "config": loss.get_config()}


def deserialize(spec):
    cls_or_obj = registry.losses.get(spec["name"])
    loss = cls_or_obj.from_config(spec.get("config", {})) if isinstance(cls_or_obj, type) else cls_or_obj
    loss.registered_name = spec["name"]
    return loss

"""LayerNormalization (per sample: the usual remedy for activations that drift over long sequences)
and BatchNormalization (per feature over the batch, with moving statistics for inference)."""
from __future__ import annotations

import numpy as np

from .. import initializers, regularizers
from .base import Layer, check_bool, column_sums
from .steps import step_mask

__all__ = ["LayerNormalization", "BatchNormalization"]


class LayerNormalization(Layer):
    """Normalise each sample (each step, on 3-D input) over its features.

    `y = gamma * (x - mean) / sqrt(var + epsilon) + beta`, statistics over the
    last axis.

    Args:
        axis: -1 (default; the only axis supported).
        epsilon: default 1e-3 (Keras's default).
        center: default True: learn `beta`.  scale: default True: learn `gamma`.
        beta_initializer: 'zeros'; gamma_initializer: 'ones'.
        beta_regularizer, gamma_regularizer: None (default) or a regularizer.
    """

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        if axis not in (-1, [-1], (-1,)):
            raise ValueError(f"axis must be -1 (the feature axis). Received: axis={axis!r}")
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or epsilon <= 0:
            raise ValueError(f"epsilon must be a positive number. Received: epsilon={epsilon!r}")
        self.axis, self.epsilon = -1, float(epsilon)
        self.center = check_bool("center", center)
        self.scale = check_bool("scale", scale)
        self.beta_initializer = initializers.get(beta_initializer, "beta_initializer")
        self.gamma_initializer = initializers.get(gamma_initializer, "gamma_initializer")
        self.beta_regularizer = regularizers.get(beta_regularizer, "beta_regularizer")
        self.gamma_regularizer = regularizers.get(gamma_regularizer, "gamma_regularizer")

    def build(self, input_shape):
        features = int(input_shape[-1])
        if self.scale:
            self.add_weight("gamma", (features,), self.gamma_initializer, self.gamma_regularizer)
        if self.center:
            self.add_weight("beta", (features,), self.beta_initializer, self.beta_regularizer)
        super().build(input_shape)

    def forward(self, x, training=False, lengths=None, keep_cache=None):
        keep_cache = training if keep_cache is None else keep_cache
        mean = x.mean(axis=-1, keepdims=True)
        centered = x - mean
        inv_std = 1.0 / np.sqrt((centered * centered).mean(axis=-1, keepdims=True) + self.epsilon)
        normed = centered * inv_std
        self._cache = (normed, inv_std) if keep_cache else None
        out = normed * self._params["gamma"] if self.scale else normed.copy()
        if self.center:
            out += self._params["beta"]
        return out

    def backward(self, grad):
        normed, inv_std = self._cache
        self._cache = None
        features = normed.shape[-1]
        if self.center:
            column_sums(grad.reshape(-1, features), out=self._grads["beta"])
        if self.scale:
            column_sums((grad * normed).reshape(-1, features), out=self._grads["gamma"])
            d_normed = grad * self._params["gamma"]
        else:
            d_normed = grad
        mean_d = d_normed.mean(axis=-1, keepdims=True)
        mean_dn = (d_normed * normed).mean(axis=-1, keepdims=True)
        return inv_std * (d_normed - mean_d - normed * mean_dn)

    def get_config(self):
        config = super().get_config()
        config.update(axis=self.axis, epsilon=self.epsilon, center=self.center, scale=self.scale,
                      beta_initializer=initializers.serialize(self.beta_initializer),
                      gamma_initializer=initializers.serialize(self.gamma_initializer),
                      beta_regularizer=regularizers.serialize(self.beta_regularizer),
                      gamma_regularizer=regularizers.serialize(self.gamma_regularizer))
        return config


class BatchNormalization(Layer):
    """Normalise each feature over the batch (and the steps, on 3-D input), as keras.layers.BatchNormalization.

    Training (`fit`): `y = gamma * (x - mean) / sqrt(var + epsilon) + beta` with the
    batch's mean and (biased) variance per feature, and the moving statistics
    follow them: `moving = moving * momentum + batch * (1 - momentum)`.
    Inference (`predict`, `evaluate`): the moving statistics instead.  A layer
    with trainable=False always runs in inference mode, as in Keras 3.

    Lengths: steps past a sequence's length are left out of the batch
    statistics and get no gradient, so padding never changes a real result.

    Args:
        axis: -1 (default; the feature axis, the only one supported).
        momentum: default 0.99.  epsilon: default 1e-3.
        center: default True: learn `beta`.  scale: default True: learn `gamma`.
        beta_initializer 'zeros', gamma_initializer 'ones', moving_mean_initializer 'zeros',
        moving_variance_initializer 'ones'; beta_regularizer, gamma_regularizer: None (default).

    Weights, in Keras order: gamma, beta (trainable), moving_mean, moving_variance
    (non-trainable: saved with the model, never changed by the optimizer).
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 synchronized=False, **kwargs):
        super().__init__(**kwargs)
        if beta_constraint is not None or gamma_constraint is not None:
            raise ValueError("beta_constraint and gamma_constraint are not supported by lstmcore; leave them None")
        self.axis = _feature_axis(axis)
        if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not 0 <= momentum < 1:
            raise ValueError(f"momentum must be a number in [0, 1). Received: momentum={momentum!r}")
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or epsilon <= 0:
            raise ValueError(f"epsilon must be a positive number. Received: epsilon={epsilon!r}")
        self.momentum, self.epsilon = float(momentum), float(epsilon)
        self.center = check_bool("center", center)
        self.scale = check_bool("scale", scale)
        self.synchronized = check_bool("synchronized", synchronized)  # one process: nothing to synchronise
        self.initializers = {name: initializers.get(value, f"{name}_initializer") for name, value in (
            ("gamma", gamma_initializer), ("beta", beta_initializer), ("moving_mean", moving_mean_initializer),
            ("moving_variance", moving_variance_initializer))}
        self.beta_regularizer = regularizers.get(beta_regularizer, "beta_regularizer")
        self.gamma_regularizer = regularizers.get(gamma_regularizer, "gamma_regularizer")

    def build(self, input_shape):
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(f"BatchNormalization {self.name!r} needs a known last input axis. "
                             f"Received: input_shape={tuple(input_shape)}")
        features = (int(input_shape[-1]),)
        if self.scale:
            self.add_weight("gamma", features, self.initializers["gamma"], self.gamma_regularizer)
        if self.center:
            self.add_weight("beta", features, self.initializers["beta"], self.beta_regularizer)
        self.add_weight("moving_mean", features, self.initializers["moving_mean"], trainable=False)
        self.add_weight("moving_variance", features, self.initializers["moving_variance"], trainable=False)
        super().build(input_shape)

    def _real_rows(self, x, lengths):
        """(rows,) 0/1 weights of the flattened rows that are real steps, or None (all real)."""
        mask = step_mask(x, lengths)
        if mask is None:
            return None
        return np.broadcast_to(mask, x.shape[:-1] + (1,)).reshape(-1)

    def _batch_moments(self, flat, rows):
        """Mean and biased variance per feature over the real rows, and their count."""
        count = flat.shape[0] if rows is None else float(rows.sum())
        if count == 0:
            return None, None, 0
        mean = column_sums(flat if rows is None else rows[:, None] * flat) / count
        centered = flat - mean
        squares = centered * centered
        var = column_sums(squares if rows is None else rows[:, None] * squares) / count
        return mean, var, count

    def _follow(self, mean, var):
        """Move the moving statistics towards the batch's (in place: the arrays may be saved views)."""
        keep = self.momentum
        for name, batch_value in (("moving_mean", mean), ("moving_variance", var)):
            moving = self._params[name]
            moving *= keep
            moving += (1.0 - keep) * batch_value

    def forward(self, x, training=False, lengths=None, keep_cache=None):
        keep_cache = training if keep_cache is None else keep_cache
        training = bool(training) and self.trainable
        flat = x.reshape(-1, x.shape[-1])
        rows = self._real_rows(x, lengths)
        mean, var, count = self._batch_moments(flat, rows) if training else (None, None, 0)
        if mean is None:
            training = False
            mean, var = self._params["moving_mean"], self._params["moving_variance"]
        else:
            self._follow(mean, var)
        inv_std = (1.0 / np.sqrt(var + self.epsilon)).astype(x.dtype)
        normed = (flat - mean) * inv_std
        self._cache = (normed, inv_std, rows, count if training else 0, x.shape) if keep_cache else None
        out = normed * self._params["gamma"] if self.scale else normed.copy()
        if self.center:
            out += self._params["beta"]
        return out.reshape(x.shape)

    def backward(self, grad):
        normed, inv_std, rows, count, shape = self._cache
        self._cache = None
        grad = grad.reshape(normed.shape)
        if rows is not None:
            grad = grad * rows[:, None]
        if self.center:
            column_sums(grad, out=self._grads["beta"])
        if self.scale:
            column_sums(grad * normed, out=self._grads["gamma"])
            grad = grad * self._params["gamma"]
        if count:  # batch statistics: they depend on every real row too
            grad = grad - column_sums(grad) / count - normed * (column_sums(grad * normed) / count)
            if rows is not None:
                grad *= rows[:, None]
        return (grad * inv_std).reshape(shape)

    def get_config(self):
        config = super().get_config()
        config.update(axis=self.axis, momentum=self.momentum, epsilon=self.epsilon, center=self.center,
                      scale=self.scale, synchronized=self.synchronized,
                      beta_regularizer=regularizers.serialize(self.beta_regularizer),
                      gamma_regularizer=regularizers.serialize(self.gamma_regularizer))
        for name, initializer in self.initializers.items():
            config[f"{name}_initializer"] = initializers.serialize(initializer)
        return config


def _feature_axis(axis):
    if axis not in (-1, [-1], (-1,)):
        raise ValueError(f"axis must be -1 (the feature axis; inputs are channels-last). Received: axis={axis!r}")
    return -1

"""LayerNormalization: the usual remedy for activations that drift over long sequences."""
from __future__ import annotations

import numpy as np

from .. import initializers, regularizers
from .base import Layer, check_bool, column_sums

__all__ = ["LayerNormalization"]


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

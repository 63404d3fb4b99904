"""The focal binary crossentropy (Lin et al. 2017), for a per-position tagger whose positives are rare.

A 30 kb genome has tens of mutated sites: plain crossentropy is then
dominated by the ~29,970 easy negatives.  The focal loss multiplies each
term by (1 - p_t)^gamma, so well-classified positions stop counting, and
`alpha` weighs the positive class:

    FL = -alpha y (1 - p)^gamma log p - (1 - alpha) (1 - y) p^gamma log(1 - p)

over sigmoid probabilities p (the tagger's output), mean over the last axis.
The core has no focal loss, so the plugin registers it (`focal-binary`)
through `register_losses`; `compile(loss="focal-binary")` then names it.
"""
from __future__ import annotations

import numpy as np

from lstmcore.losses import EPSILON, Loss

__all__ = ["FocalBinaryCrossentropy"]


class FocalBinaryCrossentropy(Loss):
    """Focal loss over probabilities; gamma=0, alpha=0.5 is half the binary crossentropy."""

    name = "focal_binary_crossentropy"

    def __init__(self, gamma=2.0, alpha=0.75):
        if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or gamma < 0:
            raise ValueError(f"gamma must be a number >= 0. Received: gamma={gamma!r}")
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
            raise ValueError(f"alpha must be a number in (0, 1). Received: alpha={alpha!r}")
        self.gamma, self.alpha = float(gamma), float(alpha)

    def values(self, y_true, y_pred):
        p = np.clip(y_pred, EPSILON, 1.0 - EPSILON)
        positive = -self.alpha * (1.0 - p) ** self.gamma * np.log(p)
        negative = -(1.0 - self.alpha) * p ** self.gamma * np.log(1.0 - p)
        return (y_true * positive + (1.0 - y_true) * negative).mean(axis=-1)

    def gradient(self, y_true, y_pred):
        g, a = self.gamma, self.alpha
        inside = (y_pred > EPSILON) & (y_pred < 1.0 - EPSILON)
        p = np.clip(y_pred, EPSILON, 1.0 - EPSILON)
        # d/dp of -(1-p)^g log p and of -p^g log(1-p); the g-terms vanish for g = 0.
        focus_positive = g * (1.0 - p) ** (g - 1.0) * np.log(p) if g else 0.0
        focus_negative = g * p ** (g - 1.0) * np.log(1.0 - p) if g else 0.0
        d_positive = a * (focus_positive - (1.0 - p) ** g / p)
        d_negative = -(1.0 - a) * (focus_negative - p ** g / (1.0 - p))
        return (y_true * d_positive + (1.0 - y_true) * d_negative) * inside / y_pred.shape[-1]

    def get_config(self):
        return {"gamma": self.gamma, "alpha": self.alpha}

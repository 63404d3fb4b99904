"""Weight penalties (l1, l2, l1_l2) as Keras defines them.

A regularizer adds `penalty(w)` to the training loss and `gradient(w)` to
the weight's gradient.
"""
from __future__ import annotations

import numpy as np

__all__ = ["Regularizer", "L1", "L2", "L1L2", "l1", "l2", "l1_l2", "get", "serialize", "deserialize"]


def _check_factor(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or not np.isfinite(value):
        raise ValueError(f"{name} must be a non-negative number. Received: {name}={value!r}")
    return float(value)


class Regularizer:
    """penalty(w) = l1 * sum|w| + l2 * sum w**2 (Keras's definition)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _check_factor("l1", l1)
        self.l2 = _check_factor("l2", l2)

    def __call__(self, weight):
        return self.penalty(weight)

    def penalty(self, weight):
        total = 0.0
        if self.l1:
            total += self.l1 * float(np.abs(weight).sum())
        if self.l2:
            total += self.l2 * float(np.square(weight).sum())
        return total

    def add_gradient(self, weight, grad):
        """Add the penalty's gradient to `grad` in place."""
        if self.l1:
            grad += self.l1 * np.sign(weight)
        if self.l2:
            grad += (2.0 * self.l2) * weight

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


class L1L2(Regularizer):
    def __init__(self, l1=0.0, l2=0.0):
        super().__init__(l1=l1, l2=l2)


l1, l2, l1_l2 = L1, L2, L1L2
_BY_NAME = {"l1": L1, "l2": L2, "l1_l2": L1L2, "l1l2": L1L2}


def get(identifier, argument="regularizer"):
    """A regularizer from None, a name ('l1', 'l2', 'l1_l2'), a config dict or an instance."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    raise ValueError(f"{argument} must be None, 'l1', 'l2', 'l1_l2' or a Regularizer. "
                     f"Received: {argument}={identifier!r}")


def serialize(regularizer):
    if regularizer is None:
        return None
    return {"class_name": "L1L2", "config": {"l1": regularizer.l1, "l2": regularizer.l2}}


def deserialize(config):
    if config is None:
        return None
    return L1L2(**config.get("config", {}))

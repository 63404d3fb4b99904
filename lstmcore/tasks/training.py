"""Training helpers a task's `fit` uses: class weights and learning-rate schedules by name."""
from __future__ import annotations

from typing import Dict, Optional

import numpy as np

from ..errors import UserInputError

__all__ = ["balanced_class_weights", "class_weights", "LR_SCHEDULES", "learning_rate_schedule"]

CLASS_WEIGHTS = ("balanced", "none")
LR_SCHEDULES = ("cosine", "constant")


def balanced_class_weights(y: np.ndarray) -> Dict[int, float]:
    """{class index: n / (classes present * count)}, scikit-learn's "balanced" weights."""
    from sklearn.utils.class_weight import compute_class_weight

    present = np.unique(y)
    weights = compute_class_weight("balanced", classes=present, y=y)
    return {int(c): float(w) for c, w in zip(present, weights)}


def class_weights(name: str, y: np.ndarray) -> Optional[Dict[int, float]]:
    """The class weights a hyper-parameter names: "balanced" (rare classes count as much) or "none"."""
    if name not in CLASS_WEIGHTS:
        raise UserInputError(f"class_weight must be one of {', '.join(CLASS_WEIGHTS)}. Received: {name!r}",
                             record="class_weight")
    return balanced_class_weights(y) if name == "balanced" else None


def learning_rate_schedule(name: str, learning_rate: float, steps: int):
    """The learning rate a hyper-parameter names, for a fit of `steps` optimizer steps.

    "cosine" decays the rate from `learning_rate` to zero over the whole fit,
    so the last epochs polish one solution instead of wandering around it at
    full rate (on the E. coli promoters the model a seed ends with then
    depends less on where the last constant-rate updates left it); the
    schedule counts the optimizer's steps, so it is meant for a fresh model.
    "constant" is the rate itself.
    """
    from ..optimizers import CosineDecay

    if name not in LR_SCHEDULES:
        raise UserInputError(f"lr_schedule must be one of {', '.join(LR_SCHEDULES)}. Received: {name!r}",
                             record="lr_schedule")
    return CosineDecay(float(learning_rate), steps) if name == "cosine" else float(learning_rate)

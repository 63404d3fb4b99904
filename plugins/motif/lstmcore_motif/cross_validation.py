"""Stratified K-fold and leave-one-out cross-validation of the motif task's default model.

Every fold trains a fresh model with the hyper-parameters the user's model
was trained with (epochs and batch size included) and predicts its held-out
sequences with the task's own `predict` (so reverse-complement averaging is
part of what is measured).  The out-of-fold probabilities of all sequences
are returned; metrics over them are the cross-validated scores (the only
meaningful pooling for leave-one-out).
"""
from __future__ import annotations

from typing import Any, Dict, Mapping, Sequence

import numpy as np

from lstmcore.errors import UserInputError
from lstmcore.tasks import Encoded

__all__ = ["parse_folds", "cross_validate", "fold_indices"]


def parse_folds(text: Any, y: np.ndarray, classes: Sequence[str]) -> int:
    """The number of folds for `--cv K|loo`; K must fit the smallest class."""
    samples = int(np.asarray(y).size)
    if str(text).lower() == "loo":
        return samples
    try:
        folds = int(text)
    except (TypeError, ValueError):
        raise UserInputError(f"--cv must be an integer >= 2 or 'loo'. Received: {text!r}") from None
    if folds < 2 or folds > samples:
        raise UserInputError(f"--cv must be between 2 and the number of sequences ({samples}), or 'loo'. "
                             f"Received: {folds}")
    counts = np.bincount(y, minlength=len(classes))
    smallest = int(counts[counts > 0].min())
    if folds > smallest:
        name = classes[int(np.flatnonzero(counts == smallest)[0])]
        raise UserInputError(f"--cv {folds} needs at least {folds} sequences of each class, but class "
                             f"{name!r} has {smallest} (use fewer folds or 'loo')")
    return folds


def fold_indices(y: np.ndarray, folds: int, seed: int):
    """(train, test) index pairs: leave-one-out when folds == samples, else stratified and shuffled."""
    from sklearn.model_selection import LeaveOneOut, StratifiedKFold

    if folds == y.size:
        return list(LeaveOneOut().split(np.zeros(y.size)))
    return list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(y.size), y))


def _subset(encoded: Encoded, index: np.ndarray) -> Encoded:
    lengths = None if encoded.lengths is None else encoded.lengths[index]
    subset = type(encoded)(**{**vars(encoded), "x": encoded.x[index], "y": encoded.y[index], "lengths": lengths})
    return subset


def cross_validate(task, encoded: Encoded, state: Mapping[str, Any], hyperparameters: Dict[str, Any], *,
                   folds: int, seed: int = 0) -> np.ndarray:
    """Out-of-fold class probabilities (n, classes), one fresh model per fold."""
    from lstmcore import set_seed

    from .model import train_classifier

    probabilities = np.zeros((encoded.y.size, len(state["classes"])), dtype=np.float64)
    set_seed(seed)
    for train_index, test_index in fold_indices(encoded.y, folds, seed):
        model = task.build_model(state, hyperparameters)
        train_classifier(model, _subset(encoded, train_index), hyperparameters,
                         epochs=int(hyperparameters["epochs"]), batch_size=int(hyperparameters["batch_size"]))
        probabilities[test_index] = task.predict(model, _subset(encoded, test_index), state)
    return probabilities

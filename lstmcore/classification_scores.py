"""Classification scores in plain NumPy: accuracy, balanced accuracy, AUROC, log loss.

The core keeps scikit-learn out of its dependencies; these few scores are
what `evaluate` of the built-in sequence-classification task reports, and
plugins may reuse them.  `y` holds class indices, `probabilities` is (n, classes).
"""
from __future__ import annotations

from typing import Dict

import numpy as np

__all__ = ["accuracy", "balanced_accuracy", "auroc", "log_loss", "classification_report"]


def accuracy(y: np.ndarray, predicted: np.ndarray) -> float:
    """The fraction of predictions equal to the truth."""
    return float(np.mean(np.asarray(y) == np.asarray(predicted)))


def balanced_accuracy(y: np.ndarray, predicted: np.ndarray) -> float:
    """The mean over the classes present in `y` of each class's recall."""
    y, predicted = np.asarray(y), np.asarray(predicted)
    recalls = [np.mean(predicted[y == c] == c) for c in np.unique(y)]
    return float(np.mean(recalls))


def _binary_auroc(positive: np.ndarray, scores: np.ndarray) -> float:
    """Mann-Whitney U statistic over average ranks (ties count one half)."""
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    ranks = np.empty(scores.size, dtype=np.float64)
    start = 0
    while start < scores.size:  # average ranks over runs of equal scores
        stop = start
        while stop + 1 < scores.size and sorted_scores[stop + 1] == sorted_scores[start]:
            stop += 1
        ranks[order[start:stop + 1]] = (start + stop) / 2.0 + 1.0
        start = stop + 1
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def auroc(y: np.ndarray, probabilities: np.ndarray) -> float:
    """Area under the ROC curve: binary on class 1, else the mean of one-vs-rest over classes present."""
    y, probabilities = np.asarray(y), np.asarray(probabilities, dtype=np.float64)
    if probabilities.shape[1] == 2:
        return _binary_auroc(y == 1, probabilities[:, 1])
    values = [_binary_auroc(y == c, probabilities[:, c]) for c in np.unique(y)]
    values = [v for v in values if not np.isnan(v)]
    return float(np.mean(values)) if values else float("nan")


def log_loss(y: np.ndarray, probabilities: np.ndarray, eps: float = 1e-7) -> float:
    """Mean negative log-probability of the true class."""
    y = np.asarray(y)
    p = np.clip(np.asarray(probabilities, dtype=np.float64)[np.arange(y.size), y], eps, 1.0)
    return float(-np.mean(np.log(p)))


def classification_report(y: np.ndarray, probabilities: np.ndarray) -> Dict[str, float]:
    """All of the above for class indices `y` and class probabilities."""
    predicted = np.argmax(probabilities, axis=1)
    return {
        "accuracy": accuracy(y, predicted),
        "balanced_accuracy": balanced_accuracy(y, predicted),
        "auroc": auroc(y, probabilities),
        "log_loss": log_loss(y, probabilities),
        "n": float(np.asarray(y).size),
    }

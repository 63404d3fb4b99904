"""Every score a task reports, one implementation each, scikit-learn's where it has one.

Classification (`classification_scores`): accuracy, balanced accuracy, AUROC
and AUPRC (binary on the second class, else one-vs-rest macro averages over
the classes present), MCC, macro F1, log loss, per-class precision and
recall, and the confusion matrix, flattened into `confusion[TRUE->PREDICTED]`
so that a report stays a flat name -> number table (what `lstmcore evaluate`
prints and `--json` writes).

Regression and forecasting (`regression_scores`): MAE, RMSE, MASE (scaled by
the in-sample error of the seasonal naive forecast on the training part),
sMAPE, and the coverage of a prediction interval.
"""
from __future__ import annotations

import warnings
from typing import Dict, Optional, Sequence

import numpy as np

__all__ = ["classification_scores", "confusion_matrix", "binary_auroc", "regression_scores", "mase", "smape",
           "interval_coverage"]


def binary_auroc(positive: np.ndarray, negative: np.ndarray) -> float:
    """The probability that a positive's score beats a negative's (ties count one half); NaN without
    both; non-finite scores rank below every finite one."""
    from sklearn.metrics import roc_auc_score

    positive, negative = np.asarray(positive, np.float64), np.asarray(negative, np.float64)
    if positive.size == 0 or negative.size == 0:
        return float("nan")
    values = np.concatenate([positive, negative])
    finite = np.isfinite(values)
    floor = values[finite].min() - 1.0 if finite.any() else 0.0
    values = np.where(finite, values, floor)
    truth = np.concatenate([np.ones(positive.size), np.zeros(negative.size)])
    return float(roc_auc_score(truth, values))


def _ranking_scores(y: np.ndarray, probabilities: np.ndarray) -> Dict[str, float]:
    """AUROC and AUPRC; NaN when fewer than two classes are present (e.g. one leave-one-out fold)."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    present = np.unique(y)
    if present.size < 2:
        return {"auroc": float("nan"), "auprc": float("nan")}
    if probabilities.shape[1] == 2:
        return {"auroc": float(roc_auc_score(y, probabilities[:, 1])),
                "auprc": float(average_precision_score(y == 1, probabilities[:, 1]))}
    one_hot = np.eye(probabilities.shape[1])[y][:, present]
    scores = probabilities[:, present]
    return {"auroc": float(roc_auc_score(one_hot, scores, average="macro")),
            "auprc": float(average_precision_score(one_hot, scores, average="macro"))}


def _normalised(probabilities: np.ndarray) -> np.ndarray:
    """Rows that sum to one (a float32 softmax is off by rounding), none exactly 0 or 1."""
    clipped = np.clip(probabilities, 1e-7, 1.0)
    return clipped / clipped.sum(axis=1, keepdims=True)


def confusion_matrix(y: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """(classes, classes) counts, rows the truth, columns the prediction."""
    from sklearn.metrics import confusion_matrix as sklearn_confusion

    return sklearn_confusion(y, predicted, labels=np.arange(classes))


def classification_scores(y: np.ndarray, probabilities: np.ndarray, classes: Sequence[str]) -> Dict[str, float]:
    """Every classification score, from class indices `y` and (n, classes) probabilities."""
    from sklearn.metrics import (accuracy_score, balanced_accuracy_score, f1_score, log_loss, matthews_corrcoef,
                                 precision_recall_fscore_support)

    y = np.asarray(y, dtype=np.int64)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    predicted = probabilities.argmax(axis=1)
    labels = np.arange(len(classes))
    with warnings.catch_warnings():   # one class in the data is a fine evaluation set: the scores say so
        warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
        balanced = float(balanced_accuracy_score(y, predicted))
    report = {
        "accuracy": float(accuracy_score(y, predicted)),
        "balanced_accuracy": balanced,
        **_ranking_scores(y, probabilities),
        "mcc": float(matthews_corrcoef(y, predicted)),
        "macro_f1": float(f1_score(y, predicted, labels=np.unique(y), average="macro", zero_division=0)),
        "log_loss": float(log_loss(y, _normalised(probabilities), labels=labels)),
        "n": float(y.size),
    }
    precision, recall, _, _ = precision_recall_fscore_support(y, predicted, labels=labels, zero_division=0)
    for name, p, r in zip(classes, precision, recall):
        report[f"precision[{name}]"], report[f"recall[{name}]"] = float(p), float(r)
    matrix = confusion_matrix(y, predicted, len(classes))
    for i, true_name in enumerate(classes):
        for j, predicted_name in enumerate(classes):
            report[f"confusion[{true_name}->{predicted_name}]"] = float(matrix[i, j])
    return report


def mase(actual: np.ndarray, forecast: np.ndarray, history: np.ndarray, season: int = 1) -> float:
    """Mean absolute error scaled by the mean absolute error of the seasonal naive forecast over
    `history` (the training part): below 1 beats naive.  NaN when the history is too short or flat."""
    history = np.asarray(history, np.float64)
    if history.size <= season:
        return float("nan")
    scale = np.mean(np.abs(history[season:] - history[:-season]))
    if not scale > 0:
        return float("nan")
    return float(np.mean(np.abs(np.asarray(actual, np.float64) - np.asarray(forecast, np.float64))) / scale)


def smape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Symmetric mean absolute percentage error in percent, 0 to 200 (0/0 counts as 0)."""
    actual, forecast = np.asarray(actual, np.float64), np.asarray(forecast, np.float64)
    denominator = np.abs(actual) + np.abs(forecast)
    ratio = np.where(denominator > 0, 2 * np.abs(forecast - actual) / np.where(denominator > 0, denominator, 1), 0)
    return float(100 * np.mean(ratio))


def interval_coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """The fraction of actual values inside [lower, upper]."""
    actual = np.asarray(actual, np.float64)
    return float(np.mean((actual >= np.asarray(lower)) & (actual <= np.asarray(upper))))


def regression_scores(actual: np.ndarray, forecast: np.ndarray, *, history: Optional[np.ndarray] = None,
                      season: int = 1, lower: Optional[np.ndarray] = None,
                      upper: Optional[np.ndarray] = None) -> Dict[str, float]:
    """MAE, RMSE, sMAPE; MASE when the training `history` is given; coverage when an interval is."""
    from sklearn.metrics import mean_absolute_error, mean_squared_error

    actual, forecast = np.asarray(actual, np.float64).ravel(), np.asarray(forecast, np.float64).ravel()
    report = {"mae": float(mean_absolute_error(actual, forecast)),
              "rmse": float(np.sqrt(mean_squared_error(actual, forecast))),
              "smape": smape(actual, forecast), "n": float(actual.size)}
    if history is not None:
        report["mase"] = mase(actual, forecast, history, season)
    if lower is not None and upper is not None:
        report["coverage"] = interval_coverage(actual, np.ravel(lower), np.ravel(upper))
    return report

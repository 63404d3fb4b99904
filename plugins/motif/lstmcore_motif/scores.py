"""Classification metrics through scikit-learn: accuracy, balanced accuracy, AUROC, AUPRC, MCC, confusion matrix.

Binary problems score the positive class (the second of the sorted classes,
or the one the user names); more classes use one-vs-rest macro averages.
The confusion matrix is flattened into `confusion[TRUE->PREDICTED]` entries
so the report stays a flat name -> number table (what `lstmcore evaluate`
prints and `--json` writes).
"""
from __future__ import annotations

from typing import Dict, Sequence

import numpy as np

__all__ = ["classification_metrics"]


def _ranking_scores(y: np.ndarray, probabilities: np.ndarray) -> Dict[str, float]:
    """AUROC and AUPRC; NaN when a class is missing from `y` (e.g. one leave-one-out fold)."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    classes = probabilities.shape[1]
    present = np.unique(y)
    if present.size < 2:
        return {"auroc": float("nan"), "auprc": float("nan")}
    if classes == 2:
        return {"auroc": float(roc_auc_score(y, probabilities[:, 1])),
                "auprc": float(average_precision_score(y == 1, probabilities[:, 1]))}
    one_hot = np.eye(classes)[y][:, present]
    scores = probabilities[:, present]
    return {"auroc": float(roc_auc_score(one_hot, scores, average="macro")),
            "auprc": float(average_precision_score(one_hot, scores, average="macro"))}


def classification_metrics(y: np.ndarray, probabilities: np.ndarray, classes: Sequence[str]) -> Dict[str, float]:
    """Every score of a classifier, from class indices `y` and (n, classes) probabilities."""
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, confusion_matrix, matthews_corrcoef

    y = np.asarray(y, dtype=np.int64)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    predicted = probabilities.argmax(axis=1)
    report = {
        "accuracy": float(accuracy_score(y, predicted)),
        "balanced_accuracy": float(balanced_accuracy_score(y, predicted)),
        **_ranking_scores(y, probabilities),
        "mcc": float(matthews_corrcoef(y, predicted)),
        "n": float(y.size),
    }
    matrix = confusion_matrix(y, predicted, labels=np.arange(len(classes)))
    for i, true_name in enumerate(classes):
        for j, predicted_name in enumerate(classes):
            report[f"confusion[{true_name}->{predicted_name}]"] = float(matrix[i, j])
    return report

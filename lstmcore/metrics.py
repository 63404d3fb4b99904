"""Metrics with Keras's names: accuracy (all its variants), mae, mse, rmse, auc, precision, recall.

A metric accumulates over batches: `update_state(y_true, y_pred,
sample_weight=None)`, `result()`, `reset_state()`.  Sample weights (and the
step mask of padded sequence outputs, which the model passes as weights) have
shape y_pred.shape[:-1].  Names resolve through `lstmcore.registry.metrics`.
"""
from __future__ import annotations

import numpy as np

from . import registry

__all__ = ["Metric", "Mean", "MeanMetricWrapper", "BinaryAccuracy", "CategoricalAccuracy",
           "SparseCategoricalAccuracy", "Accuracy", "MeanAbsoluteError", "MeanSquaredError",
           "RootMeanSquaredError", "AUC", "Precision", "Recall", "get", "BUILTIN_METRICS"]


def _align(y_true, y_pred):
    """y_true with y_pred's rank: a missing trailing axis of size 1 is added."""
    y_true = np.asarray(y_true)
    if y_true.ndim == y_pred.ndim - 1:
        y_true = y_true[..., None]
    return y_true


def _weights_like(sample_weight, shape):
    if sample_weight is None:
        return None
    weight = np.asarray(sample_weight, np.float64)
    weight = weight.reshape(weight.shape + (1,) * (len(shape) - weight.ndim))
    return np.broadcast_to(weight, shape)


class Metric:
    """Base class of stateful metrics."""

    def __init__(self, name=None):
        self.name = name or self.default_name

    default_name = "metric"

    def update_state(self, y_true, y_pred, sample_weight=None):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def reset_state(self):
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None):
        """Result on one batch alone (the state is reset first)."""
        self.reset_state()
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()

    def get_config(self):
        return {"name": self.name}


class Mean(Metric):
    """Weighted mean of the values it is given."""

    default_name = "mean"

    def __init__(self, name=None):
        super().__init__(name)
        self.reset_state()

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def update_values(self, values, sample_weight=None):
        values = np.asarray(values, np.float64)
        weight = _weights_like(sample_weight, values.shape)
        if weight is None:
            self.total += float(values.sum())
            self.count += values.size
        else:
            self.total += float((values * weight).sum())
            self.count += float(weight.sum())

    def update_state(self, values, sample_weight=None):
        self.update_values(values, sample_weight)

    def result(self):
        return self.total / self.count if self.count else 0.0


class MeanMetricWrapper(Mean):
    """Mean of a per-sample function fn(y_true, y_pred) -> values of shape y_pred.shape[:-1]."""

    fn = None

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = np.asarray(y_pred)
        self.update_values(type(self).fn(_align(y_true, y_pred), y_pred), sample_weight)


def _binary_accuracy(y_true, y_pred, threshold=0.5):
    return ((y_pred > threshold) == (y_true > 0.5)).mean(axis=-1)


def _categorical_accuracy(y_true, y_pred):
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float64)


def _sparse_categorical_accuracy(y_true, y_pred):
    labels = y_true[..., 0] if y_true.ndim == y_pred.ndim else y_true
    return (labels.astype(np.int64) == np.argmax(y_pred, axis=-1)).astype(np.float64)


class BinaryAccuracy(MeanMetricWrapper):
    default_name = "binary_accuracy"

    def __init__(self, name=None, threshold=0.5):
        super().__init__(name)
        self.threshold = float(threshold)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = np.asarray(y_pred)
        self.update_values(_binary_accuracy(_align(y_true, y_pred), y_pred, self.threshold), sample_weight)


class CategoricalAccuracy(MeanMetricWrapper):
    default_name = "categorical_accuracy"
    fn = staticmethod(_categorical_accuracy)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    default_name = "sparse_categorical_accuracy"

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = np.asarray(y_pred)
        self.update_values(_sparse_categorical_accuracy(np.asarray(y_true), y_pred), sample_weight)


class Accuracy(Mean):
    """'accuracy' as compile() reads it: binary, categorical or sparse, chosen as Keras does.

    One output column means binary accuracy; integer targets without a class axis
    mean sparse categorical accuracy; otherwise categorical accuracy.  A
    sparse_categorical_crossentropy loss also selects the sparse variant.
    """

    default_name = "accuracy"

    def __init__(self, name=None, loss=None):
        super().__init__(name)
        self.loss_name = getattr(loss, "name", loss)

    def _kind(self, y_true, y_pred):
        if self.loss_name == "sparse_categorical_crossentropy":
            return "sparse"
        if self.loss_name == "binary_crossentropy" or y_pred.shape[-1] == 1:
            return "binary"
        if y_true.ndim < y_pred.ndim or y_true.shape[-1] == 1:
            return "sparse"
        return "categorical"

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred, y_true = np.asarray(y_pred), np.asarray(y_true)
        kind = self._kind(y_true, y_pred)
        if kind == "sparse":
            values = _sparse_categorical_accuracy(y_true, y_pred)
        elif kind == "binary":
            values = _binary_accuracy(_align(y_true, y_pred), y_pred)
        else:
            values = _categorical_accuracy(y_true, y_pred)
        self.update_values(values, sample_weight)


class MeanAbsoluteError(MeanMetricWrapper):
    default_name = "mean_absolute_error"
    fn = staticmethod(lambda y_true, y_pred: np.abs(y_pred - y_true).mean(axis=-1))


class MeanSquaredError(MeanMetricWrapper):
    default_name = "mean_squared_error"
    fn = staticmethod(lambda y_true, y_pred: np.square(y_pred - y_true).mean(axis=-1))


class RootMeanSquaredError(MeanSquaredError):
    """Square root of the mean squared error over everything seen."""

    default_name = "root_mean_squared_error"

    def result(self):
        return float(np.sqrt(super().result()))


class AUC(Metric):
    """Area under the ROC (default) or precision-recall curve, Keras's way.

    Predictions are compared with `num_thresholds` thresholds spread over [0, 1]
    (scores are taken as probabilities) and the area is summed by interpolation.
    Multi-column outputs are flattened (Keras's multi_label=False).
    """

    default_name = "auc"

    def __init__(self, num_thresholds=200, curve="ROC", name=None):
        super().__init__(name)
        if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, int) or num_thresholds < 2:
            raise ValueError(f"num_thresholds must be an integer > 1. Received: num_thresholds={num_thresholds!r}")
        if curve not in ("ROC", "PR"):
            raise ValueError(f"curve must be 'ROC' or 'PR'. Received: curve={curve!r}")
        self.num_thresholds, self.curve = num_thresholds, curve
        inner = np.arange(1, num_thresholds - 1) / (num_thresholds - 1)
        self.thresholds = np.concatenate(([-1e-7], inner, [1.0 + 1e-7]))
        self.reset_state()

    def reset_state(self):
        n = self.num_thresholds
        self.tp, self.fp, self.tn, self.fn = (np.zeros(n) for _ in range(4))

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = np.asarray(y_pred, np.float64)
        y_true = _align(y_true, y_pred).astype(np.float64)
        weight = _weights_like(sample_weight, y_pred.shape[:-1])
        weight = np.ones(y_pred.shape) if weight is None else np.broadcast_to(weight[..., None], y_pred.shape)
        scores, labels, weight = y_pred.ravel(), np.broadcast_to(y_true, y_pred.shape).ravel(), weight.ravel()
        order = np.argsort(scores, kind="stable")
        scores = scores[order]
        positive = (weight * (labels > 0.5))[order]
        negative = (weight * (labels <= 0.5))[order]
        below = np.searchsorted(scores, self.thresholds, side="right")
        cum_pos = np.concatenate(([0.0], np.cumsum(positive)))[below]
        cum_neg = np.concatenate(([0.0], np.cumsum(negative)))[below]
        self.tp += positive.sum() - cum_pos
        self.fn += cum_pos
        self.fp += negative.sum() - cum_neg
        self.tn += cum_neg

    def result(self):
        tp, fp, tn, fn = self.tp, self.fp, self.tn, self.fn
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.curve == "ROC":
                tpr = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
                fpr = np.where(fp + tn > 0, fp / (fp + tn), 0.0)
                return float(np.sum((fpr[:-1] - fpr[1:]) * (tpr[:-1] + tpr[1:]) / 2))
            d_tp = tp[:-1] - tp[1:]
            p = tp + fp
            d_p = p[:-1] - p[1:]
            slope = np.where(d_p > 0, d_tp / np.maximum(d_p, 1e-300), 0.0)
            intercept = tp[1:] - slope * p[1:]
            ratio = np.where((p[:-1] > 0) & (p[1:] > 0), p[:-1] / np.maximum(p[1:], 1e-300), 1.0)
            denominator = tp[1:] + fn[1:]
            increment = np.where(denominator > 0,
                                 slope * (d_tp + intercept * np.log(ratio)) / np.maximum(denominator, 1e-300),
                                 0.0)
            return float(np.sum(increment))

    def get_config(self):
        return {"name": self.name, "num_thresholds": self.num_thresholds, "curve": self.curve}


class _PositiveCounts(Metric):
    """True and false positives and false negatives at one threshold, summed over every element of
    the output (Keras's Precision and Recall: a binary or multi-label output, a prediction above
    `thresholds` is positive, a non-zero label is positive), weighted by the sample weights."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None):
        super().__init__(name)
        if top_k is not None or class_id is not None:
            raise ValueError(f"{type(self).__name__}'s top_k and class_id are not supported "
                             f"(the whole output at one threshold is). Received: top_k={top_k!r}, class_id={class_id!r}")
        threshold = 0.5 if thresholds is None else thresholds
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
            raise ValueError(f"thresholds must be one number in [0, 1] (a list of thresholds is not supported). "
                             f"Received: thresholds={thresholds!r}")
        self.thresholds = float(threshold)
        self.reset_state()

    def reset_state(self):
        self.true_positives = self.false_positives = self.false_negatives = 0.0

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = np.asarray(y_pred, np.float64)
        actual = np.broadcast_to(_align(y_true, y_pred) != 0, y_pred.shape)
        predicted = y_pred > self.thresholds
        weight = _weights_like(sample_weight, y_pred.shape[:-1])
        weight = 1.0 if weight is None else weight[..., None]
        self.true_positives += float(np.sum(weight * (predicted & actual)))
        self.false_positives += float(np.sum(weight * (predicted & ~actual)))
        self.false_negatives += float(np.sum(weight * (~predicted & actual)))

    def get_config(self):
        return {"name": self.name, "thresholds": self.thresholds}


class Precision(_PositiveCounts):
    """Of the predictions above the threshold, the fraction labelled positive (0 when there are none)."""

    default_name = "precision"

    def result(self):
        predicted = self.true_positives + self.false_positives
        return self.true_positives / predicted if predicted > 0 else 0.0


class Recall(_PositiveCounts):
    """Of the positive labels, the fraction predicted above the threshold (0 when there are none)."""

    default_name = "recall"

    def result(self):
        actual = self.true_positives + self.false_negatives
        return self.true_positives / actual if actual > 0 else 0.0


BUILTIN_METRICS = {
    "accuracy": Accuracy, "acc": Accuracy,
    "binary_accuracy": BinaryAccuracy, "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "rmse": RootMeanSquaredError, "root_mean_squared_error": RootMeanSquaredError,
    "auc": AUC, "precision": Precision, "recall": Recall,
}


def get(identifier, loss=None, argument="metrics"):
    """A Metric from an instance, a class, or a registered name (named as given, like Keras).

    The accuracy variants learn from the loss which accuracy "accuracy" means.
    """
    def build(metric_class, name):
        if issubclass(metric_class, Accuracy):
            return metric_class(name=name, loss=loss)
        return metric_class(name=name)

    return registry.resolve(registry.metrics, identifier, Metric, argument, "mae", build)

"""to_categorical: integer class labels to one-hot rows, as keras.utils.to_categorical."""
from __future__ import annotations

import numpy as np

__all__ = ["to_categorical"]


def _integer_labels(y):
    labels = np.asarray(y)
    if labels.dtype.kind == "f":
        if not np.all(np.isfinite(labels)) or np.any(np.mod(labels, 1) != 0):
            raise ValueError("to_categorical expects integer class labels. Received: non-integer values")
    elif labels.dtype.kind not in "iub":
        raise ValueError(f"to_categorical expects integer class labels. Received: dtype={labels.dtype}")
    return labels.astype(np.int64)


def to_categorical(x, num_classes=None, dtype="float32"):
    """One-hot encode integer labels: shape (..., num_classes), Keras's rules.

    A trailing axis of size 1 is dropped first ((n, 1) labels give (n, num_classes)).

    Args:
        x: array-like of class labels 0 .. num_classes - 1.
        num_classes: None (default: max(x) + 1) or a positive int.
        dtype: of the result, default 'float32' (Keras 2's argument).

    Example::

        >>> to_categorical([0, 2, 1])
        array([[1., 0., 0.],
               [0., 0., 1.],
               [0., 1., 0.]], dtype=float32)
    """
    labels = _integer_labels(x)
    shape = labels.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    labels = labels.reshape(-1)
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    elif isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer or None. Received: num_classes={num_classes!r}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        bad = int(labels.min() if labels.min() < 0 else labels.max())
        raise ValueError(f"to_categorical labels must lie in [0, {num_classes}). Received: label {bad}")
    categorical = np.zeros((labels.size, num_classes), dtype=dtype)
    categorical[np.arange(labels.size), labels] = 1
    return categorical.reshape(shape + (num_classes,))

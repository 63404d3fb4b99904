"""NumPy archives: `X` of shape (n, T) or (n, T, channels), `y` the labels (optional `lengths`, `ids`).

Without `lengths`, NaN after a trace's last value is its padding (as in UCR
tables); with `lengths`, each trace is its first `lengths[i]` steps.  Loaded
without pickle (`lstmcore.io.npz`), so `y` and `ids` are numbers or fixed-width
strings, never objects.
"""
from __future__ import annotations

import os

import numpy as np

from lstmcore.io.npz import read_npz, require_array
from lstmcore.toolkit import UserInputError

from .traces import Traces

__all__ = ["read_npz_traces"]


def _as_label(value) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _x_array(arrays, source) -> np.ndarray:
    x = require_array(arrays, "X", source)
    if x.ndim == 2:
        x = x[:, :, None]
    if x.ndim != 3 or x.shape[0] == 0 or x.shape[1] == 0:
        raise UserInputError(f"X must have shape (n, T) or (n, T, channels) with n, T > 0. Received: {x.shape}",
                             file=source, record="X")
    if not np.issubdtype(x.dtype, np.number):
        raise UserInputError(f"X must hold numbers. Received: dtype {x.dtype}", file=source, record="X")
    return x.astype(np.float64)


def _trace_lengths(arrays, x, source) -> np.ndarray:
    if "lengths" in arrays:
        lengths = np.asarray(arrays["lengths"]).reshape(-1)
        if lengths.size != x.shape[0] or not np.issubdtype(lengths.dtype, np.integer) \
                or lengths.min() < 1 or lengths.max() > x.shape[1]:
            raise UserInputError(f"lengths must be {x.shape[0]} integers in 1..{x.shape[1]}", file=source,
                                 record="lengths")
        return lengths.astype(np.int64)
    real = ~np.isnan(x).all(axis=2)
    return np.where(real.any(axis=1), x.shape[1] - np.argmax(real[:, ::-1], axis=1), 0)


def read_npz_traces(path, *, labelled: bool) -> Traces:
    """Read an .npz archive into Traces; `y` is required when `labelled`."""
    source = os.fspath(path)
    arrays = read_npz(path)
    x = _x_array(arrays, source)
    lengths = _trace_lengths(arrays, x, source)
    ids = [str(i) for i in arrays["ids"]] if "ids" in arrays else [f"trace{i + 1}" for i in range(x.shape[0])]
    records = [f"X[{i}]" for i in range(x.shape[0])]
    for i in np.flatnonzero(lengths == 0):
        raise UserInputError("has no samples (all NaN)", file=source, record=records[i])
    labels = None
    if labelled or "y" in arrays:
        y = require_array(arrays, "y", source).reshape(-1)
        if y.size != x.shape[0]:
            raise UserInputError(f"y has {y.size} labels but X has {x.shape[0]} traces", file=source, record="y")
        labels = [_as_label(v) for v in y]
    series = [x[i, : lengths[i]] for i in range(x.shape[0])]
    return Traces(series, labels, ids, [source] * len(series), records)

"""The shapes data takes on its way through a trainer: one array, or a list with one array per model input
or output.  Every function here treats the two alike, so the epoch loop, the validation split and predict
are written once for single- and multi-input models."""
from __future__ import annotations

import numpy as np

__all__ = ["n_samples", "take", "as_list", "per_output"]


def as_list(value):
    """[value] for one array, the list itself for a list or tuple."""
    return list(value) if isinstance(value, (list, tuple)) else [value]


def n_samples(data):
    """The number of samples (rows) of an array or of the first array of a list."""
    first = data[0] if isinstance(data, list) else data
    return int(np.shape(first)[0])


def take(data, pick):
    """The rows `pick` (a slice or an index array) of an array, or of each array of a list; None stays None."""
    if data is None:
        return None
    if isinstance(data, list):
        return [None if item is None else item[pick] for item in data]
    return data[pick]


_REQUIRED = object()


def per_output(value, names, argument, missing=_REQUIRED):
    """One entry per model output from a single value (shared by all), a list in output order, or a dict by
    output name (Keras's ways of giving losses, loss weights and targets); a dict may leave outputs out
    when `missing` says what they get."""
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise ValueError(f"{argument} names no output of the model: {unknown[0]!r}. "
                             f"Outputs: {', '.join(names)}")
        absent = [name for name in names if name not in value]
        if absent and missing is _REQUIRED:
            raise ValueError(f"{argument} gives nothing for the output {absent[0]!r}. Outputs: {', '.join(names)}")
        return [value.get(name, missing) for name in names]
    if isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise ValueError(f"{argument} must have one entry per output ({len(names)}: {', '.join(names)}). "
                             f"Received: {len(value)} entries")
        return list(value)
    return [value] * len(names)

"""The shapes data takes on its way through a trainer: one array, or a list with one array per model input
or output.  Every function here treats the two alike, so the epoch loop, the validation split and predict
are written once for single- and multi-input models."""
from __future__ import annotations

import numpy as np

__all__ = ["n_samples", "take", "as_list", "per_output", "check_finite"]


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


def check_finite(data, argument="x", nan_steps_are_padding=False):
    """Raise a ValueError naming the first sample (and step, and feature) of `data` that holds NaN or inf.

    One NaN in a batch makes every weight NaN after one update while the
    reported loss can stay finite, so fit, evaluate and predict refuse it up
    front.  With `nan_steps_are_padding` (a Masking layer whose mask_value is
    NaN: the user asked for it) a step whose features are all NaN is padding
    and allowed.  Integer arrays (tokens) cannot hold NaN and are skipped.
    """
    for index, array in enumerate(as_list(data)):
        if array is None or not isinstance(array, np.ndarray) or array.dtype.kind not in "fc":
            continue
        if _all_finite(array):  # the common case: one fast pass
            continue
        name = f"{argument}[{index}]" if isinstance(data, list) and len(data) > 1 else argument
        bad = ~np.isfinite(array)
        if nan_steps_are_padding and array.ndim >= 3:
            padding = np.isnan(array).all(axis=tuple(range(2, array.ndim)))
            bad &= ~padding.reshape(padding.shape + (1,) * (array.ndim - 2))
            if not bad.any():
                continue
        position = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name} holds a non-finite value ({array[position]}) at {_describe_position(position)}: "
                         "NaN or inf in the data would turn the weights into NaN; remove or impute it"
                         + ("" if nan_steps_are_padding else
                            " (or mark padding steps all-NaN with a Masking(mask_value=float('nan')) layer)")
                         + f". Received: {name}[{', '.join(map(str, position))}]={array[position]}")


def _all_finite(array, block=1 << 22):
    """np.isfinite(array).all(), in blocks of samples so a large input needs no array of its size."""
    if array.ndim == 0 or array.size <= block:
        return bool(np.isfinite(array).all())
    rows = max(1, block // max(1, array[0].size))
    return all(np.isfinite(array[start:start + rows]).all() for start in range(0, array.shape[0], rows))


def _describe_position(position):
    """"sample 3, step 7, feature 0" for a (samples, steps, features) index; fewer parts for fewer axes."""
    names = ["sample", "step", "feature"] if len(position) == 3 else \
        ["sample", "feature"] if len(position) == 2 else ["sample"] + ["axis"] * (len(position) - 1)
    return ", ".join(f"{name} {value}" for name, value in zip(names, position))

"""What happens to a missing count: the user's explicit `--missing` choice, applied in one place.

- `interpolate` (the default): each gap is filled by linear interpolation between the nearest observed
  values of its series (a gap at either end takes the nearest observed value); the model sees the
  filled series as its input, but a filled point is never a training target and is never scored.
- `mask`: the gap is left out: the model's input gets, per series, an extra channel that is 1 where
  the count was observed and 0 where it was not (the value itself is set to the series' mean, 0 after
  scaling), and no window whose target is missing is trained on or scored.
- `error`: any missing value stops the run with the file, its row and its column.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np

from lstmcore.toolkit import UserInputError

__all__ = ["MISSING_CHOICES", "DEFAULT_MISSING", "fill_missing", "check_missing_choice"]

MISSING_CHOICES = ("interpolate", "mask", "error")
DEFAULT_MISSING = "interpolate"


def check_missing_choice(choice: str) -> str:
    if choice not in MISSING_CHOICES:
        raise UserInputError(f"--missing must be one of {', '.join(MISSING_CHOICES)}. Received: {choice!r}")
    return choice


def fill_missing(values: np.ndarray, choice: str, *, data=None, names=None) -> Tuple[np.ndarray, np.ndarray]:
    """(filled values, observed mask) of a (T, S) array under `choice`.

    `mask` keeps NaN in the values (the encoder replaces them after scaling); `data` (a CountData) and
    `names` (the columns of `values`) locate the first missing value for `error`.
    """
    check_missing_choice(choice)
    observed = np.isfinite(values)
    if choice == "error" and not observed.all():
        row, column = np.argwhere(~observed)[0]
        name = names[column] if names is not None else str(column)
        file = data.path if data is not None else None
        line = int(data.rows[row]) if data is not None else int(row)
        raise UserInputError(f"column {name!r} has a missing value (--missing error; use --missing "
                             "interpolate or mask to accept gaps)", file=file, record=f"row {line}")
    if choice == "interpolate":
        return np.column_stack([_interpolated(values[:, s]) for s in range(values.shape[1])]), observed
    return values.copy(), observed


def _interpolated(column: np.ndarray) -> np.ndarray:
    known = np.flatnonzero(np.isfinite(column))
    if known.size == 0:
        return np.zeros_like(column)
    return np.interp(np.arange(column.size), known, column[known])

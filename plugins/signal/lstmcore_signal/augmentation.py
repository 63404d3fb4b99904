"""Augmentation of training traces, off by default, for when labelled traces are few.

`augment: ["jitter", "scaling", "window_slicing"]` (any of them) adds
`augment_copies` transformed copies of every training trace, each copy
transformed by every method listed (Um et al. 2017; Le Guennec et al. 2016):

- jitter: Gaussian noise of sd 0.03 (of z-normalised traces);
- scaling: each channel times one factor drawn from N(1, 0.1);
- window_slicing: a random window of 90 % of the trace, stretched back to
  the trace's length (linear interpolation).

Only the training part is augmented (the task's `fit` splits off the
validation part first); the random draws come from the seeded generator of
lstmcore.backend, so a seed reproduces them.
"""
from __future__ import annotations

from typing import Sequence, Tuple

import numpy as np

from lstmcore.toolkit import UserInputError

__all__ = ["AUGMENTATIONS", "check_augmentations", "augment"]

AUGMENTATIONS = ("jitter", "scaling", "window_slicing")
JITTER_SD, SCALING_SD, SLICE_FRACTION = 0.03, 0.1, 0.9


def check_augmentations(names: Sequence[str]) -> Tuple[str, ...]:
    unknown = [name for name in names if name not in AUGMENTATIONS]
    if unknown:
        raise UserInputError(f"augment may list {', '.join(AUGMENTATIONS)}. Received: {unknown[0]!r}",
                             record="augment")
    return tuple(names)


def _slice_window(trace: np.ndarray, length: int, rng: np.random.Generator) -> np.ndarray:
    """A random window of SLICE_FRACTION of the first `length` steps, stretched back to `length` steps."""
    width = max(2, int(round(SLICE_FRACTION * length)))
    if width >= length:
        return trace
    start = int(rng.integers(0, length - width + 1))
    old = np.linspace(0.0, 1.0, width)
    new = np.linspace(0.0, 1.0, length)
    out = trace.copy()
    for c in range(trace.shape[1]):
        out[:length, c] = np.interp(new, old, trace[start:start + width, c])
    return out


def _transformed(trace: np.ndarray, length: int, names: Sequence[str], rng: np.random.Generator) -> np.ndarray:
    out = trace.copy()
    if "window_slicing" in names:
        out = _slice_window(out, length, rng)
    if "scaling" in names:
        out[:length] *= rng.normal(1.0, SCALING_SD, size=(1, trace.shape[1]))
    if "jitter" in names:
        out[:length] += rng.normal(0.0, JITTER_SD, size=(length, trace.shape[1]))
    return out.astype(trace.dtype)


def augment(x: np.ndarray, y: np.ndarray, lengths, names: Sequence[str], copies: int, rng: np.random.Generator):
    """(x, y, lengths) with `copies` transformed copies of every trace appended (padding left untouched)."""
    if not names or copies < 1:
        return x, y, lengths
    steps = np.full(x.shape[0], x.shape[1]) if lengths is None else np.asarray(lengths)
    extra = [np.stack([_transformed(x[i], int(steps[i]), names, rng) for i in range(x.shape[0])])
             for _ in range(copies)]
    more_lengths = None if lengths is None else np.concatenate([lengths] * (copies + 1))
    return np.concatenate([x, *extra]), np.concatenate([y] * (copies + 1)), more_lengths

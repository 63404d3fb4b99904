"""Which steps of a padded batch are real: masks from per-sequence lengths.

A variable-length batch pads every sequence to the longest; `lengths` holds
each one's real length (None: every step is real).  Layers that look across
steps (convolution, pooling, normalisation statistics, flattening) use these
masks so that the padded steps never change a real result.
"""
from __future__ import annotations

import numpy as np

__all__ = ["valid_steps", "step_mask", "merged_lengths"]


def valid_steps(lengths, batch, steps):
    """(batch, steps) boolean mask of real steps, or None when lengths is None."""
    if lengths is None:
        return None
    lengths = np.asarray(lengths)
    if lengths.shape != (batch,):
        raise ValueError(f"lengths must have shape ({batch},), one length per sequence. "
                         f"Received: lengths.shape={lengths.shape}")
    return np.arange(steps)[None, :] < lengths[:, None]


def step_mask(x, lengths):
    """0/1 mask of real steps in x's dtype, shaped (batch, steps, 1, ...) to multiply x (batch, steps, ...).

    None when lengths is None or x has no step axis (fewer than 3 axes).
    """
    if lengths is None or x.ndim < 3:
        return None
    valid = valid_steps(lengths, x.shape[0], x.shape[1])
    return valid.reshape(valid.shape + (1,) * (x.ndim - 2)).astype(x.dtype)


def merged_lengths(lengths):
    """One lengths vector for several inputs: each sequence's shortest real length (None if none given).

    A merged step is real only where it is real in every input, as Keras
    combines the inputs' masks with a logical and.
    """
    if lengths is None or not isinstance(lengths, (list, tuple)):
        return lengths
    given = [np.asarray(entry) for entry in lengths if entry is not None]
    if not given:
        return None
    return np.minimum.reduce(given)

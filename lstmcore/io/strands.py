"""Reverse complements of one-hot nucleotide batches, each sequence reversed inside its own length.

With the channel order A C G T (or A C G U) the complement of a base is the
channel read backwards, and an IUPAC fraction (N = 0.25 each, R = A/G) turns
into its complement's fraction (R -> Y) by the same flip, so no table is
needed.  Padded steps stay zeros at the end, so `lengths` stay valid.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

__all__ = ["reverse_complement_batch", "reverse_within_lengths", "NUCLEOTIDE_ENCODERS"]

NUCLEOTIDE_ENCODERS = ("dna", "rna")


def reverse_within_lengths(x: np.ndarray, lengths: Optional[np.ndarray]) -> np.ndarray:
    """Each sequence of a (B, T, C) batch reversed in time inside its own length (padding stays at the end)."""
    batch, steps = x.shape[:2]
    if lengths is None:
        return np.ascontiguousarray(x[:, ::-1])
    lengths = np.asarray(lengths)
    positions = np.arange(steps)[None, :]
    source = np.where(positions < lengths[:, None], lengths[:, None] - 1 - positions, positions)
    reversed_x = np.take_along_axis(x, source[:, :, None], axis=1)
    reversed_x[positions.repeat(batch, 0) >= lengths[:, None]] = 0
    return np.ascontiguousarray(reversed_x)


def reverse_complement_batch(x: np.ndarray, lengths: Optional[np.ndarray]) -> np.ndarray:
    """The reverse complement of every one-hot nucleotide sequence of a (B, T, 4) batch."""
    return np.ascontiguousarray(reverse_within_lengths(x, lengths)[:, :, ::-1])

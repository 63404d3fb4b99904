"""How alike two motifs are: mean column-wise Pearson correlation at the best offset (and strand).

Bio.motifs' `dist_pearson` works on log-odds and fails on zero counts, so
this compares probability matrices (counts + a small pseudocount) directly:
for every offset at which the shorter motif overlaps the longer by all but
at most `overhang` columns, the column-wise Pearson correlations are summed
and divided by the shorter width (an overhanging column counts as 0), and
the best offset wins.  For nucleotides the reverse complement is tried too.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .formats import counts_array

__all__ = ["MotifMatch", "compare_motifs", "probability_matrix", "consensus_motif"]


@dataclass(frozen=True)
class MotifMatch:
    """Best alignment of two motifs: correlation in [-1, 1], offset of b relative to a, strand of b."""

    correlation: float
    offset: int
    strand: str


def probability_matrix(motif, pseudocount: float = 0.25) -> np.ndarray:
    """(letters, width) column probabilities."""
    counts = counts_array(motif) + pseudocount
    return counts / counts.sum(axis=0, keepdims=True)


def _column_correlations(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    denominator = np.sqrt((a * a).sum(axis=0) * (b * b).sum(axis=0))
    return np.where(denominator > 0, (a * b).sum(axis=0) / np.where(denominator > 0, denominator, 1), 0.0)


def _best_offset(a: np.ndarray, b: np.ndarray, overhang: int):
    width_a, width_b = a.shape[1], b.shape[1]
    shorter = min(width_a, width_b)
    best = (-np.inf, 0)
    for offset in range(-(width_b - 1), width_a):
        start_a, start_b = max(0, offset), max(0, -offset)
        overlap = min(width_a - start_a, width_b - start_b)
        if overlap < shorter - overhang or overlap < 1:
            continue
        score = _column_correlations(a[:, start_a:start_a + overlap], b[:, start_b:start_b + overlap]).sum() / shorter
        if score > best[0]:
            best = (float(score), offset)
    return best


def compare_motifs(a, b, overhang: int = 1) -> MotifMatch:
    """The best match of motif `b` against motif `a` (same alphabet), on either strand for nucleotides."""
    if str(a.alphabet) != str(b.alphabet):
        raise ValueError(f"motifs must share an alphabet. Received: {a.alphabet!r} and {b.alphabet!r}")
    pa, pb = probability_matrix(a), probability_matrix(b)
    score, offset = _best_offset(pa, pb, overhang)
    match = MotifMatch(score, offset, "+")
    if str(a.alphabet) in ("ACGT", "ACGU"):
        reverse_score, reverse_offset = _best_offset(pa, pb[::-1, ::-1], overhang)
        if reverse_score > score:
            match = MotifMatch(reverse_score, reverse_offset, "-")
    return match


def consensus_motif(sequence: str, name: str = "consensus"):
    """A motif made of one consensus sequence (as counts of 1), to score a found motif against it."""
    from Bio import motifs
    from Bio.Seq import Seq

    motif = motifs.create([Seq(sequence)])
    motif.name = name
    return motif

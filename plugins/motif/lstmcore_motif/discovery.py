"""From per-position attribution to motifs: top windows, aligned, counted into position weight matrices.

1. In every sequence of the class of interest, the `width`-wide windows with
   the highest summed attribution (up to `per_sequence`, not overlapping,
   positive only) are the candidates.
2. The best candidate left seeds a motif; every sequence contributes its
   candidate that, shifted by up to `shift` positions to align with the
   motif, scores best against the motif's log-odds matrix, if that score
   reaches `min_score` of the matrix's maximum.  The matrix is recounted
   from the accepted sites, a few rounds.  Used candidates leave the pool,
   and the next motif is seeded from what is left.
3. Motifs are ranked by the total attribution of their sites.  Each is a
   Bio.motifs.Motif (counts of its sites) with its sites (record, start) and
   the column where its sites most often start (meaningful for aligned data
   such as promoters).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import List, Sequence

import numpy as np

__all__ = ["Site", "FoundMotif", "candidate_windows", "find_motifs"]


@dataclass(frozen=True)
class Site:
    """One occurrence: sequence number, 0-based start, and the attribution summed over its window."""

    sequence: int
    start: int
    attribution: float


@dataclass
class FoundMotif:
    motif: object                   # Bio.motifs.Motif
    sites: List[Site] = field(default_factory=list)

    @property
    def attribution(self) -> float:
        return float(sum(site.attribution for site in self.sites))

    @property
    def start_column(self) -> int:
        """The 1-based column where most sites start."""
        return Counter(site.start for site in self.sites).most_common(1)[0][0] + 1


def _window_sums(scores: np.ndarray, width: int) -> np.ndarray:
    cumulative = np.concatenate([[0.0], np.cumsum(scores, dtype=np.float64)])
    return cumulative[width:] - cumulative[:-width]


def candidate_windows(scores: Sequence[np.ndarray], width: int, per_sequence: int = 3) -> List[Site]:
    """The top non-overlapping positive windows of every sequence."""
    candidates = []
    for index, position_scores in enumerate(scores):
        if len(position_scores) < width:
            continue
        sums = _window_sums(np.asarray(position_scores), width)
        taken = np.zeros(sums.size, dtype=bool)
        for start in np.argsort(-sums, kind="stable"):
            if len([c for c in candidates if c.sequence == index]) >= per_sequence or sums[start] <= 0:
                break
            if taken[max(0, start - width + 1):start + width].any():
                continue
            taken[start] = True
            candidates.append(Site(index, int(start), float(sums[start])))
    return candidates


def _log_odds(kmers: List[str], letters: str, pseudocount: float = 0.5) -> np.ndarray:
    width = len(kmers[0])
    counts = np.full((len(letters), width), pseudocount)
    for kmer in kmers:
        for column, letter in enumerate(kmer):
            counts[letters.index(letter), column] += 1
    probabilities = counts / counts.sum(axis=0, keepdims=True)
    return np.log2(probabilities * len(letters))


def _score(log_odds: np.ndarray, kmer: str, letters: str) -> float:
    return float(sum(log_odds[letters.index(letter), column] for column, letter in enumerate(kmer)))


def _is_clean(kmer: str, letters: str) -> bool:
    return all(letter in letters for letter in kmer)


def _align(pool: List[Site], sequences: Sequence[str], log_odds: np.ndarray, letters: str, width: int,
           shift: int, min_score: float):
    """Per sequence, the best shifted candidate window and its pool entry, if it scores high enough."""
    best = {}
    threshold = min_score * log_odds.max(axis=0).sum()
    for candidate in pool:
        sequence = sequences[candidate.sequence]
        for delta in range(-shift, shift + 1):
            start = candidate.start + delta
            kmer = sequence[start:start + width]
            if start < 0 or len(kmer) < width or not _is_clean(kmer, letters):
                continue
            score = _score(log_odds, kmer, letters)
            if score >= threshold and score > best.get(candidate.sequence, (-np.inf,))[0]:
                best[candidate.sequence] = (score, start, candidate)
    return best


def _information(kmers: List[str], letters: str) -> float:
    """Total information content (bits) of the matrix the k-mers count into."""
    counts = np.full((len(letters), len(kmers[0])), 0.1)
    for kmer in kmers:
        for column, letter in enumerate(kmer):
            counts[letters.index(letter), column] += 1
    p = counts / counts.sum(axis=0, keepdims=True)
    return float((np.log2(len(letters)) + (p * np.log2(p)).sum(axis=0)).sum())


def _centred(accepted, sequences: Sequence[str], width: int, shift: int, letters: str):
    """Move all sites together by the offset (within `shift`) whose matrix holds the most information,
    so a seed window that caught the motif off by a base or two is centred on it."""
    best_offset, best_information = 0, -np.inf
    for offset in range(-shift, shift + 1):
        kmers = [sequences[i][start + offset:start + offset + width] for i, (_, start, _) in accepted.items()]
        if not kmers or any(start + offset < 0 or len(k) < width or not _is_clean(k, letters)
                            for k, (_, start, _) in zip(kmers, accepted.values())):
            continue
        information = _information(kmers, letters)
        if information > best_information + 1e-9:
            best_offset, best_information = offset, information
    return {i: (score, start + best_offset, candidate) for i, (score, start, candidate) in accepted.items()}


def _motif_of(kmers: List[str], letters: str):
    from Bio import motifs
    from Bio.Seq import Seq

    return motifs.create([Seq(k) for k in kmers], alphabet=letters)


def find_motifs(sequences: Sequence[str], scores: Sequence[np.ndarray], letters: str, *, width: int = 6,
                count: int = 3, per_sequence: int = 3, shift: int = 2, min_score: float = 0.4,
                min_sites: int = 2, rounds: int = 3) -> List[FoundMotif]:
    """Up to `count` motifs from the sequences (upper-case) and their per-position attribution scores."""
    sequences = [s.upper() for s in sequences]
    pool = [c for c in candidate_windows(scores, width, per_sequence)
            if _is_clean(sequences[c.sequence][c.start:c.start + width], letters)]
    found: List[FoundMotif] = []
    while pool and len(found) < count:
        seed = max(pool, key=lambda site: site.attribution)
        kmers = [sequences[seed.sequence][seed.start:seed.start + width]]
        accepted = {}
        for _ in range(rounds):
            accepted = _align(pool, sequences, _log_odds(kmers, letters), letters, width, shift, min_score)
            kmers = [sequences[i][start:start + width] for i, (_, start, _) in sorted(accepted.items())]
            if not kmers:
                break
        accepted = _centred(accepted, sequences, width, shift, letters)
        kmers = [sequences[i][start:start + width] for i, (_, start, _) in sorted(accepted.items())]
        used = {id(candidate) for _, _, candidate in accepted.values()}
        pool = [c for c in pool if id(c) not in used and c is not seed]
        if len(kmers) < min_sites:
            continue
        sites = [Site(i, start, candidate.attribution) for i, (_, start, candidate) in sorted(accepted.items())]
        found.append(FoundMotif(_motif_of(kmers, letters), sites))
    found.sort(key=lambda m: m.attribution, reverse=True)
    return found

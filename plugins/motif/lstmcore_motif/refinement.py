"""Refining a motif over every sequence of a class, and scoring it against a background.

The machinery `discovery.find_motifs` runs on each seed, as MEME and HOMER do:

- a matrix is fitted (`SearchData.fit`): log-odds of the sites' letters
  (pseudocount 0.5) over the letter composition of all sequences; per class
  sequence its best window in the motif's positional range (the `band` of
  window starts; everything for a motif found anywhere), windows over an
  earlier motif's sites erased; kept if it reaches the score threshold that
  best separates the class from the background (the hypergeometric upper
  tail, HOMER's cut-off; at least `min_score` of the matrix's maximum);
- `best_start`: every k-mer tried as a one-site matrix (MEME's search for a
  starting point);
- `refine`: rounds of matrix from the sites, sites re-found, also with all
  sites and the band moved together by up to `shift` (MEME's phase shifts);
  fits compared by `criterion`, the enrichment p-value or the AUROC;
- `phased`: for aligned sequences, a positional motif is tried at every
  phase within `shift` of its column, its sites re-found and refined at
  each, and the phase whose matrix holds the most information wins; so the
  phase does not depend on where the search started (see its docstring for
  the two criteria it replaced and why);
- discrimination: the AUROC of each sequence's best site score in the class
  against the background's, and the enrichment p-value of the sites.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from lstmcore.toolkit import binary_auroc

__all__ = ["SearchData", "Fit", "encode", "kmers_at", "is_clean", "log_odds_matrix", "window_scores",
           "information_content", "band_around", "best_start", "refine", "phased", "positional_information",
           "is_aligned"]


def encode(sequences: Sequence[str], letters: str) -> np.ndarray:
    """(sequences, longest) letter codes, -1 for a letter not in the alphabet (N, gaps) and for padding."""
    lookup = {letter: code for code, letter in enumerate(letters)}
    longest = max(len(s) for s in sequences)
    codes = np.full((len(sequences), longest), -1, dtype=np.int64)
    for i, sequence in enumerate(sequences):
        codes[i, :len(sequence)] = [lookup.get(letter, -1) for letter in sequence]
    return codes


def kmers_at(sequences: Sequence[str], starts: Dict[int, int], width: int) -> List[str]:
    return [sequences[i][start:start + width] for i, start in sorted(starts.items())]


def is_clean(kmer: str, letters: str) -> bool:
    return all(letter in letters for letter in kmer)


def _letter_frequencies(kmers: List[str], letters: str, pseudocount: float) -> np.ndarray:
    """(letters, width) frequency of each letter in each column of the k-mers, after a pseudocount."""
    counts = np.full((len(letters), len(kmers[0])), pseudocount)
    for kmer in kmers:
        for column, letter in enumerate(kmer):
            counts[letters.index(letter), column] += 1
    return counts / counts.sum(axis=0, keepdims=True)


def log_odds_matrix(kmers: List[str], letters: str, background: np.ndarray, pseudocount: float = 0.5) -> np.ndarray:
    """(letters, width) log2 of the sites' letter frequencies (plus a pseudocount) over the background's."""
    return np.log2(_letter_frequencies(kmers, letters, pseudocount) / background[:, None])


def window_scores(log_odds: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """(sequences, starts) log-odds score of every window; -inf where a letter is unknown or past the end."""
    width = log_odds.shape[1]
    count = codes.shape[1] - width + 1
    if count <= 0:
        return np.full((codes.shape[0], 0), -np.inf)
    columns = np.arange(width)
    windows = codes[:, np.arange(count)[:, None] + columns[None, :]]          # (sequences, count, width)
    scores = log_odds[np.clip(windows, 0, None), columns].sum(axis=2)
    return np.where((windows >= 0).all(axis=2), scores, -np.inf)


def information_content(kmers: List[str], letters: str) -> float:
    """Total information content (bits) of the matrix the k-mers count into."""
    p = _letter_frequencies(kmers, letters, 0.1)
    return float((np.log2(len(letters)) + (p * np.log2(p)).sum(axis=0)).sum())


def band_around(starts, reach: int, count: int) -> np.ndarray:
    """Window starts within `reach` of one of `starts` (the motif's positional range)."""
    allowed = np.zeros(count, dtype=bool)
    for start in set(starts):
        allowed[max(0, start - reach):max(0, min(count, start + reach + 1))] = True
    return allowed


def _moved(band: np.ndarray, delta: int) -> np.ndarray:
    if band.all() or delta == 0:
        return band
    moved = np.roll(band, delta)
    if delta > 0:
        moved[:delta] = False
    else:
        moved[delta:] = False
    return moved


def _blocked_starts(erased: np.ndarray, width: int) -> np.ndarray:
    """(sequences, starts): whether the window would overlap an erased position."""
    count = erased.shape[1] - width + 1
    if count <= 0:
        return np.ones((erased.shape[0], 0), dtype=bool)
    cumulative = np.concatenate([np.zeros((erased.shape[0], 1)), np.cumsum(erased, axis=1)], axis=1)
    return (cumulative[:, width:width + count] - cumulative[:, :count]) > 0


def _best_in_band(scores: np.ndarray, band: np.ndarray, blocked: Optional[np.ndarray] = None):
    """Per sequence (best score, its start) among the starts in the band and not blocked (-inf, -1 if none)."""
    usable = np.broadcast_to(band[:scores.shape[1]], scores.shape)
    if blocked is not None:
        usable = usable & ~blocked
    masked = np.where(usable, scores, -np.inf)
    starts = masked.argmax(axis=1) if masked.shape[1] else np.zeros(masked.shape[0], dtype=np.int64)
    best = masked[np.arange(masked.shape[0]), starts] if masked.shape[1] else np.full(masked.shape[0], -np.inf)
    return best, np.where(np.isfinite(best), starts, -1)


def _enriched_threshold(positive: np.ndarray, negative: np.ndarray, floor: float) -> Tuple[float, float]:
    """(threshold, p-value): the site score, at least `floor`, above which the class's sequences are most
    enriched over the background's (the hypergeometric upper tail, as HOMER chooses its cut-off)."""
    from scipy.stats import hypergeom

    candidates = np.unique(positive[np.isfinite(positive) & (positive >= floor)])
    if candidates.size == 0:
        return np.inf, 1.0
    hits = (positive[None, :] >= candidates[:, None]).sum(axis=1)
    false = (negative[None, :] >= candidates[:, None]).sum(axis=1)
    p_values = hypergeom.sf(hits - 1, positive.size + negative.size, positive.size, hits + false)
    best = int(np.argmin(p_values))          # the lowest threshold among equal p-values (first in order)
    return float(candidates[best]), float(p_values[best])


@dataclass
class Fit:
    sites: Dict[int, int]
    p_value: float
    auroc: float
    band: np.ndarray
    information: float = 0.0   # of the sites' matrix: breaks ties, so a phase that cuts the motif loses

    def better_than(self, other: Optional["Fit"], criterion: str) -> bool:
        if other is None:
            return True
        if criterion == "auroc":
            return (-self.auroc, self.p_value, -self.information) < (-other.auroc, other.p_value, -other.information)
        return (self.p_value, -self.auroc, -self.information) < (other.p_value, -other.auroc, -other.information)


@dataclass
class SearchData:
    """The class's and the background's sequences, encoded, and what is erased."""

    sequences: List[str]
    letters: str
    codes: np.ndarray
    background: np.ndarray
    frequencies: np.ndarray
    erased: np.ndarray
    width: int
    min_score: float

    def fit(self, log_odds: np.ndarray, band: np.ndarray) -> Fit:
        """The sites of a matrix: in every class sequence its best window in the band (not over an earlier
        motif's sites), kept if it reaches the threshold that best separates class and background."""
        positive, starts = _best_in_band(window_scores(log_odds, self.codes), band,
                                         _blocked_starts(self.erased, self.width))
        negative, _ = _best_in_band(window_scores(log_odds, self.background), band)
        threshold, p_value = _enriched_threshold(positive, negative, self.min_score * log_odds.max(axis=0).sum())
        sites = {int(i): int(starts[i]) for i in np.flatnonzero((starts >= 0) & (positive >= threshold))}
        information = information_content(kmers_at(self.sequences, sites, self.width), self.letters) if sites else 0.0
        return Fit(sites, p_value, binary_auroc(positive, negative), band, information)

    def matrix(self, starts: Dict[int, int]) -> np.ndarray:
        return log_odds_matrix(kmers_at(self.sequences, starts, self.width), self.letters, self.frequencies)


def best_start(data: SearchData, band: np.ndarray, kmers, criterion: str) -> Optional[Fit]:
    """MEME's search for a starting point: each k-mer tried as a one-site matrix; the best fit wins."""
    best = None
    for kmer in sorted(set(kmers)):
        fit = data.fit(log_odds_matrix([kmer], data.letters, data.frequencies), band)
        if len(fit.sites) >= 2 and fit.better_than(best, criterion):
            best = fit
    return best


def _shifted_sites(data: SearchData, sites: Dict[int, int], delta: int) -> Dict[int, int]:
    """The sites moved by `delta`, those whose moved window is whole and clean."""
    width, lengths = data.width, (data.codes >= 0).sum(axis=1)
    return {i: start + delta for i, start in sites.items()
            if 0 <= start + delta and start + delta + width <= lengths[i]
            and (data.codes[i, start + delta:start + delta + width] >= 0).all()}


def refine(data: SearchData, fit: Fit, shift: int, rounds: int, criterion: str) -> Fit:
    """Rounds of: matrix from the sites, sites re-found (`SearchData.fit`), also with all sites and the band
    moved together by up to `shift` (MEME's phase shifts); the best fit is kept, until nothing changes."""
    for _ in range(rounds):
        best = None
        for delta in sorted(range(-shift, shift + 1), key=abs):
            moved = _shifted_sites(data, fit.sites, delta)
            if len(moved) < 2:
                continue
            trial = data.fit(data.matrix(moved), _moved(fit.band, delta))
            if len(trial.sites) >= 2 and trial.better_than(best, criterion):
                best = trial
        if best is None or best.sites == fit.sites:
            break
        fit = best
    return fit


def is_aligned(data: SearchData) -> bool:
    """Whether every sequence, class and background, has the same length (columns mean positions)."""
    lengths = np.concatenate([(data.codes >= 0).sum(axis=1), (data.background >= 0).sum(axis=1)])
    return bool(lengths.size) and bool((lengths == data.codes.shape[1]).all())


def _column_frequencies(codes: np.ndarray, first: int, width: int, letters: int) -> np.ndarray:
    """(letters, width) letter frequencies of columns first..first+width-1 over all sequences (pseudocount 0.5)."""
    block = codes[:, first:first + width]
    counts = np.stack([(block == letter).sum(axis=0) for letter in range(letters)]) + 0.5
    return counts / counts.sum(axis=0, keepdims=True)


def positional_information(data: SearchData, first: int) -> float:
    """Relative entropy (bits) of the class's letters over the background's, summed over the window's
    columns, over all sequences at those columns: how much the alignment itself says at this window."""
    letters = len(data.letters)
    p = _column_frequencies(data.codes, first, data.width, letters)
    q = _column_frequencies(data.background, first, data.width, letters)
    return float((p * np.log2(p / q)).sum())


def phased(data: SearchData, fit: Fit, shift: int, rounds: int, criterion: str) -> Fit:
    """A positional motif in aligned sequences tried at every phase within `shift` of its column (the
    sites moved together, re-found there and refined in place); the phase whose sites' matrix holds the
    most information is kept (ties: the smaller move).

    The phase is a property of the sequences, not of where the search started.  The E. coli -10 box
    has two nearby optima, TATAAT at column 37 and ATAATG at 38.  Moving to the phase the alignment's
    columns favour (as this did before) kept ATAATG whenever the attribution started the search there,
    and a float32 rounding difference between two CPUs was enough for that.  The enrichment p-value
    does not decide it either: at width 6 it prefers a window that takes in the boxes' variable
    flanks (TCTTGA over TTGACA for the -35 box).  The information of the matrix does: the conserved
    hexamer is the phase with the fewest uncertain columns.
    """
    if fit.band.all() or not fit.sites or not is_aligned(data):
        return fit
    best, best_information = fit, _information(data, fit)
    for delta in sorted(range(-shift, shift + 1), key=abs):
        moved = _shifted_sites(data, fit.sites, delta) if delta else {}
        if len(moved) < 2:
            continue
        trial = data.fit(data.matrix(moved), _moved(fit.band, delta))
        if len(trial.sites) < 2:
            continue
        trial = refine(data, trial, 0, rounds, criterion)
        information = _information(data, trial)
        if information > best_information + 1e-9:
            best, best_information = trial, information
    return best


def _information(data: SearchData, fit: Fit) -> float:
    return information_content(kmers_at(data.sequences, fit.sites, data.width), data.letters)

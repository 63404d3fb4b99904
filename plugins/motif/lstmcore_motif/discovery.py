"""From per-position attribution to motifs: seeded by the model, refined and ranked against a background.

1. Seeds.  In every sequence of the class of interest, the `width`-wide
   windows with the highest summed attribution (up to `per_sequence`, not
   overlapping, positive only) are the candidates; the best one left seeds
   the next motif.  The attribution says *where* the model looks.
   Candidates that align with the seed (within `shift`) are used up with
   it, as are those a motif's sites cover.
2. Positional range.  Two readings of the seed are refined and the one
   that separates the class from the background better (step 4) is kept:
   *positional*, window starts within `shift + width // 2` of the seed's
   own start in every sequence (aligned sequences such as promoters, where a
   box sits at a fixed column), and *anywhere* in the sequence (binding
   sites at random positions).
3. Refinement over every sequence of the class (not only the candidates),
   as MEME and HOMER do: every k-mer starting in the range is tried as a
   one-site matrix (MEME's search for a starting point; for "anywhere", the
   seed and the candidates aligned to it), then rounds of: log-odds matrix
   from the sites (pseudocount 0.5, letter background = composition of all
   sequences), per sequence its best window in the range (windows over an
   earlier motif's sites are erased), kept if it reaches the score
   threshold that best separates the class from the background (the
   hypergeometric tail, HOMER's cut-off; at least `min_score` of the
   matrix's maximum); each round also tries all sites moved together by up
   to `shift` (MEME's phase shifts).  Fits are compared by `criterion`:
   the enrichment p-value (default; it prefers the phase that holds the
   most class sites over background ones) or the AUROC of step 4.
4. Discrimination and ranking.  Each sequence's best site score (in the
   motif's range) is computed in the class and in the background (the other
   classes' sequences, or shuffled copies of the class's own when there are
   none); the AUROC of those scores is the motif's `discrimination`, the
   enrichment p-value of its sites its `p_value`.  Motifs are ranked by
   discrimination (ties: attribution of the sites), so a k-mer as common in
   the background as in the class (AT-rich stretches, say) ranks last
   however much attribution it holds.  Each is a Bio.motifs.Motif (counts of
   its sites) with its sites (record, start) and the column where its sites
   most often start.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

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
    discrimination: float = 0.5     # AUROC of the best site score: the class against the background
    p_value: float = 1.0            # enrichment of the sites in the class over the background (hypergeometric)


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


def _encode(sequences: Sequence[str], letters: str) -> np.ndarray:
    """(sequences, longest) letter codes, -1 for a letter not in the alphabet (N, gaps) and for padding."""
    lookup = {letter: code for code, letter in enumerate(letters)}
    longest = max(len(s) for s in sequences)
    codes = np.full((len(sequences), longest), -1, dtype=np.int64)
    for i, sequence in enumerate(sequences):
        codes[i, :len(sequence)] = [lookup.get(letter, -1) for letter in sequence]
    return codes


def _kmers(sequences: Sequence[str], starts: Dict[int, int], width: int) -> List[str]:
    return [sequences[i][start:start + width] for i, start in sorted(starts.items())]


def _is_clean(kmer: str, letters: str) -> bool:
    return all(letter in letters for letter in kmer)


def _log_odds(kmers: List[str], letters: str, background: np.ndarray, pseudocount: float = 0.5) -> np.ndarray:
    """(letters, width) log2 of the sites' letter frequencies (plus a pseudocount) over the background's."""
    counts = np.full((len(letters), len(kmers[0])), pseudocount)
    for kmer in kmers:
        for column, letter in enumerate(kmer):
            counts[letters.index(letter), column] += 1
    probabilities = counts / counts.sum(axis=0, keepdims=True)
    return np.log2(probabilities / background[:, None])


def _window_scores(log_odds: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """(sequences, starts) log-odds score of every window; -inf where a letter is unknown or past the end."""
    width = log_odds.shape[1]
    count = codes.shape[1] - width + 1
    if count <= 0:
        return np.full((codes.shape[0], 0), -np.inf)
    columns = np.arange(width)
    windows = codes[:, np.arange(count)[:, None] + columns[None, :]]          # (sequences, count, width)
    scores = log_odds[np.clip(windows, 0, None), columns].sum(axis=2)
    return np.where((windows >= 0).all(axis=2), scores, -np.inf)


def _information(kmers: List[str], letters: str) -> float:
    """Total information content (bits) of the matrix the k-mers count into."""
    counts = np.full((len(letters), len(kmers[0])), 0.1)
    for kmer in kmers:
        for column, letter in enumerate(kmer):
            counts[letters.index(letter), column] += 1
    p = counts / counts.sum(axis=0, keepdims=True)
    return float((np.log2(len(letters)) + (p * np.log2(p)).sum(axis=0)).sum())


def _align(pool: List[Site], sequences: Sequence[str], codes: np.ndarray, log_odds: np.ndarray, shift: int,
           min_score: float) -> Dict[int, int]:
    """Per sequence, the best candidate window shifted by up to `shift`, if it scores high enough."""
    scores = _window_scores(log_odds, codes)
    threshold = min_score * log_odds.max(axis=0).sum()
    best: Dict[int, Tuple[float, int]] = {}
    for candidate in pool:
        row = scores[candidate.sequence]
        for start in range(max(0, candidate.start - shift), min(row.size, candidate.start + shift + 1)):
            if row[start] >= threshold and row[start] > best.get(candidate.sequence, (-np.inf,))[0]:
                best[candidate.sequence] = (float(row[start]), start)
    return {i: start for i, (_, start) in best.items()}


def _centred(starts: Dict[int, int], sequences: Sequence[str], width: int, shift: int, letters: str):
    """Move all sites together by the offset (within `shift`) whose matrix holds the most information."""
    best_offset, best_information = 0, -np.inf
    for offset in range(-shift, shift + 1):
        kmers = [sequences[i][start + offset:start + offset + width] for i, start in starts.items()]
        if not kmers or any(start + offset < 0 or len(k) < width or not _is_clean(k, letters)
                            for k, start in zip(kmers, starts.values())):
            continue
        information = _information(kmers, letters)
        if information > best_information + 1e-9:
            best_offset, best_information = offset, information
    return {i: start + best_offset for i, start in starts.items()}


def _band(starts, reach: int, count: int) -> np.ndarray:
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


def _auroc(positive: np.ndarray, negative: np.ndarray) -> float:
    """P(a class sequence's best score beats a background one's), ties one half (Mann-Whitney)."""
    if positive.size == 0 or negative.size == 0:
        return 0.5
    from scipy.stats import rankdata

    values = np.concatenate([positive, negative])
    finite = np.isfinite(values)
    values = np.where(finite, values, (values[finite].min() - 1.0) if finite.any() else 0.0)
    ranks = rankdata(values)[:positive.size]
    return float((ranks.sum() - positive.size * (positive.size + 1) / 2) / (positive.size * negative.size))


@dataclass
class _Fit:
    sites: Dict[int, int]
    p_value: float
    auroc: float
    band: np.ndarray
    information: float = 0.0   # of the sites' matrix: breaks ties, so a phase that cuts the motif loses

    def better_than(self, other: Optional["_Fit"], criterion: str) -> bool:
        if other is None:
            return True
        if criterion == "auroc":
            return (-self.auroc, self.p_value, -self.information) < (-other.auroc, other.p_value, -other.information)
        return (self.p_value, -self.auroc, -self.information) < (other.p_value, -other.auroc, -other.information)


@dataclass
class _Data:
    """The class's and the background's sequences, encoded, and what is erased."""

    sequences: List[str]
    letters: str
    codes: np.ndarray
    background: np.ndarray
    frequencies: np.ndarray
    erased: np.ndarray
    width: int
    min_score: float

    def fit(self, log_odds: np.ndarray, band: np.ndarray) -> _Fit:
        """The sites of a matrix: in every class sequence its best window in the band (not over an earlier
        motif's sites), kept if it reaches the threshold that best separates class and background."""
        positive, starts = _best_in_band(_window_scores(log_odds, self.codes), band,
                                         _blocked_starts(self.erased, self.width))
        negative, _ = _best_in_band(_window_scores(log_odds, self.background), band)
        threshold, p_value = _enriched_threshold(positive, negative, self.min_score * log_odds.max(axis=0).sum())
        sites = {int(i): int(starts[i]) for i in np.flatnonzero((starts >= 0) & (positive >= threshold))}
        information = _information(_kmers(self.sequences, sites, self.width), self.letters) if sites else 0.0
        return _Fit(sites, p_value, _auroc(positive, negative), band, information)

    def matrix(self, starts: Dict[int, int]) -> np.ndarray:
        return _log_odds(_kmers(self.sequences, starts, self.width), self.letters, self.frequencies)


def _best_start(data: _Data, band: np.ndarray, kmers, criterion: str) -> Optional[_Fit]:
    """MEME's search for a starting point: each k-mer tried as a one-site matrix; the best fit wins."""
    best = None
    for kmer in sorted(set(kmers)):
        fit = data.fit(_log_odds([kmer], data.letters, data.frequencies), band)
        if len(fit.sites) >= 2 and fit.better_than(best, criterion):
            best = fit
    return best


def _refine(data: _Data, fit: _Fit, shift: int, rounds: int, criterion: str) -> _Fit:
    """Rounds of: matrix from the sites, sites re-found (`_Data.fit`), also with all sites and the band
    moved together by up to `shift` (MEME's phase shifts); the best fit is kept, until nothing changes."""
    width, lengths = data.width, (data.codes >= 0).sum(axis=1)
    for _ in range(rounds):
        best = None
        for delta in sorted(range(-shift, shift + 1), key=abs):
            moved = {i: start + delta for i, start in fit.sites.items()
                     if start + delta >= 0 and start + delta + width <= lengths[i]
                     and (data.codes[i, start + delta:start + delta + width] >= 0).all()}
            if len(moved) < 2:
                continue
            trial = data.fit(data.matrix(moved), _moved(fit.band, delta))
            if len(trial.sites) >= 2 and trial.better_than(best, criterion):
                best = trial
        if best is None or best.sites == fit.sites:
            break
        fit = best
    return fit


def _shuffled(sequences: Sequence[str], seed: int = 0) -> List[str]:
    """Each sequence with its letters shuffled: the same composition, no motif (the background of last resort)."""
    rng = np.random.default_rng(seed)
    return ["".join(rng.permutation(list(sequence))) for sequence in sequences]


def _motif_of(kmers: List[str], letters: str):
    from Bio import motifs
    from Bio.Seq import Seq

    return motifs.create([Seq(k) for k in kmers], alphabet=letters)


def find_motifs(sequences: Sequence[str], scores: Sequence[np.ndarray], letters: str, *,
                background: Optional[Sequence[str]] = None, width: int = 6, count: int = 3, per_sequence: int = 3,
                shift: int = 2, min_score: float = 0.4, min_sites: int = 2, rounds: int = 5,
                criterion: str = "p_value") -> List[FoundMotif]:
    """Up to `count` motifs from the sequences of a class and their per-position attribution scores, ranked
    by how well they separate the class from `background` (the other classes' sequences; shuffled copies
    of `sequences` when None or empty).  `criterion` ("auroc" or "p_value") compares refinements."""
    if criterion not in ("auroc", "p_value"):
        raise ValueError(f"criterion must be 'auroc' or 'p_value'. Received: criterion={criterion!r}")
    sequences = [s.upper() for s in sequences]
    background = [s.upper() for s in background] if background else _shuffled(sequences)
    longest = max(len(s) for s in list(sequences) + list(background))
    codes = _encode(list(sequences) + list(background), letters)
    present = codes[codes >= 0]
    frequencies = (np.bincount(present, minlength=len(letters)) + 1.0) / (present.size + len(letters))
    data = _Data(sequences, letters, codes[:len(sequences)], codes[len(sequences):], frequencies,
                 np.zeros((len(sequences), longest), dtype=bool), width, min_score)
    starts_count = max(0, longest - width + 1)
    pool = [c for c in candidate_windows(scores, width, per_sequence)
            if _is_clean(sequences[c.sequence][c.start:c.start + width], letters)]
    found: List[FoundMotif] = []
    while pool and len(found) < count:
        seed = max(pool, key=lambda site: site.attribution)
        seed_kmer = sequences[seed.sequence][seed.start:seed.start + width]
        # positional: every k-mer of the class starting near the seed's column
        near = _band([seed.start], shift + width // 2, starts_count)
        kmers = [s[start:start + width] for s in sequences for start in np.flatnonzero(near[:len(s) - width + 1])]
        fits = []
        start_fit = _best_start(data, near, [k for k in kmers if _is_clean(k, letters)], criterion)
        if start_fit is not None:
            column = Counter(start_fit.sites.values()).most_common(1)[0][0]
            start_fit.band = _band([column], shift, starts_count)
            fits.append(_refine(data, start_fit, shift, rounds, criterion))
        # anywhere: the seed and the candidates that align with it
        starts = {seed.sequence: seed.start}
        for _ in range(3):
            aligned = _align(pool, sequences, data.codes, data.matrix(starts), shift, min_score)
            if not aligned:
                break
            starts = aligned
        starts = _centred(starts, sequences, width, shift, letters)
        everywhere = np.ones(starts_count, dtype=bool)
        start_fit = _best_start(data, everywhere, [seed_kmer] + _kmers(sequences, starts, width), criterion)
        if start_fit is not None:
            fits.append(_refine(data, start_fit, shift, rounds, criterion))
        fit = None
        for candidate in fits:
            fit = candidate if candidate.better_than(fit, criterion) else fit
        sites = {} if fit is None else fit.sites
        # the seed and the candidates like it are used up, and so are those the motif's sites cover
        pool = [c for c in pool if c is not seed
                and not (c.sequence in starts and abs(c.start - starts[c.sequence]) <= shift)
                and not (c.sequence in sites and abs(c.start - sites[c.sequence]) < width)]
        if len(sites) < min_sites:
            continue
        for i, start in sites.items():
            data.erased[i, start:start + width] = True
        found.append(FoundMotif(_motif_of(_kmers(sequences, sites, width), letters),
                                [Site(i, start, float(np.sum(scores[i][start:start + width])))
                                 for i, start in sorted(sites.items())], fit.auroc, fit.p_value))
    found.sort(key=lambda m: (m.discrimination, m.attribution), reverse=True)
    return found

"""Motifs of a class: seeded by the model's attribution and by enrichment, refined, ranked against a background.

1. Seeds from attribution.  In every sequence of the class of interest, the
   `width`-wide windows with the highest summed attribution (up to
   `per_sequence`, not overlapping, positive only) are the candidates; the
   best one left seeds the next motif.  The attribution says *where* the
   model looks.  Two readings of a seed are refined and the one the
   `criterion` prefers is kept: *positional*, window starts near the seed's
   column (aligned sequences such as promoters, where a box sits at a fixed
   column; started from the best k-mer there and, for aligned sequences,
   from the profile of every class sequence at the most informative column
   there), and *anywhere* (binding sites at random positions; started from
   the seed and the candidates aligned to it).
2. Seeds from enrichment, which need no model: for aligned sequences the
   columns where the class's letters differ most from the background's at
   the same columns (`refinement.positional_information`), each refined from
   the profile of every class sequence at the column; otherwise the k-mers
   present in the most class sequences over background ones (hypergeometric,
   as DREME ranks words).  A model can classify well while hardly using an
   element (the models of E. coli promoters lean on the -10 box and put
   little attribution on the -35 box); enrichment still finds it, and
   `FoundMotif.seeded_by` says which route found each motif.
3. Refinement over every sequence of the class (`refinement.py`): sites
   re-found with HOMER's enrichment cut-off, MEME's phase shifts, the phase
   of positional motifs set by the alignment's columns; earlier motifs' sites
   (of the same route) erased.
4. Ranking.  Each motif's `discrimination` is the AUROC of every sequence's
   best site score, class against background (the other classes, or
   shuffled copies of the class's own when there are none); the motifs of
   both routes are ranked by it (ties: attribution of the sites), a motif
   whose sites mostly coincide with a better one's is merged into it, and
   the best `count` are returned.  A k-mer as common in the background as in
   the class (AT-rich stretches, say) ranks last however much attribution it
   holds.  Each is a Bio.motifs.Motif (counts of its sites) with its sites
   (record, start) and the column where its sites most often start.
"""
from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .refinement import (Fit, SearchData, band_around, best_start, encode, information_content, is_aligned, is_clean,
                         kmers_at, phased, positional_information, refine, window_scores)

__all__ = ["Site", "FoundMotif", "candidate_windows", "find_motifs", "SEED_ROUTES"]

SEED_ROUTES = ("attribution", "enrichment")


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
    seeded_by: Tuple[str, ...] = ("attribution",)   # the routes that found it (SEED_ROUTES)

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
        kept = 0
        for start in np.argsort(-sums, kind="stable"):
            if kept >= per_sequence or sums[start] <= 0:
                break
            if taken[max(0, start - width + 1):start + width].any():
                continue
            taken[start] = True
            kept += 1
            candidates.append(Site(index, int(start), float(sums[start])))
    return candidates


def _align(pool: List[Site], sequences: Sequence[str], codes: np.ndarray, log_odds: np.ndarray, shift: int,
           min_score: float) -> Dict[int, int]:
    """Per sequence, the best candidate window shifted by up to `shift`, if it scores high enough."""
    scores = window_scores(log_odds, codes)
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
        if not kmers or any(start + offset < 0 or len(k) < width or not is_clean(k, letters)
                            for k, start in zip(kmers, starts.values())):
            continue
        information = information_content(kmers, letters)
        if information > best_information + 1e-9:
            best_offset, best_information = offset, information
    return {i: start + best_offset for i, start in starts.items()}


@dataclass(frozen=True)
class _Search:
    """The settings every seed is refined with."""

    shift: int
    rounds: int
    criterion: str
    min_sites: int


def _better(fits: List[Optional[Fit]], criterion: str) -> Optional[Fit]:
    """The fit `criterion` prefers (None when there is none)."""
    best = None
    for fit in fits:
        if fit is not None and fit.better_than(best, criterion):
            best = fit
    return best


def _starts_count(data: SearchData) -> int:
    return max(0, data.codes.shape[1] - data.width + 1)


def _profile(data: SearchData, column: int) -> Dict[int, int]:
    """Every class sequence's window at `column` (where it is whole and clean): the aligned block."""
    end = column + data.width
    return {i: column for i in range(data.codes.shape[0]) if (data.codes[i, column:end] >= 0).all()}


def _positional_fit(data: SearchData, start: Optional[Fit], search: _Search) -> Optional[Fit]:
    """A start refined within `shift` of the column most of its sites start at, then phased."""
    if start is None or len(start.sites) < 2:
        return None
    column = Counter(start.sites.values()).most_common(1)[0][0]
    start = dataclasses.replace(start, band=band_around([column], search.shift, _starts_count(data)))
    fit = refine(data, start, search.shift, search.rounds, search.criterion)
    return phased(data, fit, search.shift, search.rounds, search.criterion)


def _profile_start(data: SearchData, column: int, search: _Search) -> Optional[Fit]:
    """The matrix of the aligned block at `column`, fitted within `shift` of it."""
    block = _profile(data, column)
    if len(block) < 2:
        return None
    return data.fit(data.matrix(block), band_around([column], search.shift, _starts_count(data)))


def _near_seed(data: SearchData, column: int, search: _Search) -> Optional[Fit]:
    """Positional reading of a seed at `column`: the best k-mer start within reach and, for aligned
    sequences, the profile at the most informative column within reach; each refined, the better kept."""
    near = band_around([column], search.shift + data.width // 2, _starts_count(data))
    kmers = {s[start:start + data.width] for s in data.sequences
             for start in np.flatnonzero(near[:len(s) - data.width + 1])}
    clean = [k for k in kmers if is_clean(k, data.letters)]
    fits = [_positional_fit(data, best_start(data, near, clean, search.criterion), search)]
    if is_aligned(data):
        informative = max(np.flatnonzero(near), key=lambda first: positional_information(data, int(first)))
        fits.append(_positional_fit(data, _profile_start(data, int(informative), search), search))
    return _better(fits, search.criterion)


def _anywhere(data: SearchData, kmers: List[str], search: _Search) -> Optional[Fit]:
    """A motif found anywhere in the sequences, started from the best of `kmers`, refined, then its sites
    moved together to the phase whose matrix holds the most information (when the enrichment p-values of
    two phases tie, as they do for a motif in every sequence, the refinement may keep a phase that cuts
    off a conserved column) and refined again in place."""
    everywhere = np.ones(_starts_count(data), dtype=bool)
    start = best_start(data, everywhere, kmers, search.criterion)
    if start is None:
        return None
    fit = refine(data, start, search.shift, search.rounds, search.criterion)
    centred = _centred(fit.sites, data.sequences, data.width, search.shift, data.letters)
    if centred == fit.sites:
        return fit
    trial = refine(data, data.fit(data.matrix(centred), everywhere), 0, search.rounds, search.criterion)
    return trial if len(trial.sites) >= 2 else fit


def _found(data: SearchData, fit: Fit, scores: Sequence[np.ndarray], route: str) -> FoundMotif:
    """The motif of a fit's sites; its sites erased so later motifs of the route look elsewhere."""
    for i, start in fit.sites.items():
        data.erased[i, start:start + data.width] = True
    return FoundMotif(_motif_of(kmers_at(data.sequences, fit.sites, data.width), data.letters),
                      [Site(i, start, float(np.sum(scores[i][start:start + data.width])))
                       for i, start in sorted(fit.sites.items())], fit.auroc, fit.p_value, (route,))


def _attribution_motifs(data: SearchData, scores: Sequence[np.ndarray], count: int, per_sequence: int,
                        search: _Search) -> List[FoundMotif]:
    """Route 1: motifs seeded by the windows with the most attribution."""
    width, letters, sequences = data.width, data.letters, data.sequences
    pool = [c for c in candidate_windows(scores, width, per_sequence)
            if is_clean(sequences[c.sequence][c.start:c.start + width], letters)]
    found: List[FoundMotif] = []
    while pool and len(found) < count:
        seed = max(pool, key=lambda site: site.attribution)
        starts = {seed.sequence: seed.start}
        for _ in range(3):
            aligned = _align(pool, sequences, data.codes, data.matrix(starts), search.shift, data.min_score)
            if not aligned:
                break
            starts = aligned
        starts = _centred(starts, sequences, width, search.shift, letters)
        seed_kmer = sequences[seed.sequence][seed.start:seed.start + width]
        fit = _better([_near_seed(data, seed.start, search),
                       _anywhere(data, [seed_kmer] + kmers_at(sequences, starts, width), search)],
                      search.criterion)
        sites = {} if fit is None else fit.sites
        # the seed and the candidates like it are used up, and so are those the motif's sites cover
        pool = [c for c in pool if c is not seed
                and not (c.sequence in starts and abs(c.start - starts[c.sequence]) <= search.shift)
                and not (c.sequence in sites and abs(c.start - sites[c.sequence]) < width)]
        if len(sites) >= search.min_sites:
            found.append(_found(data, fit, scores, "attribution"))
    return found


def _informative_columns(data: SearchData, count: int) -> List[int]:
    """Up to `count` window starts of aligned sequences, most positional information first, none
    overlapping another's window."""
    starts = sorted(range(_starts_count(data)), key=lambda first: -positional_information(data, first))
    chosen: List[int] = []
    for first in starts:
        if len(chosen) == count:
            break
        if all(abs(first - other) >= data.width for other in chosen):
            chosen.append(first)
    return chosen


def _kmer_ids(codes: np.ndarray, width: int, letters: int) -> np.ndarray:
    """(sequences, starts) integer id of every window's k-mer; -1 where a letter is unknown or past the end."""
    count = codes.shape[1] - width + 1
    windows = codes[:, np.arange(count)[:, None] + np.arange(width)[None, :]]
    ids = (np.clip(windows, 0, None) * letters ** np.arange(width)[::-1]).sum(axis=2)
    return np.where((windows >= 0).all(axis=2), ids, -1)


def _enriched_kmers(data: SearchData, count: int, min_sites: int) -> List[str]:
    """Up to `count` k-mers present in the most class sequences over background ones (hypergeometric tail)."""
    from scipy.stats import hypergeom

    if _starts_count(data) == 0:
        return []
    letters = len(data.letters)

    def presence(codes):
        ids = _kmer_ids(codes, data.width, letters)
        rows = np.repeat(np.arange(ids.shape[0]), ids.shape[1])
        pairs = np.unique(np.stack([rows, ids.ravel()]), axis=1)
        return Counter(pairs[1][pairs[1] >= 0].tolist())

    hits, false = presence(data.codes), presence(data.background)
    kmers = np.array([kmer for kmer, n in hits.items() if n >= min_sites], dtype=np.int64)
    if kmers.size == 0:
        return []
    in_class = np.array([hits[k] for k in kmers.tolist()])
    in_background = np.array([false.get(k, 0) for k in kmers.tolist()])
    total, positives = data.codes.shape[0] + data.background.shape[0], data.codes.shape[0]
    p_values = hypergeom.sf(in_class - 1, total, positives, in_class + in_background)
    best = kmers[np.lexsort((kmers, p_values))[:count]]
    return ["".join(data.letters[(kmer // letters ** power) % letters] for power in range(data.width - 1, -1, -1))
            for kmer in best.tolist()]


def _enrichment_motifs(data: SearchData, scores: Sequence[np.ndarray], count: int,
                       search: _Search) -> List[FoundMotif]:
    """Route 2: motifs seeded by enrichment in the class over the background, without the model."""
    if is_aligned(data):
        fits = (_positional_fit(data, _profile_start(data, column, search), search)
                for column in _informative_columns(data, count))
    else:
        fits = (_anywhere(data, [kmer], search) for kmer in _enriched_kmers(data, count, search.min_sites))
    found = []
    for fit in fits:
        if fit is not None and len(fit.sites) >= search.min_sites:
            found.append(_found(data, fit, scores, "enrichment"))
    return found


def _overlap(motif: FoundMotif, other: FoundMotif, width: int) -> float:
    """The fraction of `motif`'s sites that overlap one of `other`'s."""
    others = {site.sequence: site.start for site in other.sites}
    shared = sum(1 for site in motif.sites
                 if site.sequence in others and abs(site.start - others[site.sequence]) < width)
    return shared / max(1, len(motif.sites))


def _twins(motif: FoundMotif, other: FoundMotif, width: int) -> bool:
    """Whether two motifs are one: most of either one's sites shared with the other's, or the same
    matrix (the two routes can find one box by different sites: the attribution's anywhere in the
    sequences, the enrichment's at its column).  Either one's: the -10 box read one column late
    (ATAATT, 43 sites) held 16 of TATAAT's 29 sites, 55 % of TATAAT's but 37 % of its own, and
    ranked between the two boxes when one model of the five was left out of the ensemble."""
    from .similarity import compare_motifs

    if _overlap(motif, other, width) >= 0.5 or _overlap(other, motif, width) >= 0.5:
        return True
    match = compare_motifs(other.motif, motif.motif, overhang=0)
    return match.strand == "+" and match.correlation >= SAME_MATRIX


# Column-wise Pearson at which two matrices count as the same motif (TATAAT found by both routes: 0.99;
# the -10 and -35 boxes: below 0.4).
SAME_MATRIX = 0.95


def _ranked(found: List[FoundMotif], count: int, width: int) -> List[FoundMotif]:
    """Best discrimination first; a motif that is a better one's twin (`_twins`) is merged into it."""
    kept: List[FoundMotif] = []
    for motif in sorted(found, key=lambda m: (m.discrimination, m.attribution), reverse=True):
        twin = next((k for k in kept if _twins(motif, k, width)), None)
        if twin is None:
            kept.append(motif)
        else:
            twin.seeded_by = tuple(r for r in SEED_ROUTES if r in twin.seeded_by + motif.seeded_by)
    return kept[:count]


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
                criterion: str = "p_value", seeds: Sequence[str] = SEED_ROUTES) -> List[FoundMotif]:
    """Up to `count` motifs from the sequences of a class and their per-position attribution scores, ranked
    by how well they separate the class from `background` (the other classes' sequences; shuffled copies
    of `sequences` when None or empty).  `criterion` ("auroc" or "p_value") compares refinements;
    `seeds` names the routes that seed motifs ("attribution", "enrichment" or both)."""
    if criterion not in ("auroc", "p_value"):
        raise ValueError(f"criterion must be 'auroc' or 'p_value'. Received: criterion={criterion!r}")
    seeds = tuple(seeds)
    if not seeds or any(route not in SEED_ROUTES for route in seeds):
        raise ValueError(f"seeds must name one or more of {', '.join(SEED_ROUTES)}. Received: seeds={seeds!r}")
    sequences = [s.upper() for s in sequences]
    background = [s.upper() for s in background] if background else _shuffled(sequences)
    codes = encode(list(sequences) + list(background), letters)
    present = codes[codes >= 0]
    frequencies = (np.bincount(present, minlength=len(letters)) + 1.0) / (present.size + len(letters))
    data = SearchData(sequences, letters, codes[:len(sequences)], codes[len(sequences):], frequencies,
                      np.zeros((len(sequences), codes.shape[1]), dtype=bool), width, min_score)
    search = _Search(shift, rounds, criterion, min_sites)
    found: List[FoundMotif] = []
    if "attribution" in seeds:
        found += _attribution_motifs(dataclasses.replace(data, erased=data.erased.copy()), scores, count,
                                     per_sequence, search)
    if "enrichment" in seeds:
        found += _enrichment_motifs(dataclasses.replace(data, erased=data.erased.copy()), scores, count, search)
    return _ranked(found, count, width)

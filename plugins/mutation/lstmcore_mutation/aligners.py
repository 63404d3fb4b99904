"""The two aligners behind the exact calls, each turning a genome into an `AlignedPair` (or a reason it has none).

- `MappyAligner`: minimap2 through mappy, the field's genome-to-reference
  aligner (`minimap2 -x asm20 --score-N=0`, what pangolin runs on SARS-CoV-2).
  N and the other ambiguity codes score 0: with minimap2's default penalty an
  internal run of a few hundred N (common in amplicon genomes) ends the
  alignment there, and the genome falls apart into pieces.  Linear in the
  genome's length; the cs tag gives the alignment.  A genome on the reverse
  strand is reverse-complemented first, so calls are always on the
  reference's strand.  minimap2 drops ends whose extension scores below
  zero; `extend_ends` re-aligns them (see there).
- `PairwiseAligner` (Biopython): the exact optimum of the same affine scores
  (match 1, mismatch -4, gap of k bases -(6 + 2k), an ambiguity code 0, as
  minimap2's asm20 with `--score-N=0`), free end gaps so unaligned ends cost
  nothing.  Quadratic, so it serves short segments (influenza HA, HIV-1
  genes) and cross-checks mappy on them.  For a long genome it cross-checks
  window by window, between anchors that mappy's alignment gives
  (`windowed_pairwise`), since a 30 kb x 30 kb matrix does not fit in memory.
"""
from __future__ import annotations

from typing import Optional, Tuple

from Bio.Align import PairwiseAligner, substitution_matrices
from Bio.Seq import reverse_complement

from .calls import AlignedPair, rows_from_cs, trim_end_gaps

__all__ = ["MappyAligner", "ExactAligner", "NotAligned", "windowed_pairwise", "extend_ends", "MIN_ALIGNED_FRACTION",
           "SHORT_SEGMENT"]

MIN_ALIGNED_FRACTION = 0.5    # less of a genome aligned than this: another virus or a chimera, not a genome
SHORT_SEGMENT = 10_000        # PairwiseAligner aligns whole sequences up to this length (memory ~ n*m bytes)
_SCORES = {"match": 1, "mismatch": -4, "gap_open": 6, "gap_extend": 2, "ambiguous": 0}
_MAPPY_SCORING = [1, 4, 6, 2, 26, 1, 0]   # a, b, q, e, q2, e2, sc_ambi: asm20 with --score-N=0
_LETTERS = "ACGTRYSWKMBDHVN"


class NotAligned(Exception):
    """The genome does not align to the reference; the message is the reason shown to the user."""


class MappyAligner:
    """minimap2 (asm20 preset) with the reference indexed once."""

    name = "mappy"

    def __init__(self, reference: str):
        import mappy

        self.reference = reference
        self.index = mappy.Aligner(seq=reference, preset="asm20", scoring=_MAPPY_SCORING)
        if not self.index:
            raise RuntimeError("mappy could not index the reference")
        self._end_aligners = (_pairwise_aligner(False, free="left"), _pairwise_aligner(False, free="right"))

    def align(self, genome: str) -> Tuple[AlignedPair, str]:
        """(rows over the aligned region, the genome as aligned: itself or its reverse complement)."""
        hit = self._best_hit(genome)
        if hit is None:
            raise NotAligned("does not align to the reference (no minimap2 hit: another virus?)")
        if hit.strand < 0:
            genome = reverse_complement(genome)
            hit = self._best_hit(genome)
            if hit is None or hit.strand < 0:
                raise NotAligned("its reverse complement does not align to the reference")
        _check_fraction(hit.q_en - hit.q_st, len(genome))
        pair = rows_from_cs(hit.cs, self.reference, genome, hit.r_st, hit.q_st)
        return extend_ends(pair, self.reference, genome, self._end_aligners), genome

    def _best_hit(self, genome: str):
        hits = [h for h in self.index.map(genome, cs=True) if h.is_primary]
        return max(hits, key=lambda h: h.mlen, default=None)


class ExactAligner:
    """Biopython's PairwiseAligner with minimap2's asm20 scores and free end gaps (short segments)."""

    name = "pairwise"

    def __init__(self, reference: str, free_ends: bool = True):
        self.reference = reference
        self.aligner = _pairwise_aligner(free_ends)

    def align(self, genome: str) -> Tuple[AlignedPair, str]:
        """As MappyAligner.align; the reverse complement is tried when the genome itself does not align."""
        if len(genome) * len(self.reference) > SHORT_SEGMENT ** 2:
            raise NotAligned(f"too long for PairwiseAligner ({len(genome)} x {len(self.reference)} nt)")
        try:
            return self._forward(genome), genome
        except NotAligned as forward_failure:
            flipped = reverse_complement(genome)
            try:
                return self._forward(flipped), flipped
            except NotAligned:
                raise forward_failure from None

    def _forward(self, genome: str) -> AlignedPair:
        pair = align_segment(self.aligner, self.reference, genome)
        if pair is None:
            raise NotAligned("does not align to the reference (PairwiseAligner: no positive score)")
        aligned = trim_end_gaps(pair)
        _check_fraction(aligned.query_end - aligned.query_start, len(genome))
        return pair


def align_segment(aligner: PairwiseAligner, reference: str, genome: str) -> Optional[AlignedPair]:
    """The best alignment's rows, with unaligned end columns cut off by the caller (left_align)."""
    if aligner.score(reference, genome) <= 0:
        return None
    alignment = aligner.align(reference, genome)[0]
    return AlignedPair(alignment[0], alignment[1], 0, 0)


def _pairwise_aligner(free_ends: bool, free: str = "") -> PairwiseAligner:
    matrix = substitution_matrices.Array(_LETTERS, dims=2, data=None)
    for a in _LETTERS:
        for b in _LETTERS:
            matrix[a, b] = (_SCORES["ambiguous"] if "ACGT".find(a) < 0 or "ACGT".find(b) < 0
                            else _SCORES["match"] if a == b else _SCORES["mismatch"])
    aligner = PairwiseAligner(mode="global", substitution_matrix=matrix)
    aligner.open_gap_score = -(_SCORES["gap_open"] + _SCORES["gap_extend"])
    aligner.extend_gap_score = -_SCORES["gap_extend"]
    if free_ends:
        aligner.end_gap_score = 0.0
    elif free == "left":
        aligner.left_gap_score = 0.0
    elif free == "right":
        aligner.right_gap_score = 0.0
    return aligner


def extend_ends(pair: AlignedPair, reference: str, genome: str, aligners, limit: int = 5000) -> AlignedPair:
    """minimap2's alignment extended over the ends it clipped, by PairwiseAligner with free outer end gaps.

    minimap2 drops an end whose extension scores below zero, so a mismatch in
    a genome's first or last few bases goes uncalled; PairwiseAligner over
    the whole of a short segment keeps it.  Re-aligning the clipped ends
    (anchored at the alignment, free at the outside) with the same scores
    makes both aligners treat ends alike: what the genome covers is called.
    """
    left, right = aligners
    ref_row, query_row = pair.ref_row, pair.query_row
    r0, q0 = pair.ref_start, pair.query_start
    if 0 < r0 <= limit and 0 < q0 <= limit:
        head = left.align(reference[:r0], genome[:q0])[0]
        ref_row, query_row, r0, q0 = head[0] + ref_row, head[1] + query_row, 0, 0
    r1, q1 = pair.ref_end, pair.query_end
    if 0 < len(reference) - r1 <= limit and 0 < len(genome) - q1 <= limit:
        tail = right.align(reference[r1:], genome[q1:])[0]
        ref_row, query_row = ref_row + tail[0], query_row + tail[1]
    return AlignedPair(ref_row, query_row, r0, q0)


def windowed_pairwise(reference: str, genome: str, mappy_pair: AlignedPair, window: int = 2000) -> AlignedPair:
    """PairwiseAligner over windows of a long genome, cut at anchors of mappy's alignment.

    The cuts are columns inside runs of at least 20 identical bases (where
    any sensible aligner agrees), about every `window` reference bases.  The
    first and last windows reach the sequences' ends with free end gaps, so
    ends that minimap2 clipped are re-examined.
    """
    cuts = _anchor_cuts(mappy_pair, window)
    anchored, free = _pairwise_aligner(False), _pairwise_aligner(True)
    ref_rows, query_rows = [], []
    bounds = [(0, 0)] + cuts + [(len(reference), len(genome))]
    for (r0, q0), (r1, q1) in zip(bounds, bounds[1:]):
        at_end = r0 == 0 or r1 == len(reference)
        rows = _window_rows(free if at_end else anchored, reference[r0:r1], genome[q0:q1])
        ref_rows.append(rows[0]), query_rows.append(rows[1])
    return AlignedPair("".join(ref_rows), "".join(query_rows), 0, 0)


def _window_rows(aligner: PairwiseAligner, reference: str, genome: str) -> Tuple[str, str]:
    if not reference or not genome:
        return reference or "-" * len(genome), genome or "-" * len(reference)
    alignment = aligner.align(reference, genome)[0]
    return alignment[0], alignment[1]


def _anchor_cuts(pair: AlignedPair, window: int):
    """(reference, genome) 0-based cut points in the middle of long identical runs, ~`window` apart."""
    cuts, r, q, run = [], pair.ref_start, pair.query_start, 0
    last = pair.ref_start
    for ref_base, query_base in zip(pair.ref_row, pair.query_row):
        run = run + 1 if ref_base == query_base else 0
        r += ref_base != "-"
        q += query_base != "-"
        if run >= 20 and r - last >= window:
            cuts.append((r - 10, q - 10))
            last, run = r, 0
    return cuts


def _check_fraction(aligned: int, length: int) -> None:
    if length and aligned / length < MIN_ALIGNED_FRACTION:
        raise NotAligned(f"does not align to the reference: only {100 * aligned / length:.0f}% of it aligns "
                         "(another virus or a chimera?)")

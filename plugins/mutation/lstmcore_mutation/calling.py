"""Exact calls for every genome: clean, align, left-align, call, and say what could not be called.

`call_genome` turns one `Genome` into a `GenomeResult`; `call_genomes`
streams them for files of any size.  Which aligner writes the calls:

- "auto" (default): PairwiseAligner for a short reference (up to
  `SHORT_SEGMENT` nt: influenza segments, HIV-1 genes), cross-checked
  against mappy; mappy for long genomes (SARS-CoV-2), cross-checked by
  windowed PairwiseAligner only when asked (`cross_check=True`, slower);
- "mappy" or "pairwise": that one alone (plus the cross-check if asked).

A genome that does not align (another virus, mostly N, empty, protein) is
a result with status "unaligned" or "invalid" and its reason, never dropped.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Iterator, List, Optional, Tuple

from lstmcore.errors import UserInputError

from .aligners import SHORT_SEGMENT, ExactAligner, MappyAligner, NotAligned, windowed_pairwise
from .calls import Call, calls_from_rows, left_align
from .sequences import Genome, Reference, trim_edge_n

__all__ = ["GenomeResult", "Caller", "call_genomes", "MAX_UNKNOWN_FRACTION", "ALIGNER_CHOICES"]

MAX_UNKNOWN_FRACTION = 0.5   # more N / ambiguity codes than this (after the edge N runs): no genome to call
ALIGNER_CHOICES = ("auto", "mappy", "pairwise")


@dataclass
class GenomeResult:
    """One genome's calls and what the summary reports about it (positions 1-based, inclusive)."""

    genome: str
    source: str
    length: int
    status: str = "aligned"              # aligned | unaligned | invalid
    reason: str = ""
    aligner: str = ""
    ref_start: int = 0
    ref_end: int = 0
    calls: List[Call] = field(default_factory=list)
    missing: List[Tuple[int, int]] = field(default_factory=list)
    n_count: int = 0
    cross_check: str = ""               # "" (not run), "agree", or the differences
    strand: str = "+"
    query_start: int = 0                # 0-based genome index of the base aligned at ref_start (as aligned)

    @property
    def aligned(self) -> bool:
        return self.status == "aligned"

    def unknown_at(self, position: int) -> bool:
        """The genome holds no base call at this reference position (outside its span, an N, or a code)."""
        if not self.aligned or not self.ref_start <= position <= self.ref_end:
            return True
        if any(start <= position <= end for start, end in self.missing):
            return True
        return any(c.position == position and c.type == "ambiguous" for c in self.calls)


class Caller:
    """Aligns genomes to one reference with the chosen aligner (and the other as cross-check)."""

    def __init__(self, reference: Reference, aligner: str = "auto", cross_check: Optional[bool] = None):
        if aligner not in ALIGNER_CHOICES:
            raise ValueError(f"aligner must be one of {ALIGNER_CHOICES}. Received: aligner={aligner!r}")
        short = len(reference) <= SHORT_SEGMENT
        if aligner == "pairwise" and not short:
            raise UserInputError(f"--aligner pairwise serves references up to {SHORT_SEGMENT} nt (this one has "
                                 f"{len(reference)}); use mappy (the default for long genomes)",
                                 file=reference.source, record=reference.id)
        self.reference = reference
        self.primary_name = ("pairwise" if short else "mappy") if aligner == "auto" else aligner
        self.check = short if cross_check is None else cross_check
        self._mappy = MappyAligner(reference.sequence)
        self._exact = ExactAligner(reference.sequence) if (short or self.primary_name == "pairwise") else None

    def call(self, genome: Genome) -> GenomeResult:
        """The calls of one genome, or its reason for having none."""
        result = GenomeResult(genome.id, genome.source, len(genome.sequence), n_count=genome.sequence.count("N"))
        if genome.problem:
            return _failed(result, "invalid", genome.problem)
        start, end = trim_edge_n(genome.sequence)
        core = genome.sequence[start:end]
        unknown = len(core) - sum(core.count(base) for base in "ACGT")
        if not core or unknown > MAX_UNKNOWN_FRACTION * len(core):
            share = 1 - sum(genome.sequence.count(base) for base in "ACGT") / len(genome.sequence)
            return _failed(result, "unaligned", f"too many N: {100 * share:.0f}% of the genome is N "
                                                "or an ambiguity code")
        try:
            pair, aligned_genome = self._primary().align(core)
        except NotAligned as reason:
            return _failed(result, "unaligned", str(reason))
        pair = left_align(pair)
        result.aligner, result.strand = self.primary_name, "+" if aligned_genome == core else "-"
        result.calls, result.missing = calls_from_rows(pair)
        result.ref_start, result.ref_end = pair.ref_start + 1, pair.ref_end
        result.query_start = pair.query_start + (start if result.strand == "+" else len(genome.sequence) - end)
        if self.check:
            result.cross_check = self._cross_check(aligned_genome, result)
        return result

    def _primary(self):
        return self._exact if self.primary_name == "pairwise" else self._mappy

    def _cross_check(self, genome: str, result: GenomeResult) -> str:
        """'agree', or the calls only one aligner made ('mappy-only: ...; pairwise-only: ...')."""
        try:
            other = self.other_result(genome, result)
        except NotAligned as reason:
            return f"other aligner: {reason}"
        return describe_differences(set(result.calls), set(other.calls), self.primary_name)

    def other_result(self, genome: str, result: GenomeResult) -> GenomeResult:
        """The same genome (as aligned) called by the other aligner: mappy, PairwiseAligner on the whole
        of a short segment, or PairwiseAligner in windows between mappy's anchors for a long genome."""
        if self.primary_name == "pairwise":
            pair = self._mappy.align(genome)[0]
        elif len(genome) <= SHORT_SEGMENT and self._exact is not None:
            pair = self._exact.align(genome)[0]
        else:
            pair = windowed_pairwise(self.reference.sequence, genome, self._mappy.align(genome)[0])
        pair = left_align(pair)
        other = GenomeResult(result.genome, result.source, result.length, n_count=result.n_count,
                             aligner="mappy" if self.primary_name == "pairwise" else "pairwise")
        other.calls, other.missing = calls_from_rows(pair)
        other.ref_start, other.ref_end = pair.ref_start + 1, pair.ref_end
        return other


def describe_differences(primary: set, other: set, primary_name: str) -> str:
    """'agree' or the calls only one side made, named by aligner."""
    other_name = "mappy" if primary_name == "pairwise" else "pairwise"
    only_primary, only_other = sorted(primary - other), sorted(other - primary)
    if not only_primary and not only_other:
        return "agree"
    parts = []
    for name, calls in ((primary_name, only_primary), (other_name, only_other)):
        if calls:
            parts.append(f"{name}-only: " + ",".join(format_call(c) for c in calls))
    return "; ".join(parts)


def format_call(call: Call) -> str:
    """A call as text: A23403G, del11288-11296, ins28262:GAACA, amb3037:Y."""
    if call.type == "substitution":
        return f"{call.ref}{call.position}{call.alt}"
    if call.type == "deletion":
        return f"del{call.position}-{call.position + len(call.ref) - 1}"
    if call.type == "insertion":
        return f"ins{call.position}:{call.alt}"
    return f"amb{call.position}:{call.alt}"


def _failed(result: GenomeResult, status: str, reason: str) -> GenomeResult:
    result.status, result.reason = status, reason
    return result


def call_genomes(caller: Caller, genomes: Iterable[Genome]) -> Iterator[GenomeResult]:
    """The results of a stream of genomes, in their order."""
    for genome in genomes:
        yield caller.call(genome)

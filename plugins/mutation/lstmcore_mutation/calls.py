"""From an alignment of a genome to the reference to its calls, the same way for every aligner.

An aligner (mappy or PairwiseAligner) gives an `AlignedPair`: two rows of
equal length over the aligned region, the reference's and the genome's, with
'-' for gaps.  From there one code path makes the calls, so the two aligners
can only differ in where they put the gaps, never in how calls are written:

1. `left_align` moves every gap run as far left as the sequence allows
   (the rule of VCF normalisation, bcftools norm, Nextclade): a gap moves one
   column left while the column before it is an identical match and its base
   equals the gap run's last base.  Gap runs at an end, or with fewer than
   `END_ANCHOR` aligned columns between them and the end, are unaligned ends,
   not indels, and are cut off (`trim_end_gaps`).
2. `calls_from_rows` walks the columns that differ:
   - substitution: one row per reference base whose genome base is another of A, C, G, T;
   - ambiguous: the genome holds an IUPAC code other than N there (R, Y, ...):
     never a mutation, one row per base with the code as `alt`;
   - missing: an N (no data), not a row; kept as reference intervals for the
     summary, the VCF (genotype '.') and the clades ("missing");
   - deletion: at the first deleted reference base, ref = the deleted bases, alt '-';
   - insertion: at the reference position after which the bases are inserted,
     ref '-', alt = the inserted bases.
   Positions are 1-based reference coordinates.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Tuple

import numpy as np

__all__ = ["Call", "AlignedPair", "CALL_TYPES", "MUTATION_TYPES", "left_align", "trim_end_gaps",
           "calls_from_rows", "rows_from_cs"]

CALL_TYPES = ("substitution", "insertion", "deletion", "ambiguous")
MUTATION_TYPES = ("substitution", "insertion", "deletion")
END_ANCHOR = 10   # aligned columns an indel needs between it and an alignment end to be an indel
_GAP = ord("-")
_N = ord("N")
_ACGT = np.zeros(256, dtype=bool)
_ACGT[[ord(c) for c in "ACGT"]] = True
_CS_OPERATION = re.compile(r":(\d+)|\*([a-z])([a-z])|\+([a-z]+)|-([a-z]+)|~[a-z]{2}(\d+)[a-z]{2}|=([A-Za-z]+)")


@dataclass(frozen=True, order=True)
class Call:
    """One call in reference coordinates (1-based `position`)."""

    position: int
    type: str
    ref: str
    alt: str


@dataclass
class AlignedPair:
    """Rows of an alignment over its aligned region; `ref_start`/`query_start` are 0-based offsets."""

    ref_row: str
    query_row: str
    ref_start: int
    query_start: int

    @property
    def ref_end(self) -> int:
        """0-based exclusive end of the aligned reference span."""
        return self.ref_start + len(self.ref_row) - self.ref_row.count("-")

    @property
    def query_end(self) -> int:
        return self.query_start + len(self.query_row) - self.query_row.count("-")


def rows_from_cs(cs: str, reference: str, query: str, ref_start: int, query_start: int) -> AlignedPair:
    """The alignment rows from minimap2's cs tag (short form), bases taken from the sequences themselves.

    The genome's own letters are used, not the tag's: minimap2 shows every
    IUPAC code as 'n', and the call must keep the code the genome holds.
    """
    ref_parts, query_parts = [], []
    r, q = ref_start, query_start
    for match in _CS_OPERATION.finditer(cs):
        same, sub_ref, _, inserted, deleted, intron, long_same = match.groups()
        if same or long_same:
            length = int(same) if same else len(long_same)
            ref_parts.append(reference[r:r + length]), query_parts.append(query[q:q + length])
            r, q = r + length, q + length
        elif sub_ref:
            ref_parts.append(reference[r]), query_parts.append(query[q])
            r, q = r + 1, q + 1
        elif inserted:
            ref_parts.append("-" * len(inserted)), query_parts.append(query[q:q + len(inserted)])
            q += len(inserted)
        elif deleted or intron:
            length = len(deleted) if deleted else int(intron)
            ref_parts.append(reference[r:r + length]), query_parts.append("-" * length)
            r += length
    return AlignedPair("".join(ref_parts), "".join(query_parts), ref_start, query_start)


def left_align(pair: AlignedPair) -> AlignedPair:
    """Every gap run shifted left as far as the sequences allow, then end gaps cut off."""
    ref_row, query_row = list(pair.ref_row), list(pair.query_row)
    for start, end, row_with_gap in _gap_runs(pair.ref_row, pair.query_row):
        if start == 0 or end == len(ref_row):
            continue  # an end gap is an unaligned end: trimmed below, never moved into the aligned bases
        gapped, other = (query_row, ref_row) if row_with_gap == "query" else (ref_row, query_row)
        while start > 0 and gapped[start - 1] == other[start - 1] != "-" and other[start - 1] == other[end - 1]:
            gapped[end - 1], gapped[start - 1] = gapped[start - 1], "-"
            start, end = start - 1, end - 1
    return trim_end_gaps(AlignedPair("".join(ref_row), "".join(query_row), pair.ref_start, pair.query_start))


def _gap_runs(ref_row: str, query_row: str) -> List[Tuple[int, int, str]]:
    """(start, end, which row has the gap) of every gap run, in column order."""
    runs = [(m.start(), m.end(), "query") for m in re.finditer(r"-+", query_row)]
    runs += [(m.start(), m.end(), "ref") for m in re.finditer(r"-+", ref_row)]
    return sorted(runs)


def trim_end_gaps(pair: AlignedPair) -> AlignedPair:
    """Cut unaligned ends: leading and trailing gap columns, and an end anchored by too few bases.

    An indel with fewer than `END_ANCHOR` aligned columns between it and an
    end of the alignment is no indel but an end the aligner forced into
    place (a poly-A tail of another length, a primer left on): the end is
    cut there, and the genome's aligned span ends before it.
    """
    ref_row, query_row = pair.ref_row, pair.query_row
    gapped = [i for i, (r, q) in enumerate(zip(ref_row, query_row)) if r == "-" or q == "-"]
    lead, tail = 0, len(ref_row)
    for column in gapped:             # from the left: cut while the gap is less than END_ANCHOR in
        if column - lead >= END_ANCHOR:
            break
        lead = column + 1
    for column in reversed(gapped):
        if tail - 1 - column >= END_ANCHOR or column < lead:
            break
        tail = column
    if lead == 0 and tail == len(ref_row):
        return pair
    ref_skip = lead - ref_row[:lead].count("-")
    query_skip = lead - query_row[:lead].count("-")
    return AlignedPair(ref_row[lead:tail], query_row[lead:tail], pair.ref_start + ref_skip,
                       pair.query_start + query_skip)


def calls_from_rows(pair: AlignedPair) -> Tuple[List[Call], List[Tuple[int, int]]]:
    """(calls, missing) of a left-aligned pair; missing = 1-based inclusive reference intervals of N."""
    ref = np.frombuffer(pair.ref_row.encode("ascii"), dtype=np.uint8)
    query = np.frombuffer(pair.query_row.encode("ascii"), dtype=np.uint8)
    # 1-based reference position of each column (for an insertion column: the base before it).
    position = pair.ref_start + np.cumsum(ref != _GAP)
    missing_columns = (query == _N) & (ref != _GAP)
    calls: List[Call] = []
    differing = np.flatnonzero((ref != query) & ~missing_columns)
    for start, end in _runs(differing, ref, query):
        calls.extend(_calls_of_run(pair, start, end, int(position[start]), ref, query))
    missing = [(int(position[s]), int(position[e - 1])) for s, e in _true_runs(missing_columns)]
    return calls, missing


def _runs(columns: np.ndarray, ref: np.ndarray, query: np.ndarray):
    """Consecutive columns of one kind: an insertion or a deletion is one run; other columns one each."""
    kind = np.where(ref[columns] == _GAP, 1, np.where(query[columns] == _GAP, 2, 0))
    start = 0
    for i in range(1, len(columns) + 1):
        if i == len(columns) or kind[i] == 0 or kind[i] != kind[start] or columns[i] != columns[i - 1] + 1:
            yield int(columns[start]), int(columns[i - 1]) + 1
            start = i


def _calls_of_run(pair: AlignedPair, start: int, end: int, position: int, ref, query) -> List[Call]:
    if ref[start] == _GAP:
        return [Call(position, "insertion", "-", pair.query_row[start:end])]
    if query[start] == _GAP:
        return [Call(position, "deletion", pair.ref_row[start:end], "-")]
    base = pair.query_row[start]
    kind = "substitution" if _ACGT[query[start]] else "ambiguous"
    return [Call(position, kind, pair.ref_row[start], base)]


def _true_runs(mask: np.ndarray):
    """(start, end) of every run of True in a boolean array."""
    if not mask.any():
        return []
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2], edges[1::2]))

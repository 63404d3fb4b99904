"""The calls table and the per-genome summary, as tab-separated text (or CSV by extension).

Calls: `genome position ref alt type` (+ `probability` for the tagger), one
row per call in reference coordinates (see calls.py for the rules).
Summary: one row per genome, aligned or not, with its counts by type,
coverage and N fraction, so a genome that could not be called is listed by
name with the reason.  Both go through the core's `write_table` (atomic).
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Iterable, Iterator, List, Sequence

from lstmcore.io.writers import write_table

from .calling import GenomeResult

__all__ = ["CALL_HEADER", "SUMMARY_HEADER", "call_rows", "summary_row", "write_calls", "write_summary",
           "summary_path", "read_calls"]

CALL_HEADER = ["genome", "position", "ref", "alt", "type"]
SUMMARY_HEADER = ["genome", "file", "status", "reason", "aligner", "strand", "ref_start", "ref_end", "coverage",
                  "n_fraction", "substitutions", "insertions", "deletions", "ambiguous", "missing_bases",
                  "cross_check"]


def call_rows(results: Iterable[GenomeResult]) -> Iterator[List]:
    for result in results:
        for call in result.calls:
            yield [result.genome, call.position, call.ref, call.alt, call.type]


def summary_row(result: GenomeResult, reference_length: int) -> List:
    """Counts by type, coverage (share of reference bases with a base call) and N fraction of one genome."""
    counts = Counter(call.type for call in result.calls)
    missing = sum(end - start + 1 for start, end in result.missing)
    span = result.ref_end - result.ref_start + 1 if result.aligned else 0
    deleted = sum(len(call.ref) for call in result.calls if call.type == "deletion")
    called = max(0, span - missing - counts["ambiguous"] - deleted)
    return [result.genome, result.source, result.status, result.reason, result.aligner,
            result.strand if result.aligned else "", result.ref_start or "", result.ref_end or "",
            round(called / reference_length, 6), round(result.n_count / result.length, 6) if result.length else 1.0,
            counts["substitution"], counts["insertion"], counts["deletion"], counts["ambiguous"], missing,
            result.cross_check]


def write_calls(path: Path, results: Iterable[GenomeResult]) -> None:
    write_table(path, CALL_HEADER, call_rows(results))


def write_summary(path: Path, results: Sequence[GenomeResult], reference_length: int) -> None:
    write_table(path, SUMMARY_HEADER, (summary_row(r, reference_length) for r in results))


def summary_path(output: Path, name: str = "summary") -> Path:
    """calls.tsv -> calls.summary.tsv, calls.vcf.gz -> calls.summary.tsv (beside the output)."""
    output = Path(output)
    stem = output.name
    for suffix in (".gz", ".vcf", ".tsv", ".csv", ".txt", ".tab"):
        stem = stem[: -len(suffix)] if stem.lower().endswith(suffix) else stem
    return output.with_name(f"{stem}.{name}.tsv")


def read_calls(path: Path) -> List[dict]:
    """The rows of a calls table as dicts (positions as int), for tests and evaluation."""
    import csv

    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="," if str(path).endswith(".csv") else "\t"))
    for row in rows:
        row["position"] = int(row["position"])
    return rows

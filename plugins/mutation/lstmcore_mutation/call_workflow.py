"""`lstmcore mutation call`: reference + genomes -> calls (TSV or VCF), summary, clades.

Genomes are streamed: for a TSV output every genome's calls, summary row and
clade row are written as soon as it is aligned, so hundreds of thousands of
genomes need no more memory than one.  A VCF has every genome as a sample,
so its calls are kept until the end (tens of calls per genome).

Every output is written atomically.  Genomes that could not be called are
listed in the summary with their reason, and afterwards the run stops with
one line naming the first of them (exit status 2), the others' results
written.  When no genome at all could be called, nothing is written (an
earlier run's outputs stay as they were) and the one line says so.

On a terminal a bar on stderr counts the genomes (out of the records of the
genome files, counted first when they are plain files); `-q` hides it.
"""
from __future__ import annotations

import contextlib
import csv
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from lstmcore import toolkit as tk
from lstmcore.errors import UserInputError
from lstmcore.io.atomic import atomic_open
from lstmcore.io.outputs import check_output

from .calling import Caller, GenomeResult
from .clades import CLADE_HEADER, CladeTable, assign_clade, clade_row, read_clades
from .sequences import iter_genomes, read_reference
from .tables import CALL_HEADER, SUMMARY_HEADER, call_rows, summary_path, summary_row

__all__ = ["CallRun", "run_calls", "is_vcf"]


@dataclass
class CallRun:
    """What a run wrote and which genomes it could not call."""

    genomes: int = 0
    calls: int = 0
    failed: List[GenomeResult] = field(default_factory=list)
    files: Dict[str, Path] = field(default_factory=dict)
    clade_counts: Dict[str, int] = field(default_factory=dict)


def is_vcf(path: os.PathLike) -> bool:
    return str(path).lower().endswith((".vcf", ".vcf.gz"))


def run_calls(reference_path: os.PathLike, genome_paths: Sequence[os.PathLike], output: os.PathLike, *,
              clades: Optional[os.PathLike] = None, aligner: str = "auto", cross_check: Optional[bool] = None,
              reference_record: Optional[str] = None, progress: bool = False, strict: bool = True) -> CallRun:
    """Call every genome; with `strict`, raise for the first genome that could not be called (after writing)."""
    from lstmcore.toolkit import require_files

    inputs = [reference_path, *genome_paths, *([clades] if clades else [])]
    require_files(inputs)
    output = check_output(output, inputs, allow_stdout=False)  # `-` refused: a summary is written beside it
    files = {"calls": output, "summary": summary_path(output)}
    if clades:
        files["clades"] = summary_path(output, "clades")
    _refuse_overwriting_inputs(files, inputs)
    for path in files.values():
        check_output(path, inputs, allow_stdout=False)
    reference = read_reference(reference_path, reference_record)
    table = read_clades(clades, reference) if clades else None
    caller = Caller(reference, aligner, cross_check)
    run = CallRun(files=files)
    results = _progress((caller.call(g) for g in iter_genomes(genome_paths)), progress, genome_paths)
    with contextlib.ExitStack() as stack:
        writers = {name: csv.writer(stack.enter_context(atomic_open(path, "w", newline="", encoding="utf-8")),
                                    delimiter="," if str(path).endswith(".csv") else "\t", lineterminator="\n")
                   for name, path in files.items() if not (name == "calls" and is_vcf(path))}
        kept = _write_stream(run, results, writers, reference, table, keep=is_vcf(output))
        if strict and run.failed and len(run.failed) == run.genomes:
            raise _failure(run)   # raised inside: the atomic outputs are dropped, earlier ones left as they were
    if is_vcf(output):
        from .vcf import write_vcf

        write_vcf(output, reference, kept)
    if strict and run.failed:
        raise _failure(run)
    return run


def _refuse_overwriting_inputs(files: Dict[str, Path], inputs) -> None:
    """An output never replaces an input (`-o genomes.tsv` beside genomes.fasta is fine, `-o clades.tsv` not)."""
    given = {Path(p).resolve(): p for p in inputs}
    for path in files.values():
        if path.resolve() in given:
            raise UserInputError("is an input of this run; choose another output name", file=given[path.resolve()])


def _write_stream(run: CallRun, results, writers, reference, table: Optional[CladeTable], keep: bool):
    headers = {"calls": CALL_HEADER, "summary": SUMMARY_HEADER, "clades": CLADE_HEADER}
    for name, writer in writers.items():
        writer.writerow(headers[name])
    kept = []
    for result in results:
        run.genomes += 1
        run.calls += len(result.calls)
        if not result.aligned:
            run.failed.append(result)
        if "calls" in writers:
            writers["calls"].writerows(call_rows([result]))
        writers["summary"].writerow(summary_row(result, len(reference)))
        if table is not None:
            clade = assign_clade(result, table, reference.sequence)
            run.clade_counts[clade.clade] = run.clade_counts.get(clade.clade, 0) + 1
            writers["clades"].writerow(clade_row(clade))
        if keep:
            kept.append(result)
    return kept


def _progress(results, progress: bool, genome_paths: Sequence[os.PathLike] = ()):
    """A per-genome bar on stderr, on a terminal only (the core's bars: `disable=None`), hidden by -q."""
    if not progress:
        return results
    return tk.progress_bar(results, total=_count_records(genome_paths), desc="align", unit=" genomes", leave=False,
                           disable=None)


def _count_records(paths: Sequence[os.PathLike]) -> Optional[int]:
    """How many FASTA records the genome files hold (the bar's total); None where one is not a plain file
    (standard input, a pipe: read once) or cannot be read (the run itself then says why)."""
    from lstmcore.io.fasta import open_text

    if not paths or not all(os.fspath(p) != "-" and Path(p).is_file() for p in paths):
        return None
    total = 0
    try:
        for path in paths:
            with open_text(path) as handle:
                total += sum(1 for line in handle if line.startswith(">"))
    except Exception:   # noqa: BLE001 - only the bar's total; reading the genomes reports the real problem
        return None
    return total


def _failure(run: CallRun) -> UserInputError:
    first = run.failed[0]
    others = len(run.failed) - 1
    if others == run.genomes - 1:   # not one genome called: nothing was written
        more = f"; none of the {run.genomes} genomes could be called" if others else ""
        return UserInputError(f"not called: {first.reason}{more}, so nothing is written",
                              file=first.source, record=first.genome)
    more = f"; {others} more" if others else ""
    return UserInputError(f"not called: {first.reason}{more} (listed in {run.files['summary']}; the other "
                          f"{run.genomes - len(run.failed)} genomes' calls are written)",
                          file=first.source, record=first.genome)

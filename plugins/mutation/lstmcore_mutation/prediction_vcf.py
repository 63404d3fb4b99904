"""The `vcf` prediction writer: `lstmcore predict M.lstm GENOMES -o calls.vcf` writes the tagger's calls as VCF.

The core's writers receive a header and rows and write text; a VCF also
needs the reference (contig, anchor bases of indels) and every genome as a
sample, including genomes without a call.  The mutation task's rows are
`CallRow`s: ordinary lists (so the TSV writer writes them as they are) that
carry a shared `PredictionContext` with the reference and the genomes seen.
The writer collects the rows, then writes the VCF with pysam (vcf.py) into
the handle the core opened atomically.  Rows of any other task have no
context, and the writer says so.
"""
from __future__ import annotations

import os
import tempfile
from collections import defaultdict
from typing import Dict, Iterable, List, Mapping, Sequence, TextIO

from lstmcore.errors import UserInputError
from lstmcore.io.writers import Writer

from .calling import GenomeResult
from .calls import Call
from .sequences import Reference

__all__ = ["CallRow", "PredictionContext", "VCF_WRITER"]


class PredictionContext:
    """The reference of a model, and the genomes predicted so far (name -> file)."""

    def __init__(self, reference: Reference):
        self.reference = reference
        self.genomes: Dict[str, str] = {}

    @classmethod
    def for_state(cls, state: Mapping) -> "PredictionContext":
        """The context of one prediction run, kept in the loaded model's state (which all its chunks share)."""
        if not isinstance(state.get("_prediction_context"), cls):
            state["_prediction_context"] = cls(Reference(state["reference_id"], state["reference"], ""))
        return state["_prediction_context"]

    def add_genome(self, genome) -> None:
        self.genomes.setdefault(genome.id, genome.source)


class CallRow(list):
    """A row of the calls table that also knows its prediction's context."""

    def __init__(self, values: Sequence, context: PredictionContext):
        super().__init__(values)
        self.context = context


def _write(handle: TextIO, header: Sequence[str], rows: Iterable[Sequence]) -> None:
    rows = list(rows)
    context = next((row.context for row in rows if isinstance(row, CallRow)), None)
    if context is None and rows:
        raise UserInputError("a VCF output is written only for the mutation task's calls; use .tsv")
    if context is None:
        from .tagger_data import PREDICTION_HEADER  # no calls at all: an empty VCF needs the task's context

        raise UserInputError(f"no calls to write as VCF (columns {' '.join(PREDICTION_HEADER)}); use .tsv")
    results, probabilities = _results(rows, context)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "calls.vcf")
        from .vcf import write_vcf

        write_vcf(path, context.reference, results, probabilities)
        with open(path, encoding="utf-8") as written:
            handle.write(written.read())


def _results(rows: List[CallRow], context: PredictionContext):
    """Every genome as an aligned sample over the whole reference, with its calls and probabilities."""
    calls: Dict[str, List[Call]] = defaultdict(list)
    probabilities: Dict[str, Dict[Call, float]] = defaultdict(dict)
    for genome, position, ref, alt, kind, probability in rows:
        call = Call(int(position), kind, ref, alt)
        calls[genome].append(call)
        probabilities[genome][call] = float(probability)
    length = len(context.reference)
    results = [GenomeResult(name, source, length, ref_start=1, ref_end=length, calls=calls.get(name, []))
               for name, source in context.genomes.items()]
    return results, probabilities


VCF_WRITER = Writer(_write, (".vcf",), "multi-sample VCF 4.2 of the mutation task's calls (pysam), FORMAT/PR")

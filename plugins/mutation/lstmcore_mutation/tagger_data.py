"""What the mutation task's parts share: its data objects, the prediction table's columns and the
reference's k-mer index (kept apart from task.py so that scoring, training chunks and the VCF writer
need not import the task)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional

import numpy as np

from lstmcore.toolkit import Encoded

from .calling import GenomeResult
from .features import ReferenceIndex
from .sequences import Genome, Reference

__all__ = ["PREDICTION_HEADER", "MutationData", "PredictionTally", "TaggerEncoded", "reference_index"]

PREDICTION_HEADER = ["genome", "position", "ref", "alt", "type", "probability"]


@dataclass
class MutationData:
    """The reference and genomes (with their alignment calls when labelled)."""

    reference: Reference
    genomes: List[Genome]
    results: Optional[List[GenomeResult]] = None
    align_seconds: float = 0.0
    tally: Optional["PredictionTally"] = None   # shared by the chunks of one prediction run


@dataclass
class PredictionTally:
    """What `prediction_rows` made of one run's genomes: how many were tagged, which were not (and why)."""

    tagged: int = 0
    skipped: List[Any] = field(default_factory=list)   # the core's SkippedRecord, in input order


@dataclass
class TaggerEncoded(Encoded):
    """Chunks of per-position features; `weights` (chunks, steps) leave out codes and unaligned ends."""

    weights: Optional[np.ndarray] = None
    features: List[Any] = field(default_factory=list)   # per genome, for prediction

    def subset(self, index: np.ndarray) -> "TaggerEncoded":
        part = super().subset(index)
        part.weights = None if self.weights is None else self.weights[index]
        return part


_INDEXES: Dict[tuple, ReferenceIndex] = {}


def reference_index(state: Mapping[str, Any]) -> ReferenceIndex:
    """The k-mer index of the model's reference, built once per process (~10 ms for 30 kb)."""
    key = (state["reference_id"], len(state["reference"]), hash(state["reference"]), int(state["k"]))
    if key not in _INDEXES:
        _INDEXES[key] = ReferenceIndex.build(state["reference"], int(state["k"]))
    return _INDEXES[key]

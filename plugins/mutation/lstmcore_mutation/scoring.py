"""The tagger scored against the alignment calls, and both paths timed in the same run.

- per position: AUPRC of the probabilities against the labels the alignment
  calls give (positions with an ambiguity code or outside the aligned span
  left out);
- per call: precision, recall and F1 of the decoded calls against the
  alignment calls (ambiguity codes are never calls on either side), for all
  calls, substitutions alone and indels alone;
- genomes per second: the alignment path (mappy, left-alignment, calls) as
  timed while reading, and the tagger path (features, BiLSTM, decoding),
  both on the same genomes in the same process.
"""
from __future__ import annotations

import time
from typing import Dict, List, Mapping, Set, Tuple

import numpy as np

from .features import position_labels

__all__ = ["score_tagger", "call_scores"]


def score_tagger(task, model, data, state: Mapping) -> Dict[str, float]:
    predicted, probabilities, seconds = _run_tagger(task, model, data, state)
    labels, scores = [], []
    for genome, result, output in zip(data.genomes, data.results, probabilities):
        if output is None:
            continue
        probability = output[1]
        y, w = position_labels(result, genome.sequence)
        labels.append(y[w > 0])
        scores.append(probability[w > 0])
    truth = {(r.genome, c) for r in data.results for c in r.calls if c.type != "ambiguous"}
    calls = {(g.id, c) for g, found in zip(data.genomes, predicted) for c, _ in found}
    report = {"genomes": float(len(data.genomes)), "aligned_genomes": float(sum(r.aligned for r in data.results)),
              "position_auprc": _auprc(labels, scores)}
    report.update(call_scores(truth, calls))
    report["tagger_genomes_per_second"] = len(data.genomes) / max(seconds, 1e-9)
    report["alignment_genomes_per_second"] = len(data.genomes) / max(data.align_seconds, 1e-9)
    return report


def _run_tagger(task, model, data, state):
    """(calls per genome, probabilities per genome, seconds) of the tagger over `data`, in chunks."""
    from .tagger_data import MutationData, reference_index

    reference_index(state)   # built once, as mappy's index is, outside the timed part
    predicted, probabilities, seconds = [], [], 0.0
    size = task.chunk_size
    for begin in range(0, len(data.genomes), size):
        part = MutationData(None, data.genomes[begin:begin + size])
        started = time.perf_counter()
        outputs = task.predict(model, task.encode(part, state, labelled=False), state)
        predicted.extend(task.tagged_calls(part, outputs, state))
        seconds += time.perf_counter() - started
        probabilities.extend(outputs)
    return predicted, probabilities, seconds


def call_scores(truth: Set[Tuple], calls: Set[Tuple]) -> Dict[str, float]:
    """Precision, recall, F1 (and counts) for all calls, substitutions, and indels."""
    report = {}
    for name, keep in (("", lambda c: True), ("substitution_", lambda c: c.type == "substitution"),
                       ("indel_", lambda c: c.type in ("insertion", "deletion"))):
        t = {item for item in truth if keep(item[1])}
        p = {item for item in calls if keep(item[1])}
        hits = len(t & p)
        precision = hits / len(p) if p else 1.0 if not t else 0.0
        recall = hits / len(t) if t else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        report.update({f"{name}precision": precision, f"{name}recall": recall, f"{name}f1": f1,
                       f"{name}true_calls": float(len(t)), f"{name}tagged_calls": float(len(p))})
    return report


def _auprc(labels: List[np.ndarray], scores: List[np.ndarray]) -> float:
    from sklearn.metrics import average_precision_score

    y = np.concatenate(labels) if labels else np.zeros(0)
    s = np.concatenate(scores) if scores else np.zeros(0)
    return float(average_precision_score(y, s)) if y.any() else float("nan")

"""Training examples for the tagger: chunks of aligned genomes, with labels and weights from the alignment calls.

A 30 kb genome with ten mutations is 99.97 % negatives, and most of it is
positions the screen (tagger.py) never sends to the LSTM.  So training
takes, from each genome aligned on the forward strand, the chunks of
`train_chunk` positions that hold a mutation or a candidate position, and
`negatives_per_genome` chunks drawn from the rest (seeded), so the model
also learns to stay quiet on plain reference sequence.

Indels are rare in real training sets (34 in the 418 Nextstrain genomes of
2020, most in the poly(A) tail), too few to learn from.  With
`augment_indels` > 0, each training genome also gives a copy with that many
insertions and deletions planted (1-9 bases, away from its ends); the copy
is aligned like any genome, so its labels are still alignment calls.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from .calling import Caller
from .features import ReferenceIndex, genome_features, position_labels
from .planting import apply_calls, plant_mutations
from .sequences import Reference, clean_genome
from .tagger import candidate_mask

__all__ = ["sample_training_chunks"]


def sample_training_chunks(data, index: ReferenceIndex, hyperparameters: Mapping, seed: int = 0):
    from .tagger_data import TaggerEncoded

    size = int(hyperparameters["train_chunk"])
    negatives = int(hyperparameters["negatives_per_genome"])
    rng = np.random.default_rng(seed)
    xs, ys, ws, groups = [], [], [], []
    for number, genome, result in _training_genomes(data, index, hyperparameters, rng):
        if not result.aligned or result.strand != "+":
            continue
        features = genome_features(genome.sequence, index)
        labels, weights = position_labels(result, genome.sequence)
        for start in _chosen_starts(labels, candidate_mask(features), weights, size, negatives, rng):
            xs.append(features.window(start, min(start + size, len(features))))
            ys.append(labels[start:start + size])
            ws.append(weights[start:start + size])
            groups.append(number)
    return _padded(xs, ys, ws, groups, size, TaggerEncoded)


def _training_genomes(data, index: ReferenceIndex, hyperparameters: Mapping, rng):
    """(genome number, genome, alignment result): each genome, then its indel-planted copy if asked."""
    planted = int(hyperparameters.get("augment_indels", 0))
    caller = Caller(Reference("reference", index.sequence, ""), "mappy", cross_check=False) if planted else None
    for number, (genome, result) in enumerate(zip(data.genomes, data.results)):
        yield number, genome, result
        if planted and result.aligned and len(genome.sequence) > 400:
            calls = plant_mutations(genome.sequence, rng, substitutions=0, insertions=planted - planted // 2,
                                    deletions=planted // 2, spacing=60, margin=150)
            copy = clean_genome(genome.id + "+indels", apply_calls(genome.sequence, calls), genome.source)
            yield number, copy, caller.call(copy)


def _chosen_starts(labels, candidates, weights, size: int, negatives: int, rng):
    """Chunk starts: those with a mutation or a candidate in them, and a few others at random."""
    starts = np.arange(0, max(len(labels) - size, 0) + 1, size)
    if len(labels) > size and starts[-1] + size < len(labels):
        starts = np.append(starts, len(labels) - size)     # the genome's tail, overlapping the chunk before
    interesting = np.add.reduceat((labels > 0) | (candidates & (weights > 0)), starts) > 0
    rest = starts[~interesting]
    drawn = rng.choice(rest, size=min(negatives, len(rest)), replace=False) if len(rest) else rest
    return np.sort(np.concatenate([starts[interesting], drawn]))


def _padded(xs, ys, ws, groups, size: int, encoded_type):
    count = len(xs)
    channels = xs[0].shape[1] if xs else 0
    x = np.zeros((count, size, channels), dtype=np.float32)
    y = np.zeros((count, size, 1), dtype=np.float32)
    w = np.zeros((count, size), dtype=np.float32)
    lengths = np.zeros(count, dtype=np.int64)
    for row, (xi, yi, wi) in enumerate(zip(xs, ys, ws)):
        x[row, :len(xi)], y[row, :len(yi), 0], w[row, :len(wi)] = xi, yi, wi
        lengths[row] = len(xi)
    return encoded_type(x, y, lengths, np.array(groups, dtype=np.int64), weights=w)

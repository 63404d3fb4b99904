"""The per-position tagger: a bidirectional LSTM over the features of `features.py`, and how a genome runs through it.

Model (the core's layers only, so the file loads with the core alone):

    Bidirectional(LSTM(units, return_sequences=True)) -> Dense(1, sigmoid) on every step

trained with the focal loss (`focal-binary`, losses.py): mutated sites are
~1 in 1,000 positions.

Genome-length inputs (30 kb) are never truncated.  `chunk_windows` cuts a
genome into chunks of `chunk` positions that overlap by `2 * overlap`;
each chunk's outer `overlap` positions are context only, and its middle is
kept, so every position is predicted with at least `overlap` positions of
context on both sides (the whole sequence when it is shorter than a chunk).
An LSTM's memory of context fades within tens of steps, so the stitched
prediction equals the unchunked one to float precision once `overlap` is
a few hundred (tested).

`screen=True` runs the LSTM only over chunks (of the task's `screen_chunk`
positions, `screen_overlap` of context each side) around candidate positions:
those where a k-mer is absent from the reference, the two anchors disagree,
or the genome base differs from a projected reference base.  Elsewhere every
k-mer around a position is anchored in the reference with one offset and the
base equals the reference's: no mutation is possible there, and the
probability is set to 0 without running the model.  It changes no call and
makes the tagger several times faster on genomes with tens of mutations.
"""
from __future__ import annotations

from typing import List, Mapping, Sequence, Tuple

import numpy as np

from .features import _NONE, CHANNELS, GenomeFeatures

__all__ = ["build_tagger", "chunk_windows", "predict_positions", "candidate_mask", "stack_chunks"]


def build_tagger(hyperparameters: Mapping):
    """The compiled BiLSTM tagger."""
    from lstmcore import Sequential, layers, optimizers

    from .losses import FocalBinaryCrossentropy

    units = int(hyperparameters["units"])
    model = Sequential([
        layers.Bidirectional(layers.LSTM(units, return_sequences=True), input_shape=(None, CHANNELS)),
        layers.Dense(1, activation="sigmoid"),
    ])
    loss = FocalBinaryCrossentropy(gamma=float(hyperparameters["focal_gamma"]),
                                   alpha=float(hyperparameters["focal_alpha"]))
    loss.registered_name = "focal-binary"   # the name the model file records, as the plugin registers it
    model.compile(optimizer=optimizers.Adam(learning_rate=float(hyperparameters["learning_rate"])), loss=loss)
    return model


def chunk_windows(length: int, chunk: int, overlap: int) -> List[Tuple[int, int, int, int]]:
    """(start, end, keep_start, keep_end) of each chunk: the model sees [start, end), and
    [keep_start, keep_end) of its output is kept; the kept parts tile [0, length) exactly."""
    if chunk <= 2 * overlap:
        raise ValueError(f"chunk must exceed twice the overlap. Received: chunk={chunk}, overlap={overlap}")
    if length <= chunk:
        return [(0, length, 0, length)]
    windows, keep_start = [], 0
    while keep_start < length:
        start = max(0, keep_start - overlap)
        end = min(length, start + chunk)
        start = max(0, end - chunk)
        keep_end = length if end == length else end - overlap
        windows.append((start, end, keep_start, keep_end))
        keep_start = keep_end
    return windows


def candidate_mask(features: GenomeFeatures) -> np.ndarray:
    """Positions where a call is possible (see the module's note on `screen`): an A, C, G or T with an
    anchor on both sides, and a k-mer absent from the reference, disagreeing anchors or a base that
    differs from a projected reference base."""
    letters = features.letters
    anchored = (features.left_offset != _NONE) & (features.right_offset != _NONE)
    absent = (features.presence_end == 0) | (features.presence_start == 0)
    disagree = features.left_offset != features.right_offset
    mismatch = (features.left_letters != letters) | (features.right_letters != letters)
    return (absent | disagree | mismatch) & anchored & features.callable_base


def _screened_windows(mask: np.ndarray, chunk: int, overlap: int):
    """Chunk windows of the full sequence that contain a candidate in their kept part."""
    windows = chunk_windows(len(mask), chunk, overlap)
    if not mask.any():
        return []
    cumulative = np.concatenate([[0], np.cumsum(mask)])
    return [w for w in windows if cumulative[w[3]] - cumulative[w[2]] > 0]


def stack_chunks(features: Sequence[GenomeFeatures], windows_per_genome: Sequence[list]):
    """Pad the chunks of several genomes into one batch: (x, lengths, (genome, window) of each row)."""
    rows = [(g, w) for g, windows in enumerate(windows_per_genome) for w in windows]
    if not rows:
        return np.zeros((0, 1, CHANNELS), dtype=np.float32), np.zeros(0, dtype=np.int64), rows
    width = max(w[1] - w[0] for _, w in rows)
    x = np.zeros((len(rows), width, CHANNELS), dtype=np.float32)
    lengths = np.zeros(len(rows), dtype=np.int64)
    for row, (g, (start, end, _, _)) in enumerate(rows):
        x[row, :end - start] = features[g].window(start, end)
        lengths[row] = end - start
    return x, lengths, rows


def predict_positions(model, features: Sequence[GenomeFeatures], *, chunk: int, overlap: int, screen: bool,
                      batch_size: int = 64) -> List[np.ndarray]:
    """The probability of every position of every genome (0 where the screen skips)."""
    windows = [(_screened_windows(candidate_mask(f), chunk, overlap) if screen else
                chunk_windows(len(f), chunk, overlap)) for f in features]
    x, lengths, rows = stack_chunks(features, windows)
    outputs = [np.zeros(len(f), dtype=np.float32) for f in features]
    if not rows:
        return outputs
    order = np.argsort(lengths, kind="stable")        # similar lengths together: less padding per batch
    for begin in range(0, len(order), batch_size):
        batch = order[begin:begin + batch_size]
        width = int(lengths[batch].max())
        predicted = model.predict(x[batch, :width], batch_size=len(batch), verbose=0, lengths=lengths[batch])
        for row, output in zip(batch, predicted):
            g, (start, _, keep_start, keep_end) = rows[row]
            outputs[g][keep_start:keep_end] = output[keep_start - start:keep_end - start, 0]
    return outputs

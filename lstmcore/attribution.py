"""Which positions a classifier relies on, for any model: gradient x input and in-silico mutagenesis.

Both explain the same number, the *target*: the log-probability of one
class, as the task predicts it (for DNA with reverse-complement averaging,
the mean of the two strands' probabilities), so the two methods and the
prediction table always agree.

- Gradient x input: one backward pass in inference mode per batch
  (`Sequential.input_gradients`, no dropout) gives d target / d x; times the
  one-hot input it is the contribution of the base that is there.
- ISM: every single-base substitution of a sequence (3 L mutants for DNA),
  predicted in one batch.  For the default bidirectional model a mutant at
  position p shares the forward LSTM's state up to p and the backward LSTM's
  state after p with the reference, so each direction is restarted from the
  reference's state there (`lstmcore.ops.lstm_forward(h0=, c0=)`) and runs
  only over the steps that change: about half the recurrent work of
  predicting every mutant from scratch.  Other architectures predict the full
  mutants, still in one batch.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from . import ops
from .io.strands import reverse_complement_batch

__all__ = ["input_gradients", "target_log_probability", "gradient_x_input", "in_silico_mutagenesis", "MutagenesisResult",
           "strand_probabilities_of_mutants", "supports_prefix_reuse"]

_MAX_BATCH_ELEMENTS = 1 << 24   # mutant outputs held at once (floats), to bound memory on long sequences


def _probabilities(model, x: np.ndarray, lengths: Optional[np.ndarray], both_strands: bool) -> np.ndarray:
    probabilities = model.predict(x, batch_size=256, verbose=0, lengths=lengths).astype(np.float64)
    if both_strands:
        reverse = reverse_complement_batch(x, lengths)
        probabilities = 0.5 * (probabilities + model.predict(reverse, batch_size=256, verbose=0, lengths=lengths))
    return probabilities


def target_log_probability(model, x: np.ndarray, lengths: Optional[np.ndarray], class_index: np.ndarray,
                           both_strands: bool) -> np.ndarray:
    """log P(class_index[i] | x[i]) for each sequence, strands averaged when `both_strands`."""
    probabilities = _probabilities(model, x, lengths, both_strands)
    return np.log(probabilities[np.arange(x.shape[0]), class_index])


def gradient_x_input(model, x: np.ndarray, lengths: Optional[np.ndarray], class_index: np.ndarray,
                     both_strands: bool) -> Tuple[np.ndarray, np.ndarray]:
    """(gradient, gradient * x) of the target with respect to the one-hot input, both (B, T, C).

    Summing `gradient * x` over the last axis gives one score per position.
    """
    x = np.ascontiguousarray(x, dtype=model.dtype)
    class_index = np.asarray(class_index)
    width = model.output_shape[-1]
    seed = np.eye(width, dtype=model.dtype)[class_index]            # (B, classes): one class per sequence
    probabilities = _probabilities(model, x, lengths, both_strands)
    gradient = model.input_gradients(x, lengths=lengths, output_weights=seed).astype(np.float64)
    if both_strands:
        reverse = reverse_complement_batch(x, lengths)
        reverse_gradient = model.input_gradients(reverse, lengths=lengths, output_weights=seed)
        gradient = 0.5 * (gradient + reverse_complement_batch(reverse_gradient, lengths))
    gradient /= probabilities[np.arange(x.shape[0]), class_index][:, None, None]   # d log p = dp / p
    return gradient, gradient * x


@dataclass
class MutagenesisResult:
    """ISM of one sequence: `mutant[p, b]` is the target with letter b at position p (the reference where
    b is already there), `reference` the unmutated target, `delta = mutant - reference`."""

    mutant: np.ndarray
    reference: float

    @property
    def delta(self) -> np.ndarray:
        return self.mutant - self.reference

    def position_effect(self, x: np.ndarray) -> np.ndarray:
        """Per position: reference minus the mean over the substitutions (how much the base there matters)."""
        is_reference = np.isclose(x, 1.0)
        substitutions = (~is_reference).sum(axis=1)
        mean_mutant = np.where(is_reference, 0.0, self.mutant).sum(axis=1) / np.maximum(substitutions, 1)
        return self.reference - mean_mutant


def _mutants_of(x: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Positions and letters of every single substitution of one (L, C) one-hot sequence (3 L for DNA)."""
    differs = ~np.isclose(x, 1.0)          # an ambiguity row (N) differs from every one-hot letter
    positions, letters = np.nonzero(differs)
    return positions, letters


def supports_prefix_reuse(model) -> bool:
    """Whether the model is the default shape: Bidirectional(LSTM) (concat) first, then per-sequence layers."""
    from .layers import Bidirectional

    first = model.layers[0] if model.layers else None
    if not isinstance(first, Bidirectional) or first.merge_mode != "concat":
        return False
    return all(layer.activation == "tanh" and layer.recurrent_activation == "sigmoid" and not layer.stateful
               for layer in (first.forward_layer, first.backward_layer))


def _weights(layer):
    return layer.kernel, layer.recurrent_kernel, layer.bias


def _states_along(layer, x: np.ndarray):
    """Outputs (L, H) of one direction over one sequence, and its (h, c) *before* each position."""
    kernel, recurrent, bias = _weights(layer)
    steps, units = x.shape[0], recurrent.shape[0]
    h = np.zeros((1, units), x.dtype)
    c = np.zeros((1, units), x.dtype)
    outputs = np.empty((steps, units), x.dtype)
    h_before, c_before = np.empty((steps, units), x.dtype), np.empty((steps, units), x.dtype)
    for p in range(steps):
        h_before[p], c_before[p] = h[0], c[0]
        run = ops.lstm_forward(np.ascontiguousarray(x[None, p:p + 1]), kernel, recurrent, bias, h0=h, c0=c)
        h, c = run.h_n, run.c_n
        outputs[p] = h[0]
    return outputs, h_before, c_before


def _restarted_direction(layer, x: np.ndarray, positions: np.ndarray, letters: np.ndarray):
    """One direction's outputs (M, L, H) for mutants of x (in this direction's reading order).

    Mutant m changes position positions[m] to letters[m]; steps before it are
    the reference's, and the run restarts there from the reference's state.
    """
    kernel, recurrent, bias = _weights(layer)
    steps, channels = x.shape
    reference_outputs, h_before, c_before = _states_along(layer, x)
    count = positions.size
    suffix = np.zeros((count, steps, channels), x.dtype)
    for m, (p, letter) in enumerate(zip(positions, letters)):
        suffix[m, :steps - p] = x[p:]
        suffix[m, 0] = 0.0
        suffix[m, 0, letter] = 1.0
    run = ops.lstm_forward(suffix, kernel, recurrent, bias, h0=np.ascontiguousarray(h_before[positions]),
                           c0=np.ascontiguousarray(c_before[positions]), lengths=(steps - positions).astype(np.int64))
    outputs = np.empty((count, steps, recurrent.shape[0]), x.dtype)
    for m, p in enumerate(positions):
        outputs[m, :p] = reference_outputs[:p]
        outputs[m, p:] = run.outputs[m, :steps - p]
    return outputs


def _mutant_probabilities_by_restart(model, x: np.ndarray, positions: np.ndarray, letters: np.ndarray) -> np.ndarray:
    """Class probabilities of the mutants, restarting each LSTM direction at the mutated position."""
    first = model.layers[0]
    steps = x.shape[0]
    forward = _restarted_direction(first.forward_layer, x, positions, letters)
    backward = _restarted_direction(first.backward_layer, np.ascontiguousarray(x[::-1]), steps - 1 - positions,
                                    letters)[:, ::-1]
    if first.return_sequences:
        features = np.concatenate([forward, backward], axis=-1)
    else:  # last states: the forward run's final output and the backward run's output at position 0
        features = np.concatenate([forward[:, -1], backward[:, 0]], axis=-1)
    for layer in model.layers[1:]:
        features = layer.forward(np.ascontiguousarray(features), training=False, keep_cache=False)
    return features.astype(np.float64)


def _mutant_probabilities_in_full(model, x: np.ndarray, positions: np.ndarray, letters: np.ndarray) -> np.ndarray:
    """Class probabilities of the mutants, each predicted from scratch (any architecture), in one batch."""
    mutants = np.repeat(x[None], positions.size, axis=0)
    mutants[np.arange(positions.size), positions] = 0.0
    mutants[np.arange(positions.size), positions, letters] = 1.0
    return model.predict(mutants, batch_size=max(1, positions.size), verbose=0).astype(np.float64)


def strand_probabilities_of_mutants(model, x: np.ndarray, reuse_prefix: Optional[bool] = None) -> np.ndarray:
    """(L, C, classes): the model's probabilities with letter b at position p of one (L, C) sequence
    (the reference's where b is the reference letter)."""
    x = np.ascontiguousarray(x, dtype=model.dtype)
    steps, channels = x.shape
    reuse_prefix = supports_prefix_reuse(model) if reuse_prefix is None else reuse_prefix
    reference = model.predict(x[None], verbose=0)[0].astype(np.float64)
    result = np.broadcast_to(reference, (steps, channels, reference.size)).copy()
    positions, letters = _mutants_of(x)
    predict = _mutant_probabilities_by_restart if reuse_prefix else _mutant_probabilities_in_full
    chunk = max(1, _MAX_BATCH_ELEMENTS // max(1, steps * model.output_shape[-1] * 64))
    for start in range(0, positions.size, chunk):
        p, b = positions[start:start + chunk], letters[start:start + chunk]
        result[p, b] = predict(model, x, p, b)
    return result


def in_silico_mutagenesis(model, x: np.ndarray, class_index: int, both_strands: bool,
                          reuse_prefix: Optional[bool] = None) -> MutagenesisResult:
    """ISM of one (L, C) sequence (no padding) for the target log P(class_index), as the task predicts."""
    x = np.ascontiguousarray(x, dtype=model.dtype)
    probabilities = strand_probabilities_of_mutants(model, x, reuse_prefix)
    if both_strands:  # a mutant of x at p is a mutant of its reverse complement at L-1-p, complemented letter
        reverse = reverse_complement_batch(x[None], None)[0]
        probabilities = 0.5 * (probabilities + strand_probabilities_of_mutants(model, reverse, reuse_prefix)[::-1, ::-1])
    reference_probabilities = _probabilities(model, x[None], None, both_strands)[0]
    return MutagenesisResult(np.log(probabilities[:, :, class_index]), float(np.log(reference_probabilities[class_index])))


def input_gradients(model, x, output_index=None, lengths=None, output_weights=None, batch_size=None):
    """Gradients of a model's outputs with respect to its inputs, in inference mode (no dropout).

    The scalar differentiated, per sample, is `sum(outputs * output_weights)`:
    with output_weights None it is the sum of all outputs, or of the last-axis
    column `output_index` when that is given (e.g. one class's score).  For
    sequence outputs with lengths, padded steps are left out.  The result has
    x's shape; `x * input_gradients(model, x)` is gradient-times-input attribution.
    (`Sequential.input_gradients` is this.)
    """
    from .layers import Embedding
    from .trainers.trainer import _check_batch_size, _check_lengths

    if model.layers and isinstance(model.layers[0], Embedding):
        raise ValueError("input_gradients needs float inputs; the first layer is an Embedding of integer "
                         "tokens. Received: a model starting with Embedding")
    batch_size = _check_batch_size("batch_size", batch_size)
    x = model._prepare_x(x)
    lengths = _check_lengths(lengths, x.shape[0], model._steps_of(x))
    out_shape = model._output_shape_for(x)
    if isinstance(out_shape, list):
        raise ValueError("input_gradients needs a model with a single output")
    width = out_shape[-1]
    if output_index is not None and (isinstance(output_index, bool) or not isinstance(output_index, (int, np.integer))
                                     or not -width <= output_index < width):
        raise ValueError(f"output_index must be None or an integer in [{-width}, {width}). "
                         f"Received: output_index={output_index!r}")
    if output_weights is not None:
        output_weights = np.asarray(output_weights, model.dtype)
    result = np.empty(x.shape, model.dtype)
    for start in range(0, x.shape[0], batch_size):
        stop = min(start + batch_size, x.shape[0])
        lb = None if lengths is None else lengths[start:stop]
        out, out_lengths = model._forward(x[start:stop], training=False, lengths=lb, keep_cache=True)
        seed = _output_seed(out, out_lengths, output_index, output_weights, start, stop, x.shape[0])
        result[start:stop] = model._backward(seed)
    return result


def _output_seed(out, out_lengths, output_index, output_weights, start, stop, samples):
    if output_weights is not None:
        weights = output_weights
        if weights.ndim == out.ndim and weights.shape[0] == samples and samples != 1:
            weights = weights[start:stop]
        seed = np.array(np.broadcast_to(weights, out.shape), dtype=out.dtype)
    elif output_index is None:
        seed = np.ones_like(out)
    else:
        seed = np.zeros_like(out)
        seed[..., output_index] = 1.0
    if out_lengths is not None and out.ndim == 3:
        seed *= (np.arange(out.shape[1]) < out_lengths[:, None])[:, :, None]
    return seed

"""Which default model the motif task builds, chosen by the length of the training sequences.

Two architectures, both ending in the BiLSTM and the pooling over the real
steps of each sequence:

- "bilstm": the BiLSTM reads the one-hot sequence itself.  Tuned on the
  57-nt E. coli promoters (see evaluation/RESULTS.md); on 200 nt it can
  stay at chance for all its epochs (issue #22; evaluation/LENGTHS.md), as
  the LSTM must carry a 6-nt site across hundreds of steps.
- "conv_bilstm" (DanQ-like): Conv1D motif detectors ("same" padding, ReLU),
  MaxPooling1D over windows of `conv_pool_size` steps, then the BiLSTM over
  the pooled steps.  The convolution finds the site wherever it is in one
  step, and the BiLSTM reads a sequence `conv_pool_size` times shorter.
  Lengths follow the layers (Conv1D "same" keeps them, MaxPooling1D
  "valid" gives floor(L / pool), its windows starting at each sequence's
  first step whatever the batch), so padding never reaches a real output.

"auto" picks "conv_bilstm" when the median training length reaches
`long_length` (150 nt by default; evaluation/LENGTHS.md has the measurement)
and "bilstm" below it.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence, Tuple

import numpy as np

from lstmcore import toolkit as tk

__all__ = ["ARCHITECTURES", "LEARNING_RATES", "choose_architecture", "describe_architecture", "effective",
           "not_learning_advice"]

ARCHITECTURES = ("bilstm", "conv_bilstm")
# The learning rate each architecture uses when "learning_rate" is left None: 0.01 is the BiLSTM's,
# tuned on the promoters; at 1,000 nt the convolutional model stayed at chance for 15 epochs with 0.01
# and learnt CACGTG in every training with 0.003 (evaluation/LENGTHS.md).
LEARNING_RATES = {"bilstm": 0.01, "conv_bilstm": 0.003}


def choose_architecture(hyperparameters: Mapping[str, Any], lengths: Sequence[int]) -> Tuple[str, str]:
    """(architecture, why): the user's choice, or for "auto" the one for the median length."""
    choice = hyperparameters.get("architecture", "auto")
    if choice in ARCHITECTURES:
        return choice, "set by the hyper-parameter 'architecture'"
    if choice != "auto":
        raise tk.UserInputError(f"architecture must be 'auto', {', '.join(repr(a) for a in ARCHITECTURES)}. "
                                f"Received: {choice!r}", record="architecture")
    median, threshold = float(np.median(lengths)), int(hyperparameters["long_length"])
    if median >= threshold:
        return "conv_bilstm", f"median length {median:g} nt >= long_length {threshold}"
    return "bilstm", f"median length {median:g} nt < long_length {threshold}"


def effective(state: Mapping[str, Any], hyperparameters: Mapping[str, Any]) -> dict:
    """The hyper-parameters with "learning_rate" None replaced by the architecture's own rate."""
    resolved = dict(hyperparameters)
    rate = resolved.get("learning_rate")
    if rate is None:
        resolved["learning_rate"] = LEARNING_RATES[state.get("architecture") or "bilstm"]
    elif isinstance(rate, bool) or not isinstance(rate, (int, float)) or not rate > 0:
        raise tk.UserInputError(f"learning_rate must be a positive number, or null for the architecture's own "
                                f"({LEARNING_RATES}). Received: {rate!r}", record="learning_rate")
    return resolved


def describe_architecture(state: Mapping[str, Any], hyperparameters: Mapping[str, Any]) -> str:
    """One line: the layers built and why this architecture (printed by `lstmcore train`)."""
    architecture = state.get("architecture", "bilstm")
    lstm = f"BiLSTM {hyperparameters['units']} units -> {hyperparameters['pooling']} pooling"
    if architecture == "conv_bilstm":
        layers = (f"Conv1D {hyperparameters['conv_filters']} filters x {hyperparameters['conv_kernel_size']} nt "
                  f"-> MaxPooling1D {hyperparameters['conv_pool_size']} -> {lstm}")
    else:
        layers = lstm
    reason = state.get("architecture_reason", "the default")
    return (f"motif model: {architecture} ({layers}), learning rate {hyperparameters['learning_rate']:g}; "
            f"{reason}")


def not_learning_advice(state: Mapping[str, Any], hyperparameters: Mapping[str, Any], batch_size: int,
                        validation: bool, epoch: int, accuracy: float, loss: float) -> str:
    """The line printed when a fit is stopped at chance: what was tried and what to change."""
    architecture = state.get("architecture", "bilstm")
    which = "validation" if validation else "training"
    tried = (f"{architecture}, learning_rate {hyperparameters['learning_rate']:g}, batch size {batch_size}, "
             f"units {hyperparameters['units']}")
    if architecture == "bilstm" and (state.get("median_length") or 0) >= 100:
        change = 'set "architecture": "conv_bilstm" in --config (its motif detectors help long sequences)'
    else:
        change = ('try "learning_rate": 0.003 in --config, more examples, or check that the labels '
                  'follow the sequences')
    return (f"motif model not learning: {which} accuracy {accuracy:.2f} (loss {loss:.3f}) still at chance "
            f"after {epoch} epochs, training stopped; tried {tried}; {change}")

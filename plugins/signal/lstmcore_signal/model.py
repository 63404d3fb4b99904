"""LSTM-FCN (Karim et al. 2018) and MLSTM-FCN (Karim et al. 2019) from the core's layers, and their training.

    trace (steps, channels)
      +-- [Permute (2, 1)] -- LSTM(units) -- Dropout(0.8) ---------------------------+
      |                                                                              +-- Concatenate -- Dense(softmax)
      +-- Conv1D(128, 8) BN ReLU [SE] -- Conv1D(256, 5) BN ReLU [SE] --              |
          Conv1D(128, 3) BN ReLU -- GlobalAveragePooling1D --------------------------+

The LSTM branch reads the trace either as Karim et al. do, through the
"dimension shuffle" (`lstm_input: "shuffle"`: the LSTM takes the channels as
its steps and all time points of a channel as one input vector; one step for
a univariate trace, so it is fast and sees the whole trace at once, but it
needs one length for every trace), or along the time steps (`"steps"`: the
LSTM runs over the samples with the core's `lengths`, so traces of different
lengths need no resampling and padding never enters the arithmetic).
`"auto"` takes the shuffle when the training traces share one length (after
resampling, if `length` is set) and the steps otherwise.  The FCN branch's
convolutions, batch normalisation and global average pooling are mask-aware
in the core: steps past a trace's length are zeroed before each convolution
and left out of the normalisation statistics and the pooling.

Squeeze-and-excite blocks (MLSTM-FCN) follow the first two convolution
blocks when `squeeze_excite` is "auto" and the traces have several channels,
or when it is true.

Training (`train_classifier`): balanced class weights by default, the
augmentations the user turns on (training part only), Adam with a cosine
decay of the learning rate to zero over the fit.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Optional

import numpy as np

from lstmcore import toolkit as tk

__all__ = ["build_lstm_fcn", "train_classifier", "uses_shuffle", "LSTM_INPUTS"]

LSTM_INPUTS = ("auto", "shuffle", "steps")
SE_REDUCTION = 16


def uses_shuffle(choice: str, equal_lengths: bool) -> bool:
    """Whether the LSTM branch reads the dimension-shuffled trace (see the module's docstring)."""
    if choice not in LSTM_INPUTS:
        raise tk.UserInputError(f"lstm_input must be one of {', '.join(LSTM_INPUTS)}. Received: {choice!r}",
                                record="lstm_input")
    if choice == "shuffle" and not equal_lengths:
        raise tk.UserInputError("lstm_input 'shuffle' needs traces of one length: set 'length' to resample "
                                "them, or use lstm_input 'steps'", record="lstm_input")
    return choice == "shuffle" or (choice == "auto" and equal_lengths)


def _squeeze_excite(x, filters: int, name: str):
    """x times per-channel gates computed from its (length-aware) average over the steps."""
    from lstmcore import layers

    gate = layers.GlobalAveragePooling1D(name=f"{name}_squeeze")(x)
    gate = layers.Dense(max(1, filters // SE_REDUCTION), activation="relu", name=f"{name}_reduce")(gate)
    gate = layers.Dense(filters, activation="sigmoid", name=f"{name}_excite")(gate)
    gate = layers.Reshape((1, filters), name=f"{name}_reshape")(gate)
    return layers.Multiply(name=f"{name}_scale")([x, gate])


def _fcn_branch(trace, hyperparameters: Mapping[str, Any], squeeze_excite: bool):
    from lstmcore import layers

    x = trace
    blocks = list(zip(hyperparameters["filters"], hyperparameters["kernel_sizes"]))
    for index, (filters, kernel_size) in enumerate(blocks, 1):
        x = layers.Conv1D(int(filters), int(kernel_size), padding="same", kernel_initializer="he_uniform",
                          name=f"conv{index}")(x)
        x = layers.BatchNormalization(name=f"bn{index}")(x)
        x = layers.Activation("relu", name=f"relu{index}")(x)
        if squeeze_excite and index < len(blocks):
            x = _squeeze_excite(x, int(filters), f"se{index}")
    return layers.GlobalAveragePooling1D(name="fcn_pool")(x)


def _lstm_branch(trace, hyperparameters: Mapping[str, Any], shuffle: bool):
    from lstmcore import layers

    x = layers.Permute((2, 1), name="dimension_shuffle")(trace) if shuffle else trace
    x = layers.LSTM(int(hyperparameters["lstm_units"]), name="lstm")(x)
    return layers.Dropout(float(hyperparameters["lstm_dropout"]), name="lstm_dropout")(x)


def build_lstm_fcn(state: Mapping[str, Any], hyperparameters: Mapping[str, Any]):
    """The compiled LSTM-FCN (one channel) or MLSTM-FCN (several, squeeze-and-excite) for `state`."""
    import lstmcore
    from lstmcore import layers, registry

    if len(hyperparameters["filters"]) != len(hyperparameters["kernel_sizes"]) or not hyperparameters["filters"]:
        raise tk.UserInputError("filters and kernel_sizes must be lists of the same, non-zero length",
                                record="filters")
    channels, steps = int(state["channels"]), state.get("steps")
    choice = hyperparameters["squeeze_excite"]
    squeeze_excite = channels > 1 if choice == "auto" else bool(choice)
    trace = lstmcore.Input(shape=(steps, channels), name="trace")
    joined = layers.Concatenate(name="join")([_lstm_branch(trace, hyperparameters, bool(state["shuffle"])),
                                              _fcn_branch(trace, hyperparameters, squeeze_excite)])
    probabilities = layers.Dense(len(state["classes"]), activation="softmax", name="class")(joined)
    model = lstmcore.Model(trace, probabilities, name="mlstm_fcn" if squeeze_excite else "lstm_fcn")
    optimizer = registry.optimizers.get(hyperparameters["optimizer"])(
        learning_rate=float(hyperparameters["learning_rate"]))
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train_classifier(model, encoded: tk.Encoded, hyperparameters: Mapping[str, Any], *, epochs: int,
                     batch_size: int, validation: Optional[tk.Encoded] = None, verbose: int = 0):
    """Augment the training traces (if asked), weigh the classes, decay the learning rate, and fit."""
    from lstmcore.backend import rng

    from .augmentation import augment, check_augmentations

    names = check_augmentations(hyperparameters["augment"])
    x, y, lengths = augment(encoded.x, encoded.y, encoded.lengths, names, int(hyperparameters["augment_copies"]),
                            rng())
    class_weight = tk.class_weights(hyperparameters["class_weight"], y)
    batch_size = min(batch_size, x.shape[0])
    model.optimizer.learning_rate = tk.learning_rate_schedule(
        hyperparameters["lr_schedule"], hyperparameters["learning_rate"],
        steps=epochs * max(1, math.ceil(x.shape[0] / batch_size)))
    extra = tk.validation_arguments(validation) if validation is not None else {}
    return model.fit(x, y.astype(np.int64), epochs=epochs, batch_size=batch_size, verbose=verbose,
                     lengths=lengths, class_weight=class_weight, **extra)

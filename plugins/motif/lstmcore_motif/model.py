"""The motif task's default classifier and how it is trained.

    [Conv1D(relu, same) -> MaxPooling1D(valid)] -> Bidirectional(LSTM(units, return_sequences=True))
        -> MaskedGlobalPooling(max) -> [Dropout] -> Dense(softmax)

The convolutional front end is built for long sequences only (state's
"architecture", see architecture.py).  Small on purpose: 106 promoters train
in well under a second per fit, so leave-one-out over five seeds stays in
minutes.  Training sees both strands
of DNA (reverse-complement augmentation, of the training part only: the
validation part is held out before) and weighs each class by the inverse of
its frequency, so a rare class is not ignored.  With a validation part,
training stops once the model has left chance and the validation loss has
not fallen for `patience` epochs (the best epoch's weights are put back); a
model still at chance after `chance_epochs` epochs is stopped with one line
saying so (learning_check.py).
"""
from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Optional

import numpy as np

from lstmcore import registry
from lstmcore import toolkit as tk

__all__ = ["build_classifier", "train_classifier", "MIN_LOSS_FALL"]

# Early stopping counts an epoch as better only when the validation loss falls by this much: once a
# model separates the classes its loss keeps creeping towards 0 by 1e-4s, which would never stop it.
MIN_LOSS_FALL = 1e-3


def build_classifier(state: Mapping[str, Any], hyperparameters: Mapping[str, Any]):
    """The compiled default model for the classes and alphabet in `state`."""
    from lstmcore import layers
    from lstmcore.encoders import encoder_from_config
    from lstmcore.models import Sequential

    pooling = hyperparameters["pooling"]
    if pooling not in tk.POOLING_MODES + ("last",):
        raise tk.UserInputError(f"pooling must be one of {', '.join(tk.POOLING_MODES + ('last',))}. "
                                f"Received: {pooling!r}", record="pooling")
    channels = encoder_from_config(state["encoder"]).channels
    units = int(hyperparameters["units"])
    stack = _front_end(state.get("architecture", "bilstm"), hyperparameters, channels)
    # The first layer is told the input's shape (the BiLSTM itself when there is no front end).
    first = {} if stack else {"input_shape": (None, channels)}
    stack.append(layers.Bidirectional(layers.LSTM(units, return_sequences=pooling != "last"), **first))
    if pooling != "last":
        stack.append(tk.MaskedGlobalPooling(pooling))
    if hyperparameters["dropout"] > 0:
        stack.append(layers.Dropout(float(hyperparameters["dropout"])))
    stack.append(layers.Dense(len(state["classes"]), activation="softmax"))
    model = Sequential(stack)
    optimizer = registry.optimizers.get(hyperparameters["optimizer"])(
        learning_rate=float(hyperparameters["learning_rate"]))
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _front_end(architecture: str, hyperparameters: Mapping[str, Any], channels: int) -> list:
    """The layers before the BiLSTM: none ("bilstm") or Conv1D + MaxPooling1D ("conv_bilstm").

    The convolution ("same" padding, stride 1) keeps each sequence's length L
    and zeroes the steps past it before it runs, so padding never reaches a
    real output.  The pooling is "valid": windows start at step 0 of every
    sequence, whatever the batch's padded length, so a sequence gives the same
    output alone (attribution, mutagenesis) as in any batch; it keeps
    floor(L / pool) steps (the last L mod pool steps are left out, and a
    sequence shorter than the pool gets no steps: the output layer's bias alone
    then gives its probabilities).
    """
    from lstmcore import layers

    if architecture == "bilstm":
        return []
    pool = int(hyperparameters["conv_pool_size"])
    return [layers.Conv1D(int(hyperparameters["conv_filters"]), int(hyperparameters["conv_kernel_size"]),
                          padding="same", activation="relu", input_shape=(None, channels)),
            layers.MaxPooling1D(pool)]


def train_classifier(model, encoded: tk.Encoded, hyperparameters: Mapping[str, Any], *, epochs: int,
                     batch_size: int, validation: Optional[tk.Encoded] = None, verbose: int = 0,
                     reverse_complement: Optional[bool] = None, advice: Optional[Callable[..., str]] = None):
    """Add reverse complements (DNA) to the training examples, weigh the classes, schedule the learning
    rate over the fit, and fit; `validation` (held out by the task's split) is scored as it is.

    With validation examples, early stopping on the validation loss (best
    weights restored); always, the stop of a fit still at chance after
    "chance_epochs" epochs, `advice(epoch, accuracy, loss)` giving its line
    (printed on stderr even when quiet: a model that learnt nothing is never
    silent; kept in the History as `not_learning`).
    """
    x, y, lengths = encoded.x, encoded.y, encoded.lengths
    if reverse_complement is None:
        reverse_complement = bool(getattr(encoded, "reverse_complement", False))
    if reverse_complement:
        x = np.concatenate([x, tk.reverse_complement_batch(x, lengths)])
        y = np.concatenate([y, y])
        lengths = None if lengths is None else np.concatenate([lengths, lengths])
    class_weight = tk.class_weights(hyperparameters["class_weight"], y)
    model.optimizer.learning_rate = tk.learning_rate_schedule(
        hyperparameters.get("lr_schedule", "constant"), hyperparameters["learning_rate"],
        steps=epochs * max(1, math.ceil(x.shape[0] / batch_size)))
    extra = tk.validation_arguments(validation) if validation is not None else {}
    callbacks = _training_callbacks(hyperparameters, encoded.y if not extra else validation.y, bool(extra),
                                    advice)
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=verbose, lengths=lengths,
                        class_weight=class_weight, callbacks=callbacks, **extra)
    if history is not None:   # (a test's stand-in for fit returns nothing)
        history.not_learning = callbacks[0].message
    return history


def _training_callbacks(hyperparameters: Mapping[str, Any], monitored_y: np.ndarray, validation: bool,
                        advice: Optional[Callable[..., str]]) -> list:
    """The not-learning check, then (with validation only) early stopping on val_loss once the model
    has left chance; the check is first, so early stopping sees this epoch's verdict."""
    from .learning_check import EarlyStoppingOnceLearning, StopIfNotLearning, chance_accuracy

    advice = advice or (lambda epoch, accuracy, loss: f"motif model: accuracy {accuracy:.2f} still at chance "
                                                      f"after {epoch} epochs: stopped")
    check = StopIfNotLearning(int(hyperparameters["chance_epochs"]), chance_accuracy(monitored_y),
                              int(np.asarray(monitored_y).size), advice, validation=validation)
    if not validation:
        return [check]
    return [check, EarlyStoppingOnceLearning(check, monitor="val_loss", patience=int(hyperparameters["patience"]),
                                             min_delta=MIN_LOSS_FALL, restore_best_weights=True)]

"""The motif task's default classifier and how it is trained.

    Bidirectional(LSTM(units, return_sequences=True)) -> MaskedGlobalPooling(max) -> [Dropout] -> Dense(softmax)

Small on purpose: 106 promoters train in well under a second per fit, so
leave-one-out over five seeds stays in minutes.  Training sees both strands
of DNA (reverse-complement augmentation, of the training part only: the
validation part is held out before) and weighs each class by the inverse of
its frequency, so a rare class is not ignored.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Optional

import numpy as np

from lstmcore import registry
from lstmcore import toolkit as tk

__all__ = ["build_classifier", "train_classifier"]


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
    stack = [layers.Bidirectional(layers.LSTM(units, return_sequences=pooling != "last"),
                                  input_shape=(None, channels))]
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


def train_classifier(model, encoded: tk.Encoded, hyperparameters: Mapping[str, Any], *, epochs: int,
                     batch_size: int, validation: Optional[tk.Encoded] = None, verbose: int = 0,
                     reverse_complement: Optional[bool] = None):
    """Add reverse complements (DNA) to the training examples, weigh the classes, schedule the learning
    rate over the fit, and fit; `validation` (held out by the task's split) is scored as it is."""
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
    return model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=verbose, lengths=lengths,
                     class_weight=class_weight, **extra)

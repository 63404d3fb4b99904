"""The motif task's default classifier and how it is trained.

    Bidirectional(LSTM(units, return_sequences=True)) -> MaskedGlobalPooling(max) -> [Dropout] -> Dense(softmax)

Small on purpose: 106 promoters train in well under a second per fit, so
leave-one-out over five seeds stays in minutes.  Training sees both strands
of DNA (reverse-complement augmentation) and weighs each class by the
inverse of its frequency, so a rare class is not ignored.
"""
from __future__ import annotations

import math
from typing import Any, Dict, Mapping, Optional

import numpy as np

from lstmcore import registry
from lstmcore.encoders import encoder_from_config
from lstmcore.errors import UserInputError
from lstmcore.tasks import Encoded

from .pooling import POOLING_MODES, MaskedGlobalPooling
from .strands import reverse_complement_batch

__all__ = ["build_classifier", "train_classifier", "balanced_class_weights"]


def build_classifier(state: Mapping[str, Any], hyperparameters: Mapping[str, Any]):
    """The compiled default model for the classes and alphabet in `state`."""
    from lstmcore import layers
    from lstmcore.models import Sequential

    pooling = hyperparameters["pooling"]
    if pooling not in POOLING_MODES + ("last",):
        raise UserInputError(f"pooling must be one of {', '.join(POOLING_MODES + ('last',))}. "
                             f"Received: {pooling!r}", record="pooling")
    channels = encoder_from_config(state["encoder"]).channels
    units = int(hyperparameters["units"])
    stack = [layers.Bidirectional(layers.LSTM(units, return_sequences=pooling != "last"),
                                  input_shape=(None, channels))]
    if pooling != "last":
        stack.append(MaskedGlobalPooling(pooling))
    if hyperparameters["dropout"] > 0:
        stack.append(layers.Dropout(float(hyperparameters["dropout"])))
    stack.append(layers.Dense(len(state["classes"]), activation="softmax"))
    model = Sequential(stack)
    optimizer = registry.optimizers.get(hyperparameters["optimizer"])(
        learning_rate=float(hyperparameters["learning_rate"]))
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def balanced_class_weights(y: np.ndarray) -> Dict[int, float]:
    """{class index: n / (classes present * count)}, scikit-learn's "balanced" weights."""
    present, counts = np.unique(y, return_counts=True)
    return {int(c): float(y.size / (present.size * n)) for c, n in zip(present, counts)}


LR_SCHEDULES = ("cosine", "constant")


def _schedule_learning_rate(optimizer, hyperparameters: Mapping[str, Any], *, steps: int) -> None:
    """Give the optimizer the learning-rate schedule the hyper-parameters name.

    "cosine" decays the rate from `learning_rate` to zero over the whole fit,
    so the last epochs polish one solution instead of wandering around it at
    full rate: on the promoters the model a seed ends with then depends less
    on where the final constant-rate updates happened to leave it.  The
    schedule counts the optimizer's steps, so it is meant for a fresh model.
    """
    from lstmcore.optimizers import CosineDecay

    schedule = hyperparameters.get("lr_schedule", "constant")
    if schedule not in LR_SCHEDULES:
        raise UserInputError(f"lr_schedule must be one of {', '.join(LR_SCHEDULES)}. Received: {schedule!r}",
                             record="lr_schedule")
    if schedule == "cosine":
        optimizer.learning_rate = CosineDecay(float(hyperparameters["learning_rate"]), steps)


def train_classifier(model, encoded: Encoded, hyperparameters: Mapping[str, Any], *, epochs: int,
                     batch_size: int, validation_split: float = 0.0, verbose: int = 0,
                     reverse_complement: Optional[bool] = None):
    """Shuffle once, add reverse complements (DNA), weigh the classes, and fit."""
    from lstmcore.backend import rng

    order = rng().permutation(encoded.x.shape[0])
    x, y = encoded.x[order], encoded.y[order]
    lengths = None if encoded.lengths is None else encoded.lengths[order]
    if reverse_complement is None:
        reverse_complement = bool(getattr(encoded, "reverse_complement", False))
    if reverse_complement:
        x = np.concatenate([x, reverse_complement_batch(x, lengths)])
        y = np.concatenate([y, y])
        lengths = None if lengths is None else np.concatenate([lengths, lengths])
    class_weight = balanced_class_weights(y) if hyperparameters["class_weight"] == "balanced" else None
    if hyperparameters["class_weight"] not in ("balanced", "none"):
        raise UserInputError(f"class_weight must be 'balanced' or 'none'. Received: "
                             f"{hyperparameters['class_weight']!r}", record="class_weight")
    fitted = int(round(x.shape[0] * (1.0 - validation_split)))
    _schedule_learning_rate(model.optimizer, hyperparameters,
                            steps=epochs * max(1, math.ceil(fitted / batch_size)))
    return model.fit(x, y, epochs=epochs, batch_size=batch_size, validation_split=validation_split,
                     verbose=verbose, lengths=lengths, class_weight=class_weight)


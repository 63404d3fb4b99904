"""Cross-validation of a task's default model: one fresh model per fold, out-of-fold predictions.

Every fold builds the task's model with the hyper-parameters given, trains it
with the task's own `fit` (so its validation split, augmentation and class
weights are part of what is measured) and predicts the held-out examples with
the task's own `predict`.  The out-of-fold outputs of all examples are
returned; scores over them are the cross-validated scores (the only
meaningful pooling for leave-one-out).  A progress bar counts the folds and
shows the time left.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

import numpy as np

__all__ = ["cross_validate"]


def cross_validate(task, encoded, state: Mapping[str, Any], hyperparameters: Mapping[str, Any], splitter, *,
                   seed: int = 0, groups=None, progress: bool = True, outputs: Optional[int] = None) -> np.ndarray:
    """Out-of-fold outputs (n, outputs) of `task`'s model over the folds of `splitter`.

    `outputs` is the width of one prediction (default: the number of classes in `state`).
    """
    from ..progress_bars import progress_bar

    from ..backend import set_seed

    width = outputs if outputs is not None else len(state["classes"])
    predictions = np.zeros((encoded.x.shape[0], width), dtype=np.float64)
    set_seed(seed)
    epochs, batch_size = task.training_schedule(hyperparameters)
    folds = splitter.split(encoded.x.shape[0], encoded.y, groups)
    for train_index, test_index in progress_bar(folds, desc=str(splitter), unit="fold", disable=not progress, leave=False):
        model = task.build_model(state, hyperparameters)
        task.fit(model, encoded.subset(train_index), epochs=epochs, batch_size=batch_size, validation_split=0.0,
                 hyperparameters=hyperparameters)
        predictions[test_index] = np.asarray(task.predict(model, encoded.subset(test_index), state)).reshape(
            test_index.size, width)
    return predictions

"""A model that does not learn says so: stop a fit whose accuracy stays at chance, with one line of advice.

Issue #22: on 4,000 sequences of 200 nt the old default sat at 50 %
validation accuracy for all 40 epochs and nothing told the user.  This
callback watches the validation accuracy (the training accuracy when the fit
has no validation part).  An epoch is "at chance" when that accuracy is no
better than always answering the most frequent class plus a margin of two
binomial standard errors (at least 0.02), so sampling noise on a small
validation set does not count as learning.  When the first `epochs` epochs
are all at chance, training stops and one line on stderr says what was
tried and what to change; `stopped` and `message` keep it for the caller.
A model that leaves chance even once is never stopped by this check.
"""
from __future__ import annotations

import math
import sys
from typing import Callable, Optional

import numpy as np

from lstmcore.callbacks import Callback, EarlyStopping

__all__ = ["StopIfNotLearning", "EarlyStoppingOnceLearning", "chance_accuracy"]


def chance_accuracy(y: np.ndarray) -> float:
    """The accuracy of always answering the most frequent class of `y`."""
    counts = np.bincount(np.asarray(y, dtype=np.int64))
    return float(counts.max() / counts.sum())


class StopIfNotLearning(Callback):
    """Stop after `epochs` epochs all at chance, printing `advice(epoch, accuracy, loss)`'s line.

    Args:
        epochs: how many epochs from the start may stay at chance.
        chance: the majority-class accuracy of the monitored examples.
        examples: how many examples the accuracy is measured on (sets the margin).
        advice: builds the line printed when the fit is stopped.
        validation: monitor val_accuracy / val_loss (else accuracy / loss).
        quiet: keep the line (in `message`) without printing it.
    """

    def __init__(self, epochs: int, chance: float, examples: int, advice: Callable[[int, float, float], str], *,
                 validation: bool, quiet: bool = False):
        super().__init__()
        if epochs < 1:
            raise ValueError(f"epochs must be a positive integer. Received: epochs={epochs!r}")
        self.epochs, self.chance, self.advice, self.quiet = int(epochs), float(chance), advice, quiet
        self.margin = max(0.02, 2.0 * math.sqrt(chance * (1.0 - chance) / max(int(examples), 1)))
        self.prefix = "val_" if validation else ""
        self.stopped = False
        self.message: Optional[str] = None

    def on_train_begin(self, logs=None):
        self.stopped, self.message, self.learned = False, None, False

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        accuracy = logs.get(self.prefix + "accuracy")
        if self.learned or accuracy is None:
            return
        if accuracy > self.chance + self.margin:
            self.learned = True
            return
        if epoch + 1 >= self.epochs:
            self.stopped = True
            self.message = self.advice(epoch + 1, float(accuracy), float(logs.get(self.prefix + "loss", math.nan)))
            if not self.quiet:
                print(self.message, file=sys.stderr)
            self.model.stop_training = True


class EarlyStoppingOnceLearning(EarlyStopping):
    """EarlyStopping whose patience starts counting once `check` has seen the model leave chance.

    At 1,000 nt the convolutional model can sit at chance (validation loss
    flat at ln 2) for several epochs and then learn the motif within one
    (evaluation/LENGTHS.md); plain patience would stop it on the plateau.
    While the model is at chance, `check` (which comes first in the callbacks)
    decides; the best weights are still recorded from the first epoch.
    """

    def __init__(self, check: StopIfNotLearning, **kwargs):
        super().__init__(**kwargs)
        self.check = check

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        if not self.check.learned and not self.check.stopped:
            self.wait, self.stopped_epoch = 0, 0
            self.model.stop_training = False

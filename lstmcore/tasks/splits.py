"""How a task's examples are split: cross-validation folds, and the validation part of one fit.

Cross-validation splitters (scikit-learn's underneath) all answer
`split(n, y=None, groups=None) -> [(train_index, test_index), ...]`:

- `StratifiedKFold(folds, seed)`: shuffled, each class spread evenly over the folds;
- `LeaveOneOut()`: one example held out at a time;
- `GroupKFold(folds)`: examples of one group (a patient, a genome, a site) never on both sides;
- `RollingOrigin(folds, horizon, gap, window)`: time-ordered backtests; each fold trains on the
  past (all of it, or the last `window` examples) and tests on the next `horizon` examples after
  a `gap`; examples must be in time order.

Validation holdouts for `Task.fit` return (train_index, validation_index):
`shuffled_holdout` (the default: a seeded permutation, the last part held out, as
Keras's `validation_split` after a shuffle) and `time_ordered_holdout` (the end of
each series held out, never shuffled across the split: a forecaster must not train
on its own future).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np

from ..errors import UserInputError

__all__ = ["Fold", "StratifiedKFold", "LeaveOneOut", "GroupKFold", "RollingOrigin", "parse_cv",
           "shuffled_holdout", "time_ordered_holdout"]

Fold = Tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class StratifiedKFold:
    folds: int = 5
    seed: int = 0

    def split(self, n: int, y: Optional[np.ndarray] = None, groups=None) -> List[Fold]:
        from sklearn.model_selection import StratifiedKFold as Splitter

        y = np.zeros(n, np.int64) if y is None else np.asarray(y)
        return list(Splitter(self.folds, shuffle=True, random_state=self.seed).split(np.zeros(n), y))

    def __str__(self) -> str:
        return f"stratified {self.folds}-fold"


@dataclass(frozen=True)
class LeaveOneOut:
    def split(self, n: int, y=None, groups=None) -> List[Fold]:
        from sklearn.model_selection import LeaveOneOut as Splitter

        return list(Splitter().split(np.zeros(n)))

    def __str__(self) -> str:
        return "leave-one-out"


@dataclass(frozen=True)
class GroupKFold:
    folds: int = 5

    def split(self, n: int, y=None, groups: Optional[Sequence] = None) -> List[Fold]:
        from sklearn.model_selection import GroupKFold as Splitter

        if groups is None:
            raise ValueError("GroupKFold needs the group of every example. Received: groups=None")
        return list(Splitter(self.folds).split(np.zeros(n), groups=np.asarray(groups)))

    def __str__(self) -> str:
        return f"group {self.folds}-fold"


@dataclass(frozen=True)
class RollingOrigin:
    """Backtest folds over time-ordered examples: expanding (`window=None`) or sliding (`window`
    examples of training), `horizon` test examples per fold, `gap` examples skipped between."""

    folds: int = 5
    horizon: int = 1
    gap: int = 0
    window: Optional[int] = None

    def split(self, n: int, y=None, groups=None) -> List[Fold]:
        from sklearn.model_selection import TimeSeriesSplit

        needed = self.folds * self.horizon + self.gap + 1
        if n < needed:
            raise ValueError(f"a rolling origin of {self.folds} folds x horizon {self.horizon} (gap {self.gap}) "
                             f"needs at least {needed} examples. Received: {n}")
        if self.folds == 1:   # scikit-learn's splitter needs two; one fold is cut the same way by hand
            end = n - self.horizon - self.gap
            start = 0 if self.window is None else max(0, end - self.window)
            return [(np.arange(start, end), np.arange(n - self.horizon, n))]
        splitter = TimeSeriesSplit(self.folds, test_size=self.horizon, gap=self.gap, max_train_size=self.window)
        return list(splitter.split(np.zeros(n)))

    def __str__(self) -> str:
        kind = "expanding" if self.window is None else f"sliding ({self.window})"
        return f"rolling origin, {self.folds} folds, horizon {self.horizon}, gap {self.gap}, {kind} window"


def parse_cv(text, y: np.ndarray, classes: Sequence[str], seed: int = 0):
    """The splitter of `--cv K|loo` for a classification task; K must fit the smallest class."""
    samples = int(np.asarray(y).size)
    if str(text).lower() == "loo":
        return LeaveOneOut()
    try:
        folds = int(text)
    except (TypeError, ValueError):
        raise UserInputError(f"--cv must be an integer >= 2 or 'loo'. Received: {text!r}") from None
    if folds < 2 or folds > samples:
        raise UserInputError(f"--cv must be between 2 and the number of sequences ({samples}), or 'loo'. "
                             f"Received: {folds}")
    if folds == samples:
        return LeaveOneOut()
    counts = np.bincount(y, minlength=len(classes))
    smallest = int(counts[counts > 0].min())
    if folds > smallest:
        name = classes[int(np.flatnonzero(counts == smallest)[0])]
        raise UserInputError(f"--cv {folds} needs at least {folds} sequences of each class, but class "
                             f"{name!r} has {smallest} (use fewer folds or 'loo')")
    return StratifiedKFold(folds, seed)


def _split_at(n: int, fraction: float) -> int:
    """Where a task's holdout cuts n examples: the first ceil(n * (1 - fraction)) train.  Keras's
    `validation_split` (and Model.fit's) rounds the training side down instead; a task rounds it up
    so that a series or class of a few examples keeps one to train on (and so that the published
    evaluations keep their splits)."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"validation_split must be in [0, 1). Received: {fraction!r}")
    return int(math.ceil(n * (1.0 - fraction))) if fraction > 0 else n


def shuffled_holdout(n: int, fraction: float, rng: np.random.Generator) -> Fold:
    """A permutation of the examples, its last `fraction` held out: the examples a user's file sorts
    by class are mixed before the cut.  The training part keeps the permuted order."""
    order = rng.permutation(n)
    cut = _split_at(n, fraction)
    return order[:cut], order[cut:]


def time_ordered_holdout(n: int, fraction: float, groups: Optional[Sequence] = None) -> Fold:
    """The last `fraction` of each group's examples (all examples one group when `groups` is None)
    held out, in their original order: examples must be in time order within a group."""
    groups = np.zeros(n, np.int64) if groups is None else np.asarray(groups)
    train, held = [], []
    for group in dict.fromkeys(groups.tolist()):
        members = np.flatnonzero(groups == group)
        cut = _split_at(members.size, fraction)
        train.append(members[:cut])
        held.append(members[cut:])
    return np.concatenate(train).astype(np.int64), np.concatenate(held).astype(np.int64)

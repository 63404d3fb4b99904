"""Traces: what every reader of the signal task returns, whatever the file format.

A trace is a float64 array (length, channels); NaN marks a missing value.
Each trace keeps the file and the record (row or line) it came from, so a
problem found later (a missing value, a length the model cannot take) is
reported where the user can fix it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np

from lstmcore.toolkit import UserInputError

__all__ = ["Traces", "concatenate", "excerpt", "number_label", "sorted_classes"]

EXCERPT_LENGTH = 40


def excerpt(text, limit: int = EXCERPT_LENGTH) -> str:
    """`text` quoted for a message, cut to its first `limit` characters with "..." when longer.

    A damaged row (another separator, a missing class) can hold thousands of characters; a message
    quotes only its start.
    """
    text = str(text)
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "..."


@dataclass
class Traces:
    """Recorded traces, with their class labels (None when unlabelled) and where each came from."""

    series: List[np.ndarray]
    labels: Optional[List[str]]
    ids: List[str]
    files: List[str]
    records: List[str]

    def __len__(self) -> int:
        return len(self.series)

    @property
    def lengths(self) -> np.ndarray:
        return np.array([s.shape[0] for s in self.series], dtype=np.int64)

    @property
    def channels(self) -> int:
        return int(self.series[0].shape[1]) if self.series else 0

    def error(self, index: int, problem: str) -> UserInputError:
        """A UserInputError naming trace `index`'s file and record."""
        return UserInputError(problem, file=self.files[index], record=self.records[index])

    def subset(self, index: Sequence[int]) -> "Traces":
        pick = [int(i) for i in index]
        return Traces([self.series[i] for i in pick], None if self.labels is None else [self.labels[i] for i in pick],
                      [self.ids[i] for i in pick], [self.files[i] for i in pick], [self.records[i] for i in pick])


def concatenate(parts: Sequence[Traces]) -> Traces:
    """One Traces of several files' (labels kept only when every part has them)."""
    labelled = all(part.labels is not None for part in parts)
    return Traces([s for p in parts for s in p.series],
                  [label for p in parts for label in p.labels] if labelled else None,
                  [i for p in parts for i in p.ids], [f for p in parts for f in p.files],
                  [r for p in parts for r in p.records])


def number_label(text: str, file: str, record: str) -> str:
    """A UCR class label: a number ("1", "-1", "1.0000000e+00"), written back in its shortest form.

    The UCR layout puts the class number first; a word there is usually a
    header row or a file of another layout, which the user must hear about.
    """
    cell = text.strip()
    try:
        value = float(cell)
    except ValueError:
        raise UserInputError(f"the label (first column) {excerpt(cell)} is not a number: a UCR file has no header "
                             "row and starts each row with its class number", file=file, record=record) from None
    if not math.isfinite(value):
        raise UserInputError(f"the label (first column) is {excerpt(cell)}, not a class number", file=file,
                             record=record)
    return str(int(value)) if value == int(value) else repr(value)


def sorted_classes(labels: Sequence[str]) -> List[str]:
    """The distinct labels, in numeric order when all are numbers ("-1" < "1" < "2" < "10"), else text order."""
    distinct = set(labels)
    try:
        return sorted(distinct, key=float)
    except ValueError:
        return sorted(distinct)

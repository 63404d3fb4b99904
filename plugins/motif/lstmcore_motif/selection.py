"""Records and target classes for attribution: which class is explained, and for which sequences.

The class explained is the one the user names (`--class`), else for two
classes the second of the sorted names (the "positive" one: 'promoter'
after 'non_promoter', 'motif' after 'background'), else each record's
predicted class.
"""
from __future__ import annotations

from typing import Any, List, Mapping, Optional, Sequence

import numpy as np

from lstmcore.errors import UserInputError

__all__ = ["class_index_of", "target_classes"]


def class_index_of(state: Mapping[str, Any], name: Optional[str], source=None) -> Optional[int]:
    """The index of class `name` (None when not given and there are more than two classes)."""
    classes = list(state["classes"])
    if name is None:
        return 1 if len(classes) == 2 else None
    if name not in classes:
        raise UserInputError(f"--class {name!r} is not one of the model's classes ({', '.join(classes)})",
                             file=source)
    return classes.index(name)


def target_classes(state: Mapping[str, Any], name: Optional[str], probabilities: np.ndarray, source=None) -> np.ndarray:
    """One class index per record: the named (or positive) class, or each record's predicted class."""
    index = class_index_of(state, name, source)
    if index is None:
        return probabilities.argmax(axis=1)
    return np.full(probabilities.shape[0], index, dtype=np.int64)

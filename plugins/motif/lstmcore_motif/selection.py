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

__all__ = ["class_index_of", "target_classes", "load_motif_model"]


def load_motif_model(source):
    """The model file `source` loaded, once its task is known to classify sequences (`lstmcore train motif`,
    or the core's `sequence-classification`): a model of another task (signal, mutation, population) is
    one line naming the file and its task, before any output folder is made or any data read."""
    from lstmcore import registry
    from lstmcore.saving.task_models import load_task_model, read_model_file, read_task_name
    from lstmcore.tasks.sequence_classification import SequenceClassificationTask

    contents = read_model_file(source)
    name = read_task_name(contents)
    if not isinstance(registry.tasks.get(name), SequenceClassificationTask):
        raise UserInputError(f"is a model of task {name!r}, not a motif model (motif attribute and discover "
                             "need a sequence classifier, one trained with 'lstmcore train motif')",
                             file=contents.name)
    return load_task_model(contents)


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

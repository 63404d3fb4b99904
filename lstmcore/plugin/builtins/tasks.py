"""The core's task (`lstmcore.tasks.sequence_classification`), registered like a plugin's."""
from __future__ import annotations

from ..hookspecs import hookimpl


@hookimpl
def register_tasks(register):
    """Register the built-in sequence-classification task."""
    from lstmcore.tasks.sequence_classification import SequenceClassificationTask

    register(SequenceClassificationTask.name, SequenceClassificationTask())

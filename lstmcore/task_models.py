"""Model files that know their task: the task's name, encoder state and hyper-parameters in the metadata.

`lstmcore train` writes the model with `lstmcore.saving.save_model` (one
safetensors file: weights as named arrays, a JSON config in the metadata),
whose free `extra` JSON holds

    {"task_format": 1, "task": NAME, "state": {...}, "hyperparameters": {...}}

so that `lstmcore predict MODEL DATA` knows which task reads and encodes the
data, exactly as training did.  Nothing in a model file is ever executed.  A
corrupt file, a file saved without a task, a model of a task that no
installed plugin provides, or of another task than expected, is a
`UserInputError` naming the file.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Union

from . import registry
from .errors import UserInputError
from .io.atomic import check_writable

__all__ = ["TaskModel", "save_task_model", "load_task_model", "read_task_metadata", "read_task_name",
           "TASK_FORMAT"]

PathLike = Union[str, "os.PathLike[str]"]
TASK_FORMAT = 1


@dataclass
class TaskModel:
    """A loaded model with its task and the state `fit_encoder` learnt."""

    model: Any
    task_name: str
    task: Any
    state: Dict[str, Any]
    hyperparameters: Dict[str, Any]
    path: Path


def save_task_model(model, path: PathLike, task_name: str, state: Mapping[str, Any],
                    hyperparameters: Mapping[str, Any]) -> Path:
    """Save `model` to `path` (atomically), with the task's name, state and hyper-parameters."""
    from .saving import save_model

    check_writable(path)
    extra = {"task_format": TASK_FORMAT, "task": task_name, "state": dict(state),
             "hyperparameters": dict(hyperparameters)}
    try:
        save_model(model, os.fspath(path), extra=extra)
    except OSError as exc:
        raise UserInputError(f"cannot write the model: {exc.strerror or exc}", file=path) from None
    return Path(path)


def _file_metadata(path: PathLike) -> Dict[str, Any]:
    """The lstmcore header of a model file; a missing or damaged file is a UserInputError."""
    from .saving import ModelFileError, read_metadata

    if not os.path.exists(path):
        raise UserInputError("no such model file", file=path)
    if os.path.isdir(path):
        raise UserInputError("is a folder, not a model file", file=path)
    try:
        return read_metadata(os.fspath(path))
    except ModelFileError as exc:
        raise UserInputError(f"is not a valid lstmcore model file: {exc.reason}", file=path) from None
    except OSError as exc:
        raise UserInputError(f"cannot be read: {exc.strerror or exc}", file=path) from None


def read_task_metadata(path: PathLike) -> Dict[str, Any]:
    """The task record of a model file: task_format, task, state, hyperparameters."""
    record = _file_metadata(path).get("extra")
    if not isinstance(record, dict) or "task" not in record:
        raise UserInputError("was saved without a task (by model.save in Python, not `lstmcore train`); "
                             "load it with lstmcore.load_model instead", file=path)
    if not isinstance(record.get("state"), dict):
        raise UserInputError("has a damaged task record (no encoder state)", file=path)
    if record.get("task_format", TASK_FORMAT) > TASK_FORMAT:
        raise UserInputError(f"was written by a newer lstmcore (task format {record['task_format']}); "
                             "upgrade lstmcore", file=path)
    return record


def read_task_name(path: PathLike, expect_task: Optional[str] = None) -> str:
    """The task a model file was trained for; checked against `expect_task` and the installed tasks."""
    name = str(read_task_metadata(path)["task"])
    if expect_task is not None and name.lower() != expect_task.lower():
        raise UserInputError(f"is a model of task {name!r}, not of task {expect_task!r}", file=path)
    if name not in registry.tasks:
        installed = ", ".join(registry.tasks) or "none"
        raise UserInputError(f"is a model of task {name!r}, which no installed plugin provides "
                             f"(installed tasks: {installed})", file=path)
    return name


def load_task_model(path: PathLike, expect_task: Optional[str] = None) -> TaskModel:
    """Load a model file written by `lstmcore train`, with its task and state."""
    from .saving import ModelFileError, load_model

    name = read_task_name(path, expect_task)
    record = read_task_metadata(path)
    try:
        model = load_model(os.fspath(path))
    except ModelFileError as exc:
        raise UserInputError(f"is not a valid lstmcore model file: {exc.reason}", file=path) from None
    return TaskModel(model, name, registry.tasks.get(name), dict(record["state"]),
                     dict(record.get("hyperparameters", {})), Path(path))


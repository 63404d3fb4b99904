"""Model files that know their task: the task's name, encoder state and hyper-parameters in the metadata.

`lstmcore train` writes the model with `model.save` (one safetensors file:
weights as named arrays, a JSON config in the metadata) and adds one more
metadata entry, ``lstmcore.task``, a JSON object

    {"format": 1, "task": NAME, "state": {...}, "hyperparameters": {...}}

so that `lstmcore predict MODEL DATA` knows which task reads and encodes the
data, exactly as training did.  The metadata is read without loading the
weights (`read_task_name`), and nothing in a model file is ever executed.
A corrupt file, a file saved without a task, a model of a task that no
installed plugin provides, or of another task than expected, is a
`UserInputError` naming the file.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Union

from . import registry
from .errors import UserInputError
from .io.atomic import atomic_path

__all__ = ["TaskModel", "save_task_model", "load_task_model", "read_task_metadata", "read_task_name",
           "TASK_METADATA_KEY", "TASK_FORMAT"]

PathLike = Union[str, "os.PathLike[str]"]
TASK_METADATA_KEY = "lstmcore.task"
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
    """Save `model` to `path` atomically, with the task's name, state and hyper-parameters in its metadata."""
    from safetensors.numpy import save_file

    record = json.dumps({"format": TASK_FORMAT, "task": task_name, "state": dict(state),
                         "hyperparameters": dict(hyperparameters)}, sort_keys=True)
    with atomic_path(path) as temporary:
        plain = f"{temporary}.model.safetensors"
        try:
            model.save(plain)
            tensors, metadata = _read_safetensors(plain)
        finally:
            if os.path.exists(plain):
                os.unlink(plain)
        metadata[TASK_METADATA_KEY] = record
        save_file(tensors, temporary, metadata=metadata)
    return Path(path)


def _read_safetensors(path: PathLike):
    from safetensors import safe_open

    with safe_open(os.fspath(path), framework="np") as handle:
        metadata = dict(handle.metadata() or {})
        tensors = {name: handle.get_tensor(name) for name in handle.keys()}
    return tensors, metadata


def _file_metadata(path: PathLike) -> Dict[str, str]:
    """The safetensors metadata of `path` (no weights read); a bad file is a UserInputError."""
    from safetensors import safe_open

    if not os.path.exists(path):
        raise UserInputError("no such model file", file=path)
    if os.path.isdir(path):
        raise UserInputError("is a folder, not a model file", file=path)
    try:
        with safe_open(os.fspath(path), framework="np") as handle:
            return dict(handle.metadata() or {})
    except Exception as exc:  # safetensors raises its own error types for every kind of damage
        raise UserInputError(f"is not a valid lstmcore model file ({_one_line(exc)})", file=path) from None


def read_task_metadata(path: PathLike) -> Dict[str, Any]:
    """The `lstmcore.task` record of a model file: format, task, state, hyperparameters."""
    raw = _file_metadata(path).get(TASK_METADATA_KEY)
    if raw is None:
        raise UserInputError("was saved without a task (by model.save in Python, not `lstmcore train`); "
                             "load it with lstmcore.load_model instead", file=path)
    try:
        record = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise UserInputError(f"has a damaged task record ({exc})", file=path) from None
    if not isinstance(record, dict) or "task" not in record or "state" not in record:
        raise UserInputError("has a damaged task record (no task name or state)", file=path)
    if record.get("format", TASK_FORMAT) > TASK_FORMAT:
        raise UserInputError(f"was written by a newer lstmcore (task format {record['format']}); upgrade lstmcore",
                             file=path)
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
    from .saving import load_model

    name = read_task_name(path, expect_task)
    record = read_task_metadata(path)
    try:
        model = load_model(os.fspath(path))
    except UserInputError:
        raise
    except Exception as exc:  # a damaged config or missing weights: name the file, not a traceback
        raise UserInputError(f"is not a valid lstmcore model file ({_one_line(exc)})", file=path) from None
    return TaskModel(model, name, registry.tasks.get(name), dict(record["state"]),
                     dict(record.get("hyperparameters", {})), Path(path))


def _one_line(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())

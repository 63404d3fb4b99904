"""Model files that know their task: the task's name, encoder state and hyper-parameters in the metadata.

`lstmcore train` writes the model with `lstmcore.saving.save_model` (one
safetensors file: weights as named arrays, a JSON config in the metadata),
whose free `extra` JSON holds

    {"task_format": 1, "task": NAME, "state": {...}, "hyperparameters": {...},
     "provider": {"plugin": ..., "distribution": ..., "version": ...},
     "training_data": {"files": [...], "examples": N},
     "training": {"epochs": ..., "batch_size": ..., "validation_split": ..., "seed": ...}}

so that `lstmcore predict MODEL DATA` knows which task reads and encodes the
data, exactly as training did; `provider` says which plugin to install where
the task is missing, and `lstmcore info MODEL` (`describe_model_file`) shows
the rest.  Files written before the last three existed simply lack them.  Nothing in a model file is ever executed.  A
corrupt file, a file saved without a task, a model of a task that no
installed plugin provides, or of another task than expected, is a
`UserInputError` naming the file.

A model file is read once (`read_model_file`: `-` is standard input, a FIFO
works) into a `ModelFileContents`, which every function here also accepts
in place of a path: the command line reads the file to learn its task, then
loads the model from the same contents.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Union

from .. import registry
from ..plugins import plugin_install_hint
from ..errors import UserInputError
from ..io.atomic import check_writable
from ..io.inputs import display_name, is_stdin

__all__ = ["TaskModel", "ModelFileContents", "save_task_model", "load_task_model", "read_model_file",
           "read_task_metadata", "read_task_name", "describe_model_file", "plugin_install_hint", "TASK_FORMAT"]

PathLike = Union[str, "os.PathLike[str]"]
TASK_FORMAT = 1


@dataclass
class ModelFileContents:
    """A model file read once and parsed: its path as given (`-`: standard input), the name messages give
    it, its lstmcore header and its tensors."""

    path: str
    name: str
    info: Dict[str, Any]
    tensors: Dict[str, Any]

    @property
    def shapes(self) -> Dict[str, tuple]:
        return {key: tuple(int(n) for n in value.shape) for key, value in self.tensors.items()}


ModelSource = Union[PathLike, ModelFileContents]


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
                    hyperparameters: Mapping[str, Any], *, training_data: Optional[Mapping[str, Any]] = None,
                    training: Optional[Mapping[str, Any]] = None) -> Path:
    """Save `model` to `path` (atomically), with the task's name, state and hyper-parameters.

    `training_data` ({"files": names, "examples": count}) and `training` (epochs,
    batch size, ...) are kept for `lstmcore info`; the plugin that provides the
    task is recorded too, so a machine without it can say what to install.
    """
    from .model_file import save_model

    check_writable(path)
    extra = {"task_format": TASK_FORMAT, "task": task_name, "state": dict(state),
             "hyperparameters": dict(hyperparameters), "provider": _task_provider(task_name)}
    if training_data is not None:
        extra["training_data"] = dict(training_data)
    if training is not None:
        extra["training"] = dict(training)
    try:
        save_model(model, os.fspath(path), extra=extra)
    except OSError as exc:
        raise UserInputError(f"cannot write the model: {exc.strerror or exc}", file=path) from None
    return Path(path)


def _task_provider(task_name: str) -> Optional[Dict[str, Any]]:
    """The plugin that registered `task_name`: its name, distribution and version (None if not registered)."""
    from .. import plugins

    if task_name not in registry.tasks:
        return None
    owner = registry.tasks.owner(task_name)
    report = next((r for r in plugins.plugin_reports() if r.name == owner), None)
    return {"plugin": owner, "distribution": getattr(report, "distribution", None),
            "version": getattr(report, "version", None)}


def read_model_file(source: ModelSource) -> ModelFileContents:
    """The contents of a model file, read once (the limit of validation.MAX_MODEL_FILE_BYTES checked while
    reading); a missing, unreadable or damaged file is a UserInputError naming it."""
    from .model_file import ModelFileError, parse_model_bytes
    from .validation import MAX_MODEL_FILE_BYTES
    from ..io.inputs import read_bytes

    if isinstance(source, ModelFileContents):
        return source
    name = display_name(source)
    if not is_stdin(source):
        if not os.path.exists(source):
            raise UserInputError("no such model file", file=source)
        if os.path.isdir(source):
            raise UserInputError("is a folder, not a model file", file=source)
    data = read_bytes(source, MAX_MODEL_FILE_BYTES, "model file")
    try:
        tensors, info = parse_model_bytes(data, name)
    except ModelFileError as exc:
        raise UserInputError(f"is not a valid lstmcore model file: {exc.reason}", file=name) from None
    return ModelFileContents(os.fspath(source), name, info, tensors)


def read_task_metadata(source: ModelSource) -> Dict[str, Any]:
    """The task record of a model file: task_format, task, state, hyperparameters."""
    contents = read_model_file(source)
    path = contents.name
    record = contents.info.get("extra")
    if not isinstance(record, dict) or "task" not in record:
        raise UserInputError("was saved without a task (by model.save in Python, not `lstmcore train`); "
                             "load it with lstmcore.load_model instead", file=path)
    version = record.get("task_format", TASK_FORMAT)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise UserInputError(f"has a damaged task record (task format {version!r} is not a version number)",
                             file=path)
    if version > TASK_FORMAT:
        raise UserInputError(f"was written by a newer lstmcore (task format {version}); upgrade lstmcore",
                             file=path)
    if not isinstance(record["task"], str) or not record["task"]:
        raise UserInputError(f"has a damaged task record (the task name {record['task']!r} is not a name)",
                             file=path)
    if not isinstance(record.get("state"), dict):
        raise UserInputError("has a damaged task record (no encoder state)", file=path)
    for key in ("hyperparameters", "training", "training_data", "provider"):
        if record.get(key) is not None and not isinstance(record[key], dict):
            raise UserInputError(f"has a damaged task record ({key!r} is not a JSON object)", file=path)
    return record


def read_task_name(source: ModelSource, expect_task: Optional[str] = None) -> str:
    """The task a model file was trained for; checked against `expect_task` and the installed tasks."""
    contents = read_model_file(source)
    record = read_task_metadata(contents)
    name = str(record["task"])
    if expect_task is not None and name.lower() != expect_task.lower():
        known = expect_task.lower() in (task.lower() for task in registry.tasks)
        also = "" if known else f" (and no installed task is called {expect_task!r}: {', '.join(registry.tasks)})"
        raise UserInputError(f"is a model of task {name!r}, not of task {expect_task!r}{also}", file=contents.name)
    if name not in registry.tasks:
        installed = ", ".join(registry.tasks) or "none"
        hint = plugin_install_hint(record)
        raise UserInputError(f"is a model of task {name!r}, which no installed plugin provides "
                             f"(installed tasks: {installed})" + (f"; {hint}" if hint else ""), file=contents.name)
    return name


def load_task_model(source: ModelSource, expect_task: Optional[str] = None) -> TaskModel:
    """Load a model file written by `lstmcore train` (or its contents, already read), with its task and state."""
    from .model_file import ModelFileError, model_from_parsed

    contents = read_model_file(source)
    name = read_task_name(contents, expect_task)
    record = read_task_metadata(contents)
    task = registry.tasks.get(name)
    _check_task_state(contents, task, record["state"])
    try:
        model = model_from_parsed(contents.name, contents.tensors, contents.info)
    except ModelFileError as exc:
        raise UserInputError(f"is not a valid lstmcore model file: {exc.reason}", file=contents.name) from None
    except MemoryError:
        raise UserInputError("is not a valid lstmcore model file: its model is larger than this machine's "
                             "memory", file=contents.name) from None
    return TaskModel(model, name, task, dict(record["state"]), dict(record.get("hyperparameters") or {}),
                     Path(contents.path))


def _check_task_state(contents: ModelFileContents, task, state: Mapping[str, Any]) -> None:
    """The file's config checked against its weights and limits, then the task's state against the model's
    input and output shapes: all before the model is built, so nothing is allocated for a bad file."""
    from .model_file import ModelFileError, check_spec

    try:
        input_shape, output_shape = check_spec(contents.name, contents.info.get("model"), contents.shapes)
    except ModelFileError as exc:
        raise UserInputError(f"is not a valid lstmcore model file: {exc.reason}", file=contents.name) from None
    try:
        task.check_state(state, input_shape, output_shape)
    except UserInputError as exc:
        raise UserInputError(f"has a task record that does not fit its model: {exc.problem}",
                             file=contents.name) from None
    except (ValueError, TypeError, KeyError) as exc:
        raise UserInputError(f"has a task record that does not fit its model: {exc}", file=contents.name) from None


# --- what a model file holds (`lstmcore info`) -----------------------------------------

# The layer settings worth a glance in an architecture summary (the rest is in the config).
_LAYER_SETTINGS = ("units", "activation", "return_sequences", "merge_mode", "mode", "rate", "input_dim",
                   "output_dim", "mask_value")


def describe_model_file(source: ModelSource) -> Dict[str, Any]:
    """Everything `lstmcore info` shows about a model file, as JSON-able values.

    Keys: file, task (None for a model saved in Python), provider, lstmcore_version,
    format_version, state, hyperparameters, architecture, compile, training,
    training_data (None where the file does not record them).  Only the header
    and the tensors' shapes are read, so it works without the task's plugin.
    """
    contents = read_model_file(source)
    header, shapes, path = _model_header(contents), contents.shapes, contents.name
    extra = header.get("extra") if isinstance(header.get("extra"), dict) else {}
    for key in ("state", "hyperparameters", "training", "training_data", "provider"):
        if extra.get(key) is not None and not isinstance(extra[key], dict):
            raise UserInputError(f"has a damaged task record ({key!r} is not a JSON object)", file=path)
    spec = header.get("model") if isinstance(header.get("model"), dict) else {}
    try:
        architecture = _describe_architecture(spec.get("config") or {}, shapes)
        compile_spec = _describe_compile(header.get("compile"))
    except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
        raise UserInputError(f"has a damaged model config ({type(exc).__name__}: {exc})", file=path) from None
    return {
        "file": path,
        "task": extra.get("task"),
        "provider": extra.get("provider"),
        "lstmcore_version": header.get("library_version"),
        "format_version": header.get("format_version"),
        "state": extra.get("state") or {},
        "hyperparameters": extra.get("hyperparameters") or {},
        "architecture": architecture,
        "compile": compile_spec,
        "training": extra.get("training"),
        "training_data": extra.get("training_data"),
    }


def _model_header(contents: ModelFileContents) -> Dict[str, Any]:
    """The header of a whole model file (not a weights file, which is a UserInputError)."""
    from .model_file import FORMAT

    if contents.info.get("format") != FORMAT:
        raise UserInputError("holds weights only (written by save_weights), not a model", file=contents.name)
    return contents.info


def _describe_architecture(config: Mapping[str, Any], shapes: Mapping[str, tuple]) -> Dict[str, Any]:
    """Layer by layer: name, type, key settings, output shape (where the layer class is known) and parameters."""
    input_shape = config.get("input_shape")
    shape = tuple(input_shape) if input_shape is not None else None
    described = []
    for index, spec in enumerate(config.get("layers") or []):
        layer_config = spec.get("config") or {}
        shape = _output_shape(spec, shape)
        described.append({"name": layer_config.get("name"), "type": _layer_type(spec),
                          "settings": _layer_settings(spec), "output_shape": _as_list(shape),
                          "params": _parameter_count(shapes, f"layers.{index}.")})
    return {"input_shape": _as_list(input_shape), "layers": described,
            "params": _parameter_count(shapes, "layers.")}


def _layer_type(spec: Mapping[str, Any]) -> str:
    """"Dense", or "Bidirectional(LSTM)" for a wrapper and the layer it wraps."""
    inner = (spec.get("config") or {}).get("layer")
    if isinstance(inner, dict) and "class_name" in inner:
        return f"{spec.get('class_name')}({_layer_type(inner)})"
    return str(spec.get("class_name"))


def _layer_settings(spec: Mapping[str, Any]) -> Dict[str, Any]:
    """The settings worth a glance (units, activation, ...), a wrapped layer's included."""
    config = spec.get("config") or {}
    inner = config.get("layer")
    settings = _layer_settings(inner) if isinstance(inner, dict) else {}
    settings.update({key: config[key] for key in _LAYER_SETTINGS if key in config})
    return settings


def _output_shape(spec: Mapping[str, Any], input_shape: Optional[tuple]):
    """The layer's output shape for `input_shape`, or None when its class (or the input shape) is unknown."""
    from .. import layers

    if input_shape is None:
        return None
    try:
        return layers.deserialize(spec).compute_output_shape(input_shape)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        return None  # a plugin's layer that is not installed here: the rest of the summary still holds


def _parameter_count(shapes: Mapping[str, tuple], prefix: str) -> int:
    return sum(math.prod(shape) for name, shape in shapes.items() if name.startswith(prefix))


def _as_list(shape) -> Optional[List[Any]]:
    """A shape as JSON (a list; a layer with several outputs gives a list of lists)."""
    if shape is None:
        return None
    return [_as_list(part) if isinstance(part, (tuple, list)) else part for part in shape]


def _describe_compile(spec: Optional[Mapping[str, Any]]) -> Optional[Dict[str, Any]]:
    """Optimizer and loss by name (with the learning rate), and the metrics; None for an uncompiled model."""
    if not isinstance(spec, dict):
        return None
    return {"optimizer": _spec_name(spec.get("optimizer")), "loss": _spec_name(spec.get("loss")),
            "learning_rate": _learning_rate(spec.get("optimizer")), "metrics": list(spec.get("metrics") or [])}


def _spec_name(spec: Any) -> Optional[str]:
    if isinstance(spec, dict):
        return str(spec.get("class_name") or spec.get("name"))
    return None if spec is None else str(spec)


def _learning_rate(spec: Any) -> Any:
    config = spec.get("config") if isinstance(spec, dict) else None
    return config.get("learning_rate") if isinstance(config, dict) else None

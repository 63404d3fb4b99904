"""The Task contract: everything the command line needs to run one kind of biological job.

A task bundles

- a reader (`read`, and `read_chunks` for prediction over files larger than memory),
- an encoder (`fit_encoder` learns its state from training data; `encode` applies it),
- a default model builder (`build_model`) whose hyper-parameters a user overrides
  with `--config JSON` (`hyperparameters` holds the defaults),
- a loss and metrics (used by `build_model`; `evaluate` returns a dict of metrics),
- a writer of predictions (`prediction_header` and `prediction_rows`, written by
  the writer that the output's extension picks),
- a generator of small example data (`make_example_data`) for `lstmcore demo`.

The command line never knows more about a task than this contract, so a
plugin adds a task by subclassing `Task` and registering an instance through
the `register_tasks` hook.  `state` is a JSON-able dict (classes, alphabet,
scaling...) that `fit_encoder` returns; it is kept in the model file so that
`predict` encodes new data exactly as `train` did.
"""
from __future__ import annotations

import argparse
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ..errors import UserInputError

__all__ = ["Task", "Encoded", "ExampleData", "SkippedRecord", "resolve_hyperparameters", "read_config_file", "config_source_name",
           "validation_arguments"]

PathLike = os.PathLike
CONFIG_INLINE = "--config"        # how messages name hyper-parameters given inline as JSON
MAX_CONFIG_BYTES = 1024 * 1024    # a hyper-parameter file is small; anything bigger is the wrong file


@dataclass
class Encoded:
    """A task's data as arrays: inputs `x`, targets `y` (None when unlabelled), optional lengths, and
    optional `groups` (the series, genome or patient of each example, for group-aware splits)."""

    x: np.ndarray
    y: Optional[np.ndarray] = None
    lengths: Optional[np.ndarray] = None
    groups: Optional[np.ndarray] = None

    def subset(self, index: np.ndarray) -> "Encoded":
        """The examples at `index`, every per-example array cut alike (a subclass's fields kept)."""
        fields = dict(vars(self))
        for name in ("x", "y", "lengths", "groups"):
            if fields.get(name) is not None:
                fields[name] = fields[name][index]
        return type(self)(**fields)


@dataclass(frozen=True)
class SkippedRecord:
    """A record `prediction_rows` cannot predict (an empty or foreign sequence, say), yielded in place of its
    rows: the table is written with every other record's rows, then `lstmcore predict` exits 2 naming it."""

    file: Any
    record: str
    problem: str


@dataclass
class ExampleData:
    """The files a task's demo generated, and the options the command line would be given for them."""

    folder: Path
    train: List[Path]
    evaluate: List[Path]
    predict: List[Path]
    options: Dict[str, Any] = field(default_factory=dict)
    description: str = ""


class Task:
    """Base class of tasks; subclass it and override what your task needs.

    Class attributes
    ----------------
    name : the name users type (`lstmcore train NAME ...`); the registered name wins.
    summary : one line for `lstmcore plugins` and `--help`.
    hyperparameters : the default model builder's hyper-parameters, overridable by --config.
    demo_hyperparameters : overrides used by `lstmcore demo`, to keep it quick.
    demo_epochs : how many epochs `lstmcore demo` trains.
    chunk_size : records per chunk when `predict` streams its input.
    time_ordered : examples are in time order (forecasting): the validation split holds out the end
        of each series (`Encoded.groups`) instead of a shuffled part.
    accepts_folders : the task's reader takes a folder as one input (a folder of per-trace files).
    hyperparameter_limits : {name: (low, high)} sane bounds of numeric hyper-parameters (None: open),
        checked when --config overrides them, before any model is built: `units` of 10^7 is a
        one-line error, not a 3 PiB allocation.  "epochs" and "batch_size" are at least 1 for
        every task (CORE_HYPERPARAMETER_LIMITS) unless the task says otherwise.
    hyperparameter_choices : {name: (allowed values)} for hyper-parameters that name a mode
        ("gaps": ("error", "zero", "skip")), checked the same way.
    """

    name: str = ""
    summary: str = ""
    hyperparameters: Mapping[str, Any] = {}
    demo_hyperparameters: Mapping[str, Any] = {}
    demo_epochs: int = 5
    chunk_size: int = 1024
    time_ordered: bool = False
    accepts_folders: bool = False
    hyperparameter_limits: Mapping[str, Tuple[Any, Any]] = {}
    hyperparameter_choices: Mapping[str, Tuple[Any, ...]] = {}

    # --- the command line --------------------------------------------------------------
    def add_arguments(self, parser: argparse.ArgumentParser, command: str) -> None:
        """Add this task's own options to the parser of `command` ("train", "predict", "evaluate")."""

    def hyperparameters_from_options(self, options: Mapping[str, Any]) -> Dict[str, Any]:
        """Hyper-parameters that this task's own train options set (`--alphabet dna`, say); they override
        --config.  None by default."""
        return {}

    def training_report(self, state: Mapping[str, Any], hyperparameters: Mapping[str, Any]) -> List[str]:
        """Lines `lstmcore train` prints on stderr once the model is saved: what was chosen from the data
        rather than given (the detected alphabet, say), so nothing is decided silently.  None by default."""
        return []

    # --- reader ------------------------------------------------------------------------
    def read(self, paths: Sequence[Path], options: Mapping[str, Any], *, labelled: bool) -> Any:
        """Read the user's files into the task's own data object (with targets when `labelled`)."""
        raise NotImplementedError(f"task {self.name!r} does not implement read()")

    def read_chunks(self, paths: Sequence[Path], options: Mapping[str, Any]) -> Iterator[Any]:
        """Unlabelled data for prediction, in pieces of about `chunk_size`; by default all at once."""
        yield self.read(paths, options, labelled=False)

    # --- encoder -----------------------------------------------------------------------
    def fit_encoder(self, data: Any, hyperparameters: Mapping[str, Any]) -> Dict[str, Any]:
        """Learn the encoder's JSON-able state (classes, alphabet, scaling) from training data."""
        return {}

    def encode(self, data: Any, state: Mapping[str, Any], *, labelled: bool) -> Encoded:
        """Turn data into arrays with the state `fit_encoder` learnt."""
        raise NotImplementedError(f"task {self.name!r} does not implement encode()")

    # --- model -------------------------------------------------------------------------
    def check_state(self, state: Mapping[str, Any], input_shape: Optional[tuple],
                    output_shape: Optional[tuple]) -> None:
        """Check a model file's `state` against its model's input and output shapes (None where unknown)
        before the model is built; raise ValueError saying what does not fit (the loader names the file).

        A model file may have been edited or crafted: a state without its
        classes, or a model whose output does not fit them, must be one line,
        not a traceback in `predict`.  By default nothing is checked.
        """

    def build_model(self, state: Mapping[str, Any], hyperparameters: Mapping[str, Any]):
        """The default model, compiled with the task's loss and metrics."""
        raise NotImplementedError(f"task {self.name!r} does not implement build_model()")

    def training_schedule(self, hyperparameters: Mapping[str, Any]) -> Tuple[int, int]:
        """(epochs, batch size) when the user gives neither: the hyper-parameters' own
        "epochs" and "batch_size" if the task keeps them there, else 10 and 32."""
        return (int(hyperparameters.get("epochs", 10)), int(hyperparameters.get("batch_size", 32)))

    def validation_split(self, encoded: Encoded, fraction: float) -> Tuple[np.ndarray, np.ndarray]:
        """(train, validation) example indices for a fit that holds out `fraction`.

        By default a seeded permutation with its last part held out (a user's
        file is often sorted by class); a `time_ordered` task holds out the end
        of each series, never shuffling across the split.  Override it for
        another rule (whole genomes or patients held out, say).
        """
        from ..backend import rng
        from .splits import shuffled_holdout, time_ordered_holdout

        if self.time_ordered:
            return time_ordered_holdout(encoded.x.shape[0], fraction, encoded.groups)
        return shuffled_holdout(encoded.x.shape[0], fraction, rng())

    def fit(self, model, encoded: Encoded, *, epochs: int, batch_size: int, validation_split: float,
            verbose: int = 0, hyperparameters: Optional[Mapping[str, Any]] = None):
        """Train `model` on encoded data, holding out the task's `validation_split`, and return the History.

        `hyperparameters` are the resolved ones, for tasks whose training
        depends on them (class weights, augmentation: a task that augments
        does so on the training part only, after the split).
        """
        train, held_out = self.validation_split(encoded, validation_split)
        fitted, validation = encoded.subset(train), encoded.subset(held_out)
        return model.fit(fitted.x, fitted.y, epochs=epochs, batch_size=batch_size, verbose=verbose,
                         lengths=fitted.lengths, **validation_arguments(validation))

    def predict(self, model, encoded: Encoded, state: Optional[Mapping[str, Any]] = None, *,
                batch_size: int = 256) -> np.ndarray:
        """The model's raw outputs for encoded data (`state` for tasks that post-process, e.g. averaging)."""
        return model.predict(encoded.x, batch_size=batch_size, verbose=0, lengths=encoded.lengths)

    # --- evaluation ----------------------------------------------------------------------
    def evaluate(self, model, data: Any, state: Mapping[str, Any], *, options: Optional[Mapping[str, Any]] = None,
                 hyperparameters: Optional[Mapping[str, Any]] = None) -> Dict[str, float]:
        """Metrics of `model` on labelled data, by name (what `lstmcore evaluate` prints).

        `options` are the command line's (a task's own evaluate options, e.g.
        cross-validation); `hyperparameters` those the model was trained with,
        for a task that retrains (cross-validation).
        """
        raise NotImplementedError(f"task {self.name!r} does not implement evaluate()")

    # --- writer --------------------------------------------------------------------------
    def prediction_header(self, state: Mapping[str, Any]) -> List[str]:
        """The column names of the prediction table."""
        raise NotImplementedError(f"task {self.name!r} does not implement prediction_header()")

    def prediction_rows(self, data: Any, outputs: np.ndarray, state: Mapping[str, Any]) -> Iterable[Sequence]:
        """The rows of the prediction table for one chunk of data and the model's outputs on it."""
        raise NotImplementedError(f"task {self.name!r} does not implement prediction_rows()")

    # --- demo ----------------------------------------------------------------------------
    def make_example_data(self, folder: Path, seed: int = 0) -> ExampleData:
        """Write a small generated data set into `folder` for `lstmcore demo` (no downloads)."""
        raise NotImplementedError(f"task {self.name!r} has no demo data")

    def demo_outputs(self, model_path: Path, data: ExampleData, folder: Path) -> Dict[str, Path]:
        """Extra results `lstmcore demo` writes after training (e.g. found motifs), by name; none by default."""
        return {}

    def demo_summary(self, data: ExampleData, outputs: Mapping[str, Path]) -> List[str]:
        """Lines `lstmcore demo` ends with: what the demo found against what it planted; none by default."""
        return []

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


def validation_arguments(validation: Encoded) -> Dict[str, Any]:
    """`model.fit`'s validation_data and validation_lengths for the held-out examples (none: nothing)."""
    if validation.x.shape[0] == 0:
        return {}
    return {"validation_data": (validation.x, validation.y), "validation_lengths": validation.lengths}


def read_config_file(path: PathLike) -> Dict[str, Any]:
    """The hyper-parameters in a --config JSON file (an object of name -> value).

    The argument may also be the JSON object itself (`--config '{"units": 64}'`)
    when no file has that name; messages then name `--config`.
    """
    text, source = _config_text(path)
    try:
        config = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserInputError(f"is not valid JSON ({exc})", file=source) from None
    except RecursionError:
        raise UserInputError("is not valid JSON (nested too deeply)", file=source) from None
    if not isinstance(config, dict):
        raise UserInputError(f"must hold a JSON object of hyper-parameters, not {type(config).__name__}",
                             file=source)
    return config


def config_source_name(argument: Optional[str]) -> Optional[str]:
    """How messages name a --config argument: the file, or `--config` for JSON given inline."""
    if argument is None:
        return None
    return CONFIG_INLINE if _is_inline_json(argument) else argument


def _is_inline_json(argument: PathLike) -> bool:
    text = os.fspath(argument)
    return text.lstrip().startswith(("{", "[")) and not os.path.exists(text)


def _config_text(path: PathLike) -> Tuple[str, str]:
    """(the JSON text, how messages name it) of a --config argument: a file, or the JSON itself."""
    if _is_inline_json(path):
        return os.fspath(path), CONFIG_INLINE
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise UserInputError("no such file", file=path) from None
    except IsADirectoryError:
        raise UserInputError("is a folder; --config takes a JSON file of hyper-parameters", file=path) from None
    except OSError as exc:
        raise UserInputError(f"cannot be read: {exc.strerror or exc}", file=path) from None
    if len(data) > MAX_CONFIG_BYTES:
        raise UserInputError(f"is larger than {MAX_CONFIG_BYTES // 1024} KiB: not a hyper-parameter file",
                             file=path)
    try:
        return data.decode("utf-8"), os.fspath(path)
    except UnicodeDecodeError as exc:
        raise UserInputError(f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
                             file=path) from None


def resolve_hyperparameters(task: Task, overrides: Mapping[str, Any], source: Optional[str] = None) -> Dict[str, Any]:
    """The task's defaults with `overrides` applied; an unknown name, a value of the wrong type, or a number
    outside the task's `hyperparameter_limits` is an error (before anything is built or allocated)."""
    resolved = dict(task.hyperparameters)
    for name, value in overrides.items():
        if name not in resolved:
            known = ", ".join(sorted(resolved)) or "none"
            raise UserInputError(f"unknown hyper-parameter for task {task.name!r} (known: {known})",
                                 file=source, record=name)
        resolved[name] = _checked_value(name, value, resolved[name], source)
        limits = {**CORE_HYPERPARAMETER_LIMITS, **getattr(task, "hyperparameter_limits", {})}
        _check_limits(name, resolved[name], limits.get(name), source)
        choices = getattr(task, "hyperparameter_choices", {}).get(name)
        if choices is not None and resolved[name] not in choices:
            raise UserInputError(f"must be one of {', '.join(map(repr, choices))}. Received: {resolved[name]!r}",
                                 file=source, record=name)
    return resolved


# What every task's training schedule needs: a count of 0 divided by zero, or made no schedule at all.
CORE_HYPERPARAMETER_LIMITS = {"epochs": (1, None), "batch_size": (1, None)}


def _check_limits(name: str, value: Any, limits: Optional[Tuple[Any, Any]], source: Optional[str]) -> None:
    """A number within [low, high] (either may be None), finite; anything else passes."""
    if limits is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    low, high = limits
    problem = "the hyper-parameters do not make a valid model"
    if isinstance(value, float) and not math.isfinite(value):
        raise UserInputError(f"{problem}: {name} must be a finite number. Received: {value!r}", file=source,
                             record=name)
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"between {low} and {high}" if low is not None and high is not None else \
            (f"at least {low}" if low is not None else f"at most {high}")
        raise UserInputError(f"{problem}: {name} must be {bounds} (the task's sane limits). Received: {value!r}",
                             file=source, record=name)


def _checked_value(name: str, value: Any, default: Any, source: Optional[str]) -> Any:
    """Accept a value of the default's type (an int where a float is expected is fine)."""
    if default is None or value is None:
        return value
    expected = type(default)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, expected) and not (isinstance(value, bool) and expected is not bool):
        return value
    if isinstance(default, (list, tuple)) and isinstance(value, (list, tuple)):
        return type(default)(value)
    raise UserInputError(f"must be of type {expected.__name__}, like its default {default!r}. "
                         f"Received: {value!r}", file=source, record=name)

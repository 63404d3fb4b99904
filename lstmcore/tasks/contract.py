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
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ..errors import UserInputError

__all__ = ["Task", "Encoded", "ExampleData", "resolve_hyperparameters", "read_config_file", "validation_arguments"]

PathLike = os.PathLike


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
    """

    name: str = ""
    summary: str = ""
    hyperparameters: Mapping[str, Any] = {}
    demo_hyperparameters: Mapping[str, Any] = {}
    demo_epochs: int = 5
    chunk_size: int = 1024
    time_ordered: bool = False

    # --- the command line --------------------------------------------------------------
    def add_arguments(self, parser: argparse.ArgumentParser, command: str) -> None:
        """Add this task's own options to the parser of `command` ("train", "predict", "evaluate")."""

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
    """The hyper-parameters in a --config JSON file (an object of name -> value)."""
    try:
        with open(path, encoding="utf-8") as handle:
            config = json.load(handle)
    except FileNotFoundError:
        raise UserInputError("no such file", file=path) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserInputError(f"is not valid JSON ({exc})", file=path) from None
    if not isinstance(config, dict):
        raise UserInputError(f"must hold a JSON object of hyper-parameters, not {type(config).__name__}", file=path)
    return config


def resolve_hyperparameters(task: Task, overrides: Mapping[str, Any], source: Optional[str] = None) -> Dict[str, Any]:
    """The task's defaults with `overrides` applied; an unknown name or a value of the wrong type is an error."""
    resolved = dict(task.hyperparameters)
    for name, value in overrides.items():
        if name not in resolved:
            known = ", ".join(sorted(resolved)) or "none"
            raise UserInputError(f"unknown hyper-parameter for task {task.name!r} (known: {known})",
                                 file=source, record=name)
        resolved[name] = _checked_value(name, value, resolved[name], source)
    return resolved


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

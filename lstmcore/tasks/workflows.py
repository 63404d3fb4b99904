"""What `lstmcore train / evaluate / predict / demo` do, as functions usable from Python too.

Each function takes a task (or a model file that names its task) and paths,
and does only what the Task contract (lstmcore.tasks) offers, so every task a
plugin registers works the same way.  Outputs are checked for writability
before the long work starts and are written atomically.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from .. import registry
from ..errors import UserInputError
from ..io.inputs import check_stdin_once, is_stdin
from ..io.outputs import check_output, input_files_in, prepare_output_folder
from ..io.writers import write_table, writer_for
from .contract import SkippedRecord, Task, resolve_hyperparameters
from ..saving.task_models import ModelFileContents, TaskModel, load_task_model, save_task_model

__all__ = ["train", "evaluate", "predict", "demo", "TrainResult", "DemoResult", "get_task"]

PathLike = Union[str, "os.PathLike[str]"]
ModelArgument = Union[PathLike, ModelFileContents, TaskModel]  # a model file, read already or loaded too
DEMO_FILES = ("model.lstm", "metrics.json", "predictions.tsv")  # what `demo` writes beside the data folder
DEMO_MARK = ".lstmcore-demo"  # marks a demo's folder: a later demo may replace what is in it, nothing else's


@dataclass
class TrainResult:
    model: Any
    state: Dict[str, Any]
    hyperparameters: Dict[str, Any]
    history: Any
    path: Path


@dataclass
class DemoResult:
    folder: Path
    data: Dict[str, List[Path]]
    model: Path
    metrics: Dict[str, float]
    metrics_file: Path
    predictions: Path
    outputs: Dict[str, Path] = field(default_factory=dict)
    summary: List[str] = field(default_factory=list)


def get_task(task: Union[str, Task]) -> Task:
    """A Task instance from its registered name (or the instance itself)."""
    return task if isinstance(task, Task) else registry.tasks.get(task)


def require_files(paths: Sequence[PathLike], *, folders: bool = False) -> List[Path]:
    """The paths as Paths; none given, a missing one or (unless `folders`) a folder is a UserInputError.

    `-` is standard input, which can be read once: given twice, it is an error.  A task whose
    data may be a folder (one file per trace, say) sets `Task.accepts_folders`.
    """
    check_stdin_once(paths)
    paths = [Path(p) for p in paths]
    if not paths:
        raise UserInputError("no input files given")
    for path in paths:
        if is_stdin(path):
            continue
        try:
            path.stat()
        except FileNotFoundError:
            raise UserInputError("no such file", file=path) from None
        except OSError as exc:                  # a name too long, a loop of links, no permission
            raise UserInputError(f"cannot read it: {exc.strerror or exc}", file=path) from None
        if path.is_dir() and not folders:
            raise UserInputError("is a folder; give the data files themselves", file=path)
    return paths


def train(task: Union[str, Task], paths: Sequence[PathLike], output: PathLike, *,
          options: Optional[Mapping[str, Any]] = None, hyperparameters: Optional[Mapping[str, Any]] = None,
          config_source: Optional[str] = None, epochs: Optional[int] = None,
          batch_size: Optional[int] = None,
          validation_split: float = 0.0, seed: Optional[int] = 0, threads: Optional[int] = None,
          progress: bool = False) -> TrainResult:
    """Read, encode, build the task's default model, fit it, and save it (with the task's state) to `output`.

    `epochs` and `batch_size` left as None take the task's training schedule.
    The model file also records the training files' names, the number of
    examples and the schedule used, which `lstmcore info MODEL` shows.
    """
    task = get_task(task)
    options = dict(options or {})
    resolved = resolve_hyperparameters(task, hyperparameters or {}, config_source)
    from_options = task.hyperparameters_from_options(options)  # the task's own options win over --config
    resolved.update({name: value for name, value in resolve_hyperparameters(task, from_options).items()
                     if name in from_options})
    paths = require_files(paths, folders=task.accepts_folders)
    check_output(output, [*paths, config_source, *input_files_in(options)], allow_stdout=False)
    _set_threads_and_seed(threads, seed)
    data = task.read(paths, options, labelled=True)
    state = task.fit_encoder(data, resolved)
    encoded = task.encode(data, state, labelled=True)
    model = _build_model(task, state, resolved, config_source)
    default_epochs, default_batch_size = task.training_schedule(resolved)
    schedule = {"epochs": default_epochs if epochs is None else epochs,
                "batch_size": default_batch_size if batch_size is None else batch_size,
                "validation_split": validation_split, "seed": seed}
    history = task.fit(model, encoded, epochs=schedule["epochs"], batch_size=schedule["batch_size"],
                       validation_split=validation_split, verbose=_fit_verbosity(progress),
                       hyperparameters=resolved)
    path = save_task_model(model, output, _registered_name(task), state, resolved,
                           training_data=_training_data_record(paths, encoded), training=schedule)
    for line in task.training_report(state, resolved):
        print(line, file=sys.stderr)
    return TrainResult(model, state, resolved, history, path)


def evaluate(model: ModelArgument, paths: Sequence[PathLike], *,
             options: Optional[Mapping[str, Any]] = None, expect_task: Optional[str] = None,
             threads: Optional[int] = None) -> Dict[str, float]:
    """The task's metrics of a saved model on labelled data."""
    loaded = _loaded_model(model, paths, expect_task)
    del model  # a file's contents, once copied into the model, are freed
    paths = require_files(paths, folders=loaded.task.accepts_folders)
    _set_threads_and_seed(threads, None)
    options = dict(options or {})
    data = loaded.task.read(paths, options, labelled=True)
    metrics = loaded.task.evaluate(loaded.model, data, loaded.state, options=options,
                                   hyperparameters=loaded.hyperparameters)
    return {name: float(value) for name, value in metrics.items()}


def predict(model: ModelArgument, paths: Sequence[PathLike], output: PathLike, *,
            options: Optional[Mapping[str, Any]] = None, expect_task: Optional[str] = None,
            threads: Optional[int] = None, progress: bool = False) -> int:
    """Write the task's prediction table for unlabelled data, streamed chunk by chunk; return the row count."""
    loaded = _loaded_model(model, paths, expect_task)
    del model  # a file's contents, once copied into the model, are freed
    paths = require_files(paths, folders=loaded.task.accepts_folders)
    check_output(output, [loaded.path, *paths, *input_files_in(dict(options or {}))])
    _set_threads_and_seed(threads, None)
    task, state = loaded.task, loaded.state
    counter = _RowCounter(progress)
    skipped: List[SkippedRecord] = []

    def rows():
        for chunk in task.read_chunks(paths, dict(options or {})):
            outputs = task.predict(loaded.model, task.encode(chunk, state, labelled=False), state)
            for row in task.prediction_rows(chunk, outputs, state):
                if isinstance(row, SkippedRecord):
                    skipped.append(row)
                    continue
                counter.add()
                yield row

    try:
        write_table(output, task.prediction_header(state), rows(), writer_for(output))
    finally:
        counter.close()
    if skipped:
        raise _skipped_error(skipped, output, counter.count)
    return counter.count


def _loaded_model(model: ModelArgument, paths: Sequence[PathLike], expect_task: Optional[str]) -> TaskModel:
    """The model loaded (a file is read once: `-` is standard input, which the data may then not be too)."""
    check_stdin_once([model.path if isinstance(model, (TaskModel, ModelFileContents)) else model, *paths])
    return model if isinstance(model, TaskModel) else load_task_model(model, expect_task)


def _skipped_error(skipped: List[SkippedRecord], output: PathLike, rows: int) -> UserInputError:
    """The one line for records a task could not predict: the first named, the others counted; the table
    holds every other record's rows (nothing the user asked for is silently missing)."""
    first = skipped[0]
    others = f" (and {len(skipped) - 1} more record(s))" if len(skipped) > 1 else ""
    return UserInputError(f"{first.problem}{others}: not predicted; the other records' {rows} rows are in "
                          f"{output}", file=first.file, record=first.record)


def demo(task: Union[str, Task], folder: PathLike, *, seed: int = 0, epochs: Optional[int] = None,
         threads: Optional[int] = None, progress: bool = False) -> DemoResult:
    """Generate the task's example data in `folder`, then train, evaluate and predict on it."""
    task = get_task(task)
    _require_demo_folder(Path(folder))
    folder = prepare_output_folder(folder, names=DEMO_FILES, folders=["data"])  # a read-only one: one line
    (folder / DEMO_MARK).write_text("written by `lstmcore demo`, which may write into this folder again\n")
    data = task.make_example_data(folder / "data", seed)
    options = dict(data.options, quiet=not progress)      # as the commands pass -q to the task
    model_path = folder / "model.lstm"
    train(task, data.train, model_path, options=options, hyperparameters=dict(task.demo_hyperparameters),
          epochs=epochs or task.demo_epochs, seed=seed, threads=threads, progress=progress)
    metrics = evaluate(model_path, data.evaluate, options=options, threads=threads)
    metrics_path = folder / "metrics.json"
    _write_json(metrics_path, metrics)
    predictions_path = folder / "predictions.tsv"
    predict(model_path, data.predict, predictions_path, options=options, threads=threads, progress=progress)
    outputs = task.demo_outputs(model_path, data, folder)
    return DemoResult(folder, {"train": data.train, "evaluate": data.evaluate, "predict": data.predict},
                      model_path, metrics, metrics_path, predictions_path, dict(outputs),
                      list(task.demo_summary(data, outputs)))


def _require_demo_folder(folder: Path) -> None:
    """A demo writes model.lstm, predictions.tsv, data/, ... into its folder: refuse a folder that holds
    files a demo did not write (a project's own model.lstm would be replaced without a word)."""
    if not folder.is_dir() or (folder / DEMO_MARK).is_file():
        return
    present = sorted(entry.name for entry in folder.iterdir())
    if present:
        shown = ", ".join(present[:3]) + (f" and {len(present) - 3} more" if len(present) > 3 else "")
        raise UserInputError(f"the demo folder exists and holds files a demo did not write ({shown}); a demo "
                             "replaces model.lstm, predictions.tsv, metrics.json and data/ in it: give a new "
                             "folder with --out", file=folder)


def _build_model(task: Task, state, hyperparameters, config_source: Optional[str]):
    """The task's default model; hyper-parameters that cannot build one are the user's --config mistake."""
    try:
        return task.build_model(state, hyperparameters)
    except MemoryError:  # a size past what the task's hyperparameter_limits foresaw
        raise UserInputError("the hyper-parameters ask for a model larger than this machine's memory",
                             file=config_source) from None
    except (ValueError, TypeError) as exc:
        if isinstance(exc, UserInputError):
            raise
        raise UserInputError(f"the hyper-parameters do not make a valid model: {exc}", file=config_source) from None


def _training_data_record(paths: Sequence[Path], encoded) -> Dict[str, Any]:
    """The training files' names and example count, kept in the model file for `lstmcore info`.

    Names only, not full paths: a model file is shared, the user's folders are not.
    """
    return {"files": [Path(p).name for p in paths], "examples": int(encoded.x.shape[0])}


def _registered_name(task: Task) -> str:
    """The name the task is registered under (what a model file records), falling back to task.name."""
    for name, component, _ in registry.tasks.items():
        if component is task:
            return name
    return task.name


def _write_json(path: Path, value) -> None:
    import json

    from ..io.atomic import atomic_open

    with atomic_open(path, "w", encoding="utf-8") as handle:
        json.dump(value, handle, indent=2, sort_keys=True)
        handle.write("\n")


def _set_threads_and_seed(threads: Optional[int], seed: Optional[int]) -> None:
    if threads is not None:
        from .._threads import set_num_threads

        set_num_threads(threads)
    if seed is not None:
        from ..backend import set_seed

        set_seed(seed)


def _fit_verbosity(progress: bool) -> int:
    """Progress bars on a terminal, one line per epoch in a log file, nothing when quiet."""
    import sys

    if not progress:
        return 0
    return 1 if sys.stderr.isatty() else 2


class _RowCounter:
    """Counts written rows, with a tqdm bar on stderr when asked."""

    def __init__(self, progress: bool):
        self.count = 0
        self.bar = None
        if progress:
            from ..progress_bars import progress_bar

            self.bar = progress_bar(desc="predict", unit=" records", leave=False, disable=None)  # terminals only

    def add(self) -> None:
        self.count += 1
        if self.bar is not None:
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


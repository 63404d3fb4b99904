"""The `signal` task: recorded traces (one or several channels) -> a class per trace.

    lstmcore train signal ECG200_TRAIN.tsv -o ecg.lstm
    lstmcore evaluate ecg.lstm ECG200_TEST.tsv --json --confusion-matrix cm.tsv --plot
    lstmcore predict ecg.lstm new_beats.tsv --label-column none -o predictions.tsv
    lstmcore demo signal

Files: UCR tables (label first), the archive's `.ts` format, NPZ (X, y) and
labels tables of per-trace CSV files (`readers`).  Traces of different
lengths run with the core's lengths, or are resampled (`length`), as the user
chooses; a missing value is an error unless `--missing interpolate` is given.
The scaling is learnt from the training traces only (`preprocessing`).  The
default model is LSTM-FCN (MLSTM-FCN for several channels), sized and trained
as Karim et al. did for the UCR archive's small training sets (`model`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

import numpy as np

from lstmcore import toolkit as tk
from lstmcore.toolkit import Encoded, ExampleData, Task, UserInputError

from .traces import Traces, sorted_classes

__all__ = ["SignalTask"]


class SignalTask(Task):
    """Classify recorded traces (ECG beats, calcium / voltage imaging, activation time courses)."""

    name = "signal"
    summary = "trace classification (UCR .tsv, .ts, NPZ, CSV folders) with LSTM-FCN / MLSTM-FCN"
    accepts_folders = True     # a folder of per-trace CSV files with its labels.tsv
    hyperparameters = {
        "normalisation": "trace",     # "trace" (z per trace and channel), "channel" (training stats), "none"
        "length": 0,                  # resample every trace to this many steps; 0 keeps the lengths
        "smoothing": 0,               # moving-average window in steps; 0 or 1 is off
        "lstm_input": "auto",         # "shuffle" (Karim's dimension shuffle), "steps", "auto" (see model.py)
        "lstm_units": 8,              # Karim et al.'s choice for most UCR sets
        "lstm_dropout": 0.8,
        "filters": [128, 256, 128],
        "kernel_sizes": [8, 5, 3],
        "squeeze_excite": "auto",     # MLSTM-FCN's blocks: "auto" (several channels), true or false
        "optimizer": "adam",
        "learning_rate": 0.001,
        "lr_schedule": "cosine",      # "cosine" (to zero over the fit) or "constant"
        "class_weight": "balanced",   # "balanced" or "none"
        "augment": [],                # any of "jitter", "scaling", "window_slicing"
        "augment_copies": 1,
        "epochs": 200,
        "batch_size": 16,
    }
    demo_hyperparameters = {**hyperparameters, "filters": [16, 32, 16], "epochs": 40}
    demo_epochs = 40

    # --- the command line --------------------------------------------------------------
    def add_arguments(self, parser, command: str) -> None:
        from .preprocessing import MISSING_CHOICES
        from .readers import FORMATS

        parser.add_argument("--format", choices=FORMATS, default="auto",
                            help="input format (default: by extension; a table with a 'file' column is a "
                                 "labels table of per-trace CSV files, any other table UCR rows)")
        parser.add_argument("--missing", choices=MISSING_CHOICES, default="error",
                            help="a NaN inside a trace: 'error' (default) or 'interpolate' (linear)")
        if command == "predict":
            parser.add_argument("--label-column", choices=("first", "none"), default="first",
                                help="UCR tables: 'first' (default: the first column is a label, ignored) or "
                                     "'none' (every column is a sample)")
        if command == "evaluate":
            parser.add_argument("--confusion-matrix", metavar="TSV", default=None,
                                help="write the confusion matrix (rows: true class, columns: predicted) here")
            parser.add_argument("--plot", action="store_true",
                                help="also draw the confusion matrix as a PNG beside the TSV (needs matplotlib)")
            parser.add_argument("--cv", default=None, metavar="K|loo",
                                help="cross-validate instead: retrain with the model's hyper-parameters in "
                                     "stratified K folds or leave-one-out, score the out-of-fold predictions")

    # --- reader ------------------------------------------------------------------------
    def read(self, paths, options: Mapping[str, Any], *, labelled: bool) -> Traces:
        from .preprocessing import handle_missing
        from .readers import read_traces

        traces = read_traces(paths, options, labelled=labelled)
        return handle_missing(traces, options.get("missing") or "error")

    # --- encoder -----------------------------------------------------------------------
    def fit_encoder(self, traces: Traces, hyperparameters: Mapping[str, Any]) -> Dict[str, Any]:
        """Classes, channels, the shaping and the scaling, learnt from the training traces only."""
        from .model import uses_shuffle
        from .preprocessing import fit_normalisation

        classes = sorted_classes(traces.labels)
        if len(classes) < 2:
            raise UserInputError(f"holds only one class ({classes[0]!r}): a classifier needs at least two",
                                 file=traces.files[0])
        length, window = int(hyperparameters["length"]), int(hyperparameters["smoothing"])
        if length < 0 or window < 0:
            raise UserInputError("length and smoothing must be 0 (off) or positive", record="length")
        equal = length > 0 or len(set(traces.lengths.tolist())) == 1
        shuffle = uses_shuffle(hyperparameters["lstm_input"], equal)
        state = {"classes": classes, "channels": traces.channels, "length": length, "smoothing": window,
                 "shuffle": shuffle, "steps": (length or int(traces.lengths[0])) if shuffle else None}
        state.update(fit_normalisation(traces, {**hyperparameters, **state}))
        return state

    def encode(self, traces: Traces, state: Mapping[str, Any], *, labelled: bool) -> Encoded:
        """Padded float32 traces (n, longest, channels), their lengths, and class indices when labelled."""
        from .preprocessing import prepare

        for index, trace in enumerate(traces.series):
            if trace.shape[1] != state["channels"]:
                raise traces.error(index, f"has {trace.shape[1]} channels; the model takes {state['channels']}")
        series = prepare(traces, state)
        lengths = np.array([s.shape[0] for s in series], dtype=np.int64)
        if state["steps"] is not None:
            for index in np.flatnonzero(lengths != state["steps"]):
                raise traces.error(int(index), f"has {lengths[index]} steps; the model takes {state['steps']} "
                                              "(train with 'length' to resample, or lstm_input 'steps')")
        x = np.zeros((len(series), int(lengths.max()), state["channels"]), dtype=np.float32)
        for i, trace in enumerate(series):
            x[i, : trace.shape[0]] = trace
        y = self._class_indices(traces, state) if labelled else None
        return Encoded(x, y, None if (lengths == lengths[0]).all() else lengths)

    @staticmethod
    def _class_indices(traces: Traces, state: Mapping[str, Any]) -> np.ndarray:
        index = {name: i for i, name in enumerate(state["classes"])}
        for i, label in enumerate(traces.labels):
            if label not in index:
                raise traces.error(i, f"class {label!r} is not one the model was trained on "
                                      f"({', '.join(state['classes'])})")
        return np.array([index[label] for label in traces.labels], dtype=np.int64)

    # --- model -------------------------------------------------------------------------
    def build_model(self, state: Mapping[str, Any], hyperparameters: Mapping[str, Any]):
        from .model import build_lstm_fcn

        return build_lstm_fcn(state, hyperparameters)

    def fit(self, model, encoded: Encoded, *, epochs: int, batch_size: int, validation_split: float,
            verbose: int = 0, hyperparameters: Optional[Mapping[str, Any]] = None):
        """Hold out the validation part, then train with class weights and the augmentations asked for."""
        from .model import train_classifier

        hyperparameters = dict(hyperparameters or self.hyperparameters)
        train, held_out = self.validation_split(encoded, validation_split)
        return train_classifier(model, encoded.subset(train), hyperparameters, epochs=epochs,
                                batch_size=batch_size, validation=encoded.subset(held_out), verbose=verbose)

    # --- evaluation ----------------------------------------------------------------------
    def evaluate(self, model, traces: Traces, state: Mapping[str, Any], *, options=None,
                 hyperparameters=None) -> Dict[str, float]:
        """Accuracy, balanced accuracy, macro F1, AUROC, per-class precision / recall, confusion counts."""
        from .reports import check_report_options, write_confusion_matrix

        options = dict(options or {})
        check_report_options(options)
        encoded = self.encode(traces, state, labelled=True)
        if options.get("cv"):
            splitter = tk.parse_cv(options["cv"], encoded.y, state["classes"])
            probabilities = tk.cross_validate(self, encoded, state, dict(hyperparameters or self.hyperparameters),
                                              splitter, progress=not options.get("quiet"))
        else:
            probabilities = self.predict(model, encoded, state)
        report = tk.classification_scores(encoded.y, probabilities, state["classes"])
        if options.get("confusion_matrix"):
            matrix = tk.confusion_matrix(encoded.y, probabilities.argmax(axis=1), len(state["classes"]))
            write_confusion_matrix(options["confusion_matrix"], matrix, state["classes"], plot=options.get("plot"))
        return report

    # --- writer --------------------------------------------------------------------------
    def prediction_header(self, state: Mapping[str, Any]) -> List[str]:
        return ["id", "predicted"] + [f"p_{name}" for name in state["classes"]]

    def prediction_rows(self, traces: Traces, outputs: np.ndarray, state: Mapping[str, Any]):
        classes = state["classes"]
        for trace_id, row in zip(traces.ids, outputs):
            yield [trace_id, classes[int(np.argmax(row))], *(float(p) for p in row)]

    # --- demo ----------------------------------------------------------------------------
    def make_example_data(self, folder: Path, seed: int = 0) -> ExampleData:
        from .demo_data import write_demo_data

        return write_demo_data(folder, seed)

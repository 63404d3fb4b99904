"""The `motif` task: FASTA sequences -> a bidirectional LSTM classifier whose learned motifs can be read out.

It extends the core's `sequence-classification` task (reader, labels,
one-hot encoders, prediction table, streaming) with what a biologist with
promoters, enhancers or binding sites needs:

- a default model that finds a motif wherever it sits: a bidirectional LSTM
  over the whole sequence, max-pooled over the real steps of each sequence
  (`pooling: "last"` keeps the classic last-state model); for long sequences
  (median >= `long_length`, 150 nt) a Conv1D + MaxPooling1D front end before
  it (DanQ-like), chosen in `fit_encoder` and kept in the model's state
  (architecture.py); `lstmcore train` prints the choice on one line;
- early stopping on the validation loss (best weights restored) and a stop,
  with one line of advice, for a model still at chance (learning_check.py);
- class weights ("balanced" by default) for imbalanced sets;
- for DNA, reverse-complement augmentation in training and averaging of the
  two strands' probabilities in prediction (`reverse_complement`: "auto" =
  on for DNA, or true / false);
- accuracy, balanced accuracy, AUROC, AUPRC, MCC and the confusion matrix,
  and `lstmcore evaluate MODEL DATA --cv K|loo` (stratified K-fold or
  leave-one-out, retraining with the model's hyper-parameters).

Variable lengths go through the core's `lengths` everywhere: no sequence is
truncated, and padding never enters the arithmetic.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

import numpy as np

from lstmcore import toolkit as tk
from lstmcore.toolkit import Encoded, ExampleData, SequenceClassificationTask, SequenceRecord, UserInputError

from .architecture import ARCHITECTURES, choose_architecture, describe_architecture, effective, not_learning_advice

__all__ = ["MotifTask", "StrandedEncoded", "DEFAULT_EPOCHS", "DEFAULT_BATCH_SIZE"]

# What training uses when neither --config nor the command line says otherwise
# (tuned on the E. coli promoters: 106 x 57 nt; see evaluation/RESULTS.md).
DEFAULT_EPOCHS = 40
DEFAULT_BATCH_SIZE = 8
LONG_LENGTH = 150   # median length from which "auto" builds the convolutional front end


@dataclass
class StrandedEncoded(Encoded):
    """Encoded data that knows what `fit` needs but is not given: whether both DNA strands are used,
    and the architecture chosen for the training data (for the lines `fit` prints)."""

    reverse_complement: bool = False
    architecture: str = "bilstm"
    architecture_reason: str = "the default"
    median_length: Optional[float] = None


class MotifTask(SequenceClassificationTask):
    """Classify DNA, RNA or protein sequences and expose the motifs the classifier relies on."""

    name = "motif"
    summary = ("FASTA classification (BiLSTM, class weights, reverse-complement averaging, CV) "
               "+ attribution, in-silico mutagenesis and motifs (JASPAR/MEME)")
    hyperparameters = {
        "alphabet": "auto",            # "auto", "dna", "rna", "protein" (or an encoder a plugin registers)
        "gaps": "error",               # "error", "zero" or "skip"
        "units": 24,                   # LSTM units per direction (8: 90.6 %, 16: 93.4 %, 24: 94.3 % LOO)
        "pooling": "max",              # "max", "mean", "max_mean" over steps, or "last" (final states)
        "dropout": 0.0,                # before the output layer
        "learning_rate": None,         # None: the architecture's own (0.01 bilstm, 0.003 conv_bilstm)
        "lr_schedule": "cosine",       # "cosine" (to zero over the fit) or "constant"
        "optimizer": "adam",
        "class_weight": "balanced",    # "balanced" or "none"
        "reverse_complement": "auto",  # "auto" (on for DNA), true or false
        "epochs": DEFAULT_EPOCHS,      # used unless --epochs is given on the command line
        "batch_size": DEFAULT_BATCH_SIZE,
        # Chosen by length (evaluation/LENGTHS.md): "auto" builds "conv_bilstm" when the median training
        # length is >= long_length, else "bilstm"; or name one of the two.
        "architecture": "auto",
        "long_length": LONG_LENGTH,
        "conv_filters": 32,            # conv_bilstm's front end: motif detectors ...
        "conv_kernel_size": 12,        # ... of this many nt ...
        "conv_pool_size": 8,           # ... max-pooled over windows of this many steps before the BiLSTM
        "patience": 5,                 # early stopping: epochs without the validation loss falling by 0.001
        "chance_epochs": 15,           # stop (with advice) when accuracy is still at chance after these
    }
    hyperparameter_limits = {**SequenceClassificationTask.hyperparameter_limits, "chance_epochs": (1, None),
                             "patience": (0, None), "long_length": (1, None)}
    hyperparameter_choices = {"gaps": ("error", "zero", "skip"), "pooling": tk.POOLING_MODES + ("last",),
                              "architecture": ("auto",) + ARCHITECTURES, "lr_schedule": ("cosine", "constant"),
                              "class_weight": ("balanced", "none")}
    demo_hyperparameters = {"units": 8, "epochs": 15, "batch_size": 16}
    demo_epochs = demo_hyperparameters["epochs"]  # ~100 % accuracy on the demo data in a few seconds

    # --- the command line --------------------------------------------------------------
    def add_arguments(self, parser, command: str) -> None:
        super().add_arguments(parser, command)
        if command == "evaluate":
            parser.add_argument("--cv", default=None, metavar="K|loo",
                                help="cross-validate instead: retrain with the model's hyper-parameters in "
                                     "stratified K folds (an integer >= 2) or leave-one-out ('loo'), and "
                                     "score the pooled out-of-fold predictions")
            parser.add_argument("--cv-seed", type=tk.seed, default=0, help="seed of the folds and models (default 0)")

    # --- encoder -----------------------------------------------------------------------
    def fit_encoder(self, records: List[SequenceRecord], hyperparameters: Mapping[str, Any]) -> Dict[str, Any]:
        state = super().fit_encoder(records, hyperparameters)
        state["reverse_complement"] = _reverse_complement_on(hyperparameters, state["encoder"]["name"],
                                                             records[0].source)
        lengths = [len(record.sequence) for record in records]
        state["architecture"], state["architecture_reason"] = choose_architecture(hyperparameters, lengths)
        state["median_length"] = float(np.median(lengths))
        # "valid" pooling needs a whole window in the batch, even when every sequence is shorter.
        state["min_steps"] = int(hyperparameters["conv_pool_size"]) if state["architecture"] == "conv_bilstm" else 1
        self._record_choice(hyperparameters, state)
        return state

    def _record_choice(self, hyperparameters: Mapping[str, Any], state: Mapping[str, Any]) -> None:
        """Write the architecture and learning rate chosen into the caller's hyper-parameters.

        `lstmcore train` saves the dict it passes here with the model, so the
        model file (`lstmcore info`) and a retraining (`evaluate --cv`) keep
        the concrete choice, not "auto".  The task's own defaults are never
        changed; a read-only mapping is left as it is (build_model and fit
        resolve "auto" from the state then).  The Task contract has no hook
        for data-dependent hyper-parameters yet; this stands in for one.
        """
        if not isinstance(hyperparameters, dict) or any(
                hyperparameters is defaults for defaults in (self.hyperparameters, self.demo_hyperparameters)):
            return
        hyperparameters["architecture"] = state["architecture"]
        hyperparameters["learning_rate"] = effective(state, hyperparameters)["learning_rate"]

    def encode(self, records: List[SequenceRecord], state: Mapping[str, Any], *, labelled: bool) -> Encoded:
        """One-hot arrays and lengths, marked with whether training should add reverse complements."""
        encoded = super().encode(records, state, labelled=labelled)
        x = _at_least_steps(encoded.x, int(state.get("min_steps", 1)))
        return StrandedEncoded(x, encoded.y, encoded.lengths,
                               reverse_complement=bool(state.get("reverse_complement")),
                               architecture=state.get("architecture", "bilstm"),
                               architecture_reason=state.get("architecture_reason", "the default"),
                               median_length=state.get("median_length"))

    # --- model -------------------------------------------------------------------------
    def build_model(self, state: Mapping[str, Any], hyperparameters: Mapping[str, Any]):
        from .model import build_classifier

        return build_classifier(state, effective(state, dict(self.hyperparameters, **hyperparameters)))

    def fit(self, model, encoded: Encoded, *, epochs: int, batch_size: int, validation_split: float,
            verbose: int = 0, hyperparameters: Optional[Mapping[str, Any]] = None):
        """Hold out the task's validation split, then train with class weights and, for DNA, both
        strands of every training sequence.

        Unless the user gives --epochs or --batch-size, they come from the
        hyper-parameters' "epochs" and "batch_size", through the core's
        `training_schedule`.  Unless `verbose` is 0 (`-q`), one line on stderr
        names the architecture built and why.
        """
        from .model import train_classifier

        # A model saved before a hyper-parameter existed is retrained with that one's default.
        chosen = _chosen(encoded)
        hyperparameters = effective(chosen, dict(self.hyperparameters, **(hyperparameters or {})))
        if verbose:
            print(describe_architecture(chosen, hyperparameters), file=sys.stderr)
        train, held_out = self.validation_split(encoded, validation_split)
        advice = partial(not_learning_advice, chosen, hyperparameters, batch_size, held_out.size > 0)
        return train_classifier(model, encoded.subset(train), hyperparameters, epochs=epochs, batch_size=batch_size,
                                validation=encoded.subset(held_out), verbose=verbose, advice=advice)

    def predict(self, model, encoded: Encoded, state: Optional[Mapping[str, Any]] = None, *,
                batch_size: int = 256) -> np.ndarray:
        """Class probabilities; for DNA the mean of the sequence's and its reverse complement's."""
        probabilities = model.predict(encoded.x, batch_size=batch_size, verbose=0, lengths=encoded.lengths)
        if state is not None and state.get("reverse_complement"):
            reverse = tk.reverse_complement_batch(encoded.x, encoded.lengths)
            probabilities = 0.5 * (probabilities + model.predict(reverse, batch_size=batch_size, verbose=0,
                                                                 lengths=encoded.lengths))
        return probabilities

    # --- evaluation ----------------------------------------------------------------------
    def evaluate(self, model, records: List[SequenceRecord], state: Mapping[str, Any], *, options=None,
                 hyperparameters=None) -> Dict[str, float]:
        options = dict(options or {})
        encoded = self.encode(records, state, labelled=True)
        if options.get("cv"):
            seed = int(options.get("cv_seed") or 0)
            splitter = tk.parse_cv(options["cv"], encoded.y, state["classes"], seed)
            probabilities = tk.cross_validate(self, encoded, state, dict(hyperparameters or self.hyperparameters),
                                              splitter, seed=seed, progress=not options.get("quiet"))
            report = tk.classification_scores(encoded.y, probabilities, state["classes"])
            report["cv_folds"] = float(len(splitter.split(encoded.y.size, encoded.y)))
            return report
        return tk.classification_scores(encoded.y, self.predict(model, encoded, state), state["classes"])

    # --- demo ----------------------------------------------------------------------------
    def make_example_data(self, folder: Path, seed: int = 0) -> ExampleData:
        from .demo_data import write_demo_data

        return write_demo_data(folder, seed)

    def demo_outputs(self, model_path: Path, data: ExampleData, folder: Path) -> Dict[str, Path]:
        """After the demo's training: find the motifs in the demo data and write them (JASPAR, MEME, logos)."""
        from .discovery_workflow import discover_motifs

        result = discover_motifs(model_path, data.train, folder / "motifs", options=data.options,
                                 known_matrix=data.folder / "known_CACGTG.jaspar", plot=_can_plot())
        return result.files

    def demo_summary(self, data: ExampleData, outputs: Mapping[str, Path]) -> List[str]:
        """One line per planted motif: found as motif N (Pearson r, sites, AUROC, p), or not found."""
        from .demo_data import DEMO_MOTIF, planted_motif_line

        return [planted_motif_line(DEMO_MOTIF, outputs.get("table"))]


def _at_least_steps(x: np.ndarray, steps: int) -> np.ndarray:
    """`x` padded with zero steps at the end up to `steps` (the lengths keep the padding out)."""
    if x.ndim != 3 or x.shape[1] >= steps:
        return x
    return np.pad(x, ((0, 0), (0, steps - x.shape[1]), (0, 0)))


def _chosen(encoded: Encoded) -> Dict[str, Any]:
    """The architecture part of the state, from encoded data (bilstm for plain Encoded)."""
    return {name: getattr(encoded, name, default) for name, default in
            (("architecture", "bilstm"), ("architecture_reason", "the default"), ("median_length", None))}


def _reverse_complement_on(hyperparameters: Mapping[str, Any], encoder_name: str, source: str) -> bool:
    """Resolve "auto" (DNA only); asking for it on protein is the user's mistake."""
    choice = hyperparameters["reverse_complement"]
    if choice == "auto":
        return encoder_name == "dna"
    if choice not in (True, False):
        raise UserInputError(f"reverse_complement must be 'auto', true or false. Received: {choice!r}",
                             record="reverse_complement")
    if choice and encoder_name not in tk.NUCLEOTIDE_ENCODERS:
        raise UserInputError(f"reverse_complement needs DNA or RNA, but the sequences are {encoder_name}",
                             file=source)
    return bool(choice)


def _can_plot() -> bool:
    try:
        import logomaker  # noqa: F401
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True

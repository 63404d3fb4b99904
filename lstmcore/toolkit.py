"""The task toolkit: what a task plugin imports, in one place.

    from lstmcore import toolkit as tk

    class MyTask(tk.Task):
        ...
        def evaluate(self, model, data, state, *, options=None, hyperparameters=None):
            encoded = self.encode(data, state, labelled=True)
            return tk.classification_scores(encoded.y, self.predict(model, encoded, state), state["classes"])

- the task contract: `Task` (and `SequenceClassificationTask`, the core's FASTA classifier to subclass), `Encoded`, `ExampleData`, `hookimpl`, `Command`, `UserInputError`;
- splits: `StratifiedKFold`, `LeaveOneOut`, `GroupKFold`, `RollingOrigin`, `parse_cv`, and the
  validation holdouts `shuffled_holdout` / `time_ordered_holdout`; `cross_validate` runs a task's
  model over the folds, with a progress bar;
- scores: `classification_scores`, `regression_scores` (and `binary_auroc`, `mase`, `smape`,
  `interval_coverage`, `confusion_matrix`);
- training: `class_weights`, `balanced_class_weights`, `learning_rate_schedule`;
- sequences: `reverse_complement_batch`, `reverse_within_lengths`, `random_dna`, `planted_sequences`,
  FASTA in and out (`read_fasta`, `write_fasta`, `SequenceRecord`), `require_files`;
- files: `read_table` (CSV/TSV, plain or gzip), `atomic_path` / `atomic_open` (an output appears whole or
  not at all); where every input and output is opened (lstmcore.io.inputs / outputs): `open_input_text`,
  `open_input_binary`, `text_lines` (`-` is standard input, a stream is read once, gzip by content),
  `check_output` (before any work: never an input, never a special file), `open_output` (atomic, or
  standard output for `-`), `prepare_output_folder` (for `-o DIR`), `input_files_in` (a task's options
  that name input files);
- models: `MaskedGlobalPooling` (global max / mean over each sequence's real steps), attribution
  (`gradient_x_input`, `in_silico_mutagenesis`), task model files (`save_task_model`,
  `load_task_model`).

Everything here is public and kept stable; a plugin should need no private name of lstmcore.
"""
from .attribution import MutagenesisResult, gradient_x_input, in_silico_mutagenesis
from .cli.command import Command, positive_int, seed
from .errors import UserInputError
from .hookspecs import hookimpl
from .io.atomic import atomic_open, atomic_path
from .io.fasta import SequenceRecord, read_fasta, write_fasta
from .io.inputs import open_binary as open_input_binary, open_text as open_input_text, text_lines
from .io.outputs import check_output, input_files_in, open_output, prepare_output_folder
from .io.tables import read_table
from .layers.pooling import POOLING_MODES, MaskedGlobalPooling
from .progress_bars import progress_bar
from .saving.task_models import TaskModel, load_task_model, save_task_model
from .tasks import Encoded, ExampleData, SkippedRecord, Task, validation_arguments
from .tasks.workflows import require_files
from .tasks.sequence_classification import SequenceClassificationTask
from .tasks.cross_validation import cross_validate
from .tasks.scores import (binary_auroc, classification_scores, confusion_matrix, interval_coverage, mase,
                     regression_scores, smape)
from .tasks.splits import (GroupKFold, LeaveOneOut, RollingOrigin, StratifiedKFold, parse_cv, shuffled_holdout,
                     time_ordered_holdout)
from .io.strands import NUCLEOTIDE_ENCODERS, reverse_complement_batch, reverse_within_lengths
from .tasks.synthetic import planted_sequences, random_dna
from .tasks.training import balanced_class_weights, class_weights, learning_rate_schedule

__all__ = [
    "Task", "SequenceClassificationTask", "Encoded", "ExampleData", "SkippedRecord", "hookimpl", "Command", "positive_int", "UserInputError",
    "validation_arguments", "StratifiedKFold", "LeaveOneOut", "GroupKFold", "RollingOrigin", "parse_cv",
    "shuffled_holdout", "time_ordered_holdout", "cross_validate", "classification_scores", "regression_scores",
    "binary_auroc", "mase", "smape", "interval_coverage", "confusion_matrix", "class_weights",
    "balanced_class_weights", "learning_rate_schedule", "reverse_complement_batch", "reverse_within_lengths",
    "NUCLEOTIDE_ENCODERS", "random_dna", "planted_sequences", "SequenceRecord", "read_fasta", "write_fasta",
    "require_files", "read_table", "atomic_path", "atomic_open", "MaskedGlobalPooling", "POOLING_MODES", "gradient_x_input", "in_silico_mutagenesis",
    "MutagenesisResult", "TaskModel", "save_task_model", "load_task_model",
    "open_input_text", "open_input_binary", "text_lines", "check_output", "open_output", "prepare_output_folder",
    "input_files_in", "progress_bar", "seed",
]

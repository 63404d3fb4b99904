"""The confusion matrix as a TSV table and, with --plot, a PNG beside it (written atomically)."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from lstmcore.io.atomic import atomic_path
from lstmcore.io.outputs import check_output, input_files_in
from lstmcore.io.writers import write_table
from lstmcore.toolkit import UserInputError

__all__ = ["check_report_options", "write_confusion_matrix", "plot_path"]


def plot_path(table: str) -> Path:
    return Path(table).with_suffix(".png")


def check_report_options(options: Mapping) -> None:
    """--plot needs --confusion-matrix; both outputs must be writable, neither an input of the run nor
    standard output (where the metrics go), before any work starts."""
    table = options.get("confusion_matrix")
    if options.get("plot") and not table:
        raise UserInputError("--plot draws the confusion matrix: give --confusion-matrix FILE.tsv too")
    if table:
        inputs = input_files_in(options, outputs=("output", "confusion_matrix"))
        check_output(table, inputs, allow_stdout=False)
        if options.get("plot"):
            check_output(plot_path(table), inputs, allow_stdout=False)


def write_confusion_matrix(path: str, matrix: np.ndarray, classes: Sequence[str], *, plot: bool = False) -> None:
    """Rows are the true classes, columns the predicted ones; the corner cell says so."""
    rows = [[name, *(int(v) for v in matrix[i])] for i, name in enumerate(classes)]
    write_table(path, ["true\\predicted", *classes], rows)
    if plot:
        _plot(plot_path(path), matrix, classes)


def _plot(path: Path, matrix: np.ndarray, classes: Sequence[str]) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UserInputError("--plot needs matplotlib: pip install 'lstmcore-signal[plot]'") from None
    figure, axes = plt.subplots(figsize=(1.2 + 0.6 * len(classes), 1.0 + 0.6 * len(classes)))
    axes.imshow(matrix, cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        axes.text(j, i, str(int(count)), ha="center", va="center",
                  color="white" if count > matrix.max() / 2 else "black")
    axes.set_xticks(range(len(classes)), classes)
    axes.set_yticks(range(len(classes)), classes)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    figure.tight_layout()
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=120)
    plt.close(figure)

"""Prediction tables by name and file extension: what the `register_writers` hook registers.

A `Writer` writes a header and rows to an open text file.  `write_table`
picks the writer from the output's extension (TSV unless it says .csv) and
writes atomically, so a run that fails half way leaves nothing behind.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence, TextIO, Tuple, Union

import numpy as np

from .. import registry
from .outputs import open_output

__all__ = ["Writer", "writer_for", "write_table", "core_writers"]

PathLike = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class Writer:
    """An output format: `write(handle, header, rows)`; `extensions` pick it for a file name."""

    write: Callable[[TextIO, Sequence[str], Iterable[Sequence]], None]
    extensions: Tuple[str, ...]
    description: str


def writer_for(path: PathLike, name: str = None) -> Writer:
    """The writer called `name`, or the one whose extension matches `path`; TSV by default."""
    if name:
        return registry.writers.get(name)
    lowered = os.fspath(path).lower()
    for _, writer, _ in registry.writers.items():
        if lowered.endswith(tuple(ext.lower() for ext in writer.extensions)):
            return writer
    return registry.writers.get("tsv")


def write_table(path: PathLike, header: Sequence[str], rows: Iterable[Sequence], writer: Writer = None) -> None:
    """Write `header` and `rows` (may be a generator: written as they come) to `path`, atomically
    (`-`: to standard output)."""
    writer = writer or writer_for(path)
    with open_output(path, "w", newline="", encoding="utf-8") as handle:
        writer.write(handle, header, rows)


def _delimited(delimiter: str):
    def write(handle: TextIO, header: Sequence[str], rows: Iterable[Sequence]) -> None:
        out = csv.writer(handle, delimiter=delimiter, lineterminator="\n")
        out.writerow(header)
        for row in rows:
            out.writerow([_cell(value) for value in row])
    return write


def _cell(value):
    """Floats with 6 significant digits keep tables readable and exact enough for probabilities."""
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    return value


def core_writers() -> dict:
    """The writers the core registers through its internal plugin."""
    return {
        "tsv": Writer(_delimited("\t"), (".tsv", ".tab", ".txt"), "tab-separated table with a header row"),
        "csv": Writer(_delimited(","), (".csv",), "comma-separated table with a header row"),
    }

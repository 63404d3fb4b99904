"""A folder of per-trace CSV files with a labels TSV: how imaging and patch-clamp exports often come.

    traces/
      labels.tsv        file <TAB> label      (one row per trace; `label` may be left out to predict)
      cell01.csv        one row per time step, one column per channel (a header row is allowed)
      cell02.csv
      ...

The command line is given the labels table itself (`lstmcore train signal
traces/labels.tsv -o m.lstm`): a table whose header has a `file` column is
such an index, its `file` cells relative to the table's folder.  From Python,
the folder works too (its `labels.tsv`, or every CSV file unlabelled).
"""
from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

from lstmcore.io.fasta import open_text
from lstmcore.io.tables import read_table
from lstmcore.toolkit import UserInputError

from .lines import numbered_lines
from .traces import Traces, excerpt

__all__ = ["read_trace_index", "read_trace_folder", "is_trace_index", "INDEX_NAME"]

INDEX_NAME = "labels.tsv"


def is_trace_index(path) -> bool:
    """True when the table's first line is a header with a `file` column (not a UCR row)."""
    delimiter = "," if os.fspath(path).lower().endswith(".csv") else "\t"
    try:
        with open_text(path) as handle:
            first = next((line for line in handle if line.strip() and not line.startswith("#")), "")
        cells = next(csv.reader([first.rstrip("\r\n")], delimiter=delimiter), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return False
    return "file" in [cell.strip().lower() for cell in cells]


def _trace_path(folder: Path, name: str, index_file: str, record: str) -> Path:
    """The trace file a labels table's `file` cell names (relative to the table's folder), checked."""
    if not name.strip():
        raise UserInputError("the file cell is empty: name the trace's CSV file", file=index_file, record=record)
    path = folder / name
    where = f"the folder of {Path(index_file).name} ({folder})"
    if path.is_dir():
        what = "the labels table's own folder" if path.resolve() == folder.resolve() else f"a folder ({path})"
        raise UserInputError(f"the file cell {excerpt(name)} names {what}, not a trace file: give one CSV file "
                             f"per row, relative to {where}", file=index_file, record=record)
    if not path.exists():
        outside = Path(name).is_absolute() or ".." in Path(name).parts
        place = f": it lies outside {where}, to which file cells are relative" if outside else f" in {where}"
        raise UserInputError(f"the trace file {excerpt(name, 200)} does not exist{place}", file=index_file,
                             record=record)
    if not path.is_file():
        raise UserInputError(f"the file cell {excerpt(name)} is not a regular file", file=index_file, record=record)
    return path


def _read_trace_csv(path: Path) -> np.ndarray:
    """One trace (steps, channels) from a CSV file; a non-numeric first row is its header."""
    lines = [line for _, line in numbered_lines(path)]
    reader = csv.reader(lines)
    rows = []
    try:
        for row in reader:
            if row and any(cell.strip() for cell in row):
                rows.append((reader.line_num, row))
    except csv.Error as exc:  # an over-long field, a stray carriage return
        raise UserInputError(f"is not a valid CSV file ({exc})", file=path, record=f"row {reader.line_num}") from None
    if rows and not _numeric(rows[0][1]):
        rows = rows[1:]
    if not rows:
        raise UserInputError("holds no samples", file=path)
    width = len(rows[0][1])
    for number, row in rows:
        if len(row) != width:
            raise UserInputError(f"has {len(row)} columns, the first row of samples (row {rows[0][0]}) has {width}: "
                                 "every row of a trace file has one column per channel", file=path,
                                 record=f"row {number}")
    values = np.empty((len(rows), width), dtype=np.float64)
    for i, (number, row) in enumerate(rows):
        for column, cell in enumerate(row):
            try:
                values[i, column] = _cell(cell)
            except ValueError:
                raise UserInputError(f"column {column + 1}: {excerpt(cell.strip())} is not a number",
                                     file=path, record=f"row {number}") from None
    return values


def _cell(text: str) -> float:
    text = text.strip()
    return np.nan if text.lower() in ("", "nan", "na", "?") else float(text)


def _numeric(row) -> bool:
    try:
        [_cell(cell) for cell in row]
    except ValueError:
        return False
    return True


def read_trace_index(path, *, labelled: bool) -> Traces:
    """The traces a labels table lists (`file`, and `label` when `labelled`)."""
    table = read_table(path)
    source = table.path
    names = table.column("file")
    labels = table.column("label") if labelled or "label" in [c.lower() for c in table.columns] else None
    folder = Path(source).parent
    series, records = [], []
    for row, name in enumerate(names):
        record = f"row {table.line_numbers[row]}"
        series.append(_read_trace_csv(_trace_path(folder, name, source, record)))
        records.append(record)
    ids = [Path(name).stem for name in names]
    return Traces(series, labels, ids, [source] * len(series), records)


def read_trace_folder(folder, *, labelled: bool) -> Traces:
    """A folder's `labels.tsv`, or, unlabelled, every CSV file in it (sorted by name)."""
    folder = Path(folder)
    index = folder / INDEX_NAME
    if index.exists():
        return read_trace_index(index, labelled=labelled)
    if labelled:
        raise UserInputError(f"has no {INDEX_NAME} (columns file and label) to label its traces", file=folder)
    files = sorted(folder.glob("*.csv"))
    if not files:
        raise UserInputError("holds no .csv trace files", file=folder)
    series = [_read_trace_csv(_trace_path(folder, path.name, os.fspath(folder), path.name)) for path in files]
    return Traces(series, None, [p.stem for p in files], [os.fspath(p) for p in files], [p.name for p in files])

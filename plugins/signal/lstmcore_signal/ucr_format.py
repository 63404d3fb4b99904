"""UCR-style tables: one trace per row, the class label first, then the samples.

The UCR 2018 archive writes tab-separated `.tsv` files; older copies use
commas (`.csv`) or spaces (`.txt`).  Traces shorter than the widest are padded
with NaN at the end of their row (the archive's convention for its
unequal-length sets), so trailing NaN ends a trace; a NaN before its last
value is a missing value, which the task's `--missing` choice handles.  Every
row must have the same number of columns; a ragged row is an error naming it.
Comma and tab tables are read with Python's csv module, so a quoted cell
(`"1"`, as spreadsheets export) is read as its content; a row that comes out as
one column (a file separated by ';' or by tabs under a .csv name) is an error
saying which separator it seems to use.
"""
from __future__ import annotations

import csv
import os
import re
from typing import List

import numpy as np

from lstmcore.toolkit import UserInputError

from .lines import numbered_lines
from .traces import Traces, excerpt, number_label

__all__ = ["read_ucr", "UCR_EXTENSIONS"]

UCR_EXTENSIONS = (".tsv", ".csv", ".txt", ".tab")
_MISSING = {"nan", "na", "?", ""}


_SEPARATORS = {";": "';'", "\t": "tabs", ",": "','", "|": "'|'", " ": "spaces"}


def _delimiter(path: str):
    """The file's separator by its extension: tab, comma, or None for whitespace (.txt)."""
    name = path.lower()[:-3] if path.lower().endswith(".gz") else path.lower()
    if name.endswith((".tsv", ".tab")):
        return "\t"
    if name.endswith(".csv"):
        return ","
    return None


def _splitter(delimiter, path: str):
    """line -> its cells: csv's reading (quotes honoured) for tab and comma files, whitespace or commas else."""
    if delimiter is None:
        return lambda line, record: re.split(r"[\s,]+", line.strip())

    def split(line: str, record: str) -> List[str]:
        try:
            return next(csv.reader([line.rstrip("\r\n")], delimiter=delimiter, skipinitialspace=True), [])
        except csv.Error as exc:  # an over-long field (a long row under another separator), a stray "\r"
            problem = _one_column_problem(line, delimiter) if delimiter not in line else ""
            raise UserInputError(problem or f"cannot be read as a {'TSV' if delimiter == chr(9) else 'CSV'} row "
                                 f"({exc})", file=path, record=record) from None
    return split


def _one_column_problem(cell: str, delimiter) -> str:
    """Why a row came out as one column holding other separators (another separator than the extension's)."""
    text = cell.strip()
    for separator, name in _SEPARATORS.items():
        if separator != delimiter and separator in text and not (delimiter is None and separator in ", \t"):
            expected = {"\t": "tabs (.tsv)", ",": "commas (.csv)", None: "spaces (.txt)"}[delimiter]
            return (f"one column found: is the file separated by {name}? (this file is read as separated by "
                    f"{expected}; the row starts {excerpt(text)})")
    return ""


def _numbers(cells: List[str], path: str, record: str, first_column: int) -> np.ndarray:
    """The samples as float64, NaN for a missing cell; a word is an error naming its column."""
    values = np.empty(len(cells), dtype=np.float64)
    for column, cell in enumerate(cells):
        text = cell.strip()
        if text.lower() in _MISSING:
            values[column] = np.nan
            continue
        try:
            values[column] = float(text)
        except ValueError:
            raise UserInputError(f"column {column + first_column}: {excerpt(text)} is not a number", file=path,
                                 record=record) from None
    return values


def _trim_trailing_nan(values: np.ndarray) -> np.ndarray:
    """The trace without the NaN padding after its last value (the archive's unequal-length padding)."""
    finite = np.flatnonzero(~np.isnan(values))
    return values[: finite[-1] + 1] if finite.size else values[:0]


def read_ucr(path, *, label_column: bool = True) -> Traces:
    """Read a UCR table; `label_column=False` reads files whose every column is a sample (for prediction)."""
    source = os.fspath(path)
    delimiter = _delimiter(source)
    split = _splitter(delimiter, source)
    series, labels, ids, records = [], [], [], []
    width = None
    for number, line in numbered_lines(path):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        record = f"row {number}"
        cells = split(line, record)
        if len(cells) == 1 and _one_column_problem(cells[0], delimiter):
            raise UserInputError(_one_column_problem(cells[0], delimiter), file=source, record=record)
        if width is not None and len(cells) != width:
            raise UserInputError(f"has {len(cells)} columns but the first row has {width}: every row of a "
                                 "UCR file has the same number of columns (pad shorter traces with NaN at "
                                 "the end, or use the .ts format)", file=source, record=record)
        width = len(cells)
        if label_column:
            labels.append(number_label(cells[0], source, record))
            cells = cells[1:]
        values = _trim_trailing_nan(_numbers(cells, source, record, 2 if label_column else 1))
        if values.size == 0:
            raise UserInputError("has no samples", file=source, record=record)
        series.append(values[:, None])
        ids.append(f"row{number}")
        records.append(record)
    if not series:
        raise UserInputError("holds no traces", file=source)
    return Traces(series, labels if label_column else None, ids, [source] * len(series), records)

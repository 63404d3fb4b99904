"""CSV and TSV tables with a header row, read with the csv module (no pandas in the core).

`read_table` keeps the cells as strings; `Table.column` and `Table.numeric`
pick a column out and check it, so a missing column, an empty cell, a NaN or
a word where a number belongs is a `UserInputError` naming the file, the row
(by the value of its first column) and the column.
"""
from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass
from typing import List, Optional, Union

import numpy as np

from ..errors import UserInputError
from .inputs import display_name, text_lines

__all__ = ["Table", "read_table", "TABLE_EXTENSIONS"]

PathLike = Union[str, "os.PathLike[str]"]
TABLE_EXTENSIONS = (".csv", ".tsv", ".tab", ".txt")
_MISSING = {"", "na", "nan", "n/a", "null", "none", "-nan", "+nan"}


@dataclass
class Table:
    """A table read from a file: column names and rows of strings (line numbers kept for errors)."""

    path: str
    columns: List[str]
    rows: List[List[str]]
    line_numbers: List[int]

    def __len__(self) -> int:
        return len(self.rows)

    def index(self, name: str) -> int:
        """The position of column `name` (case-insensitive); a missing column is a UserInputError."""
        lowered = [c.strip().lower() for c in self.columns]
        try:
            return lowered.index(name.lower())
        except ValueError:
            raise UserInputError(f"missing column {name!r} (the columns are: {', '.join(self.columns)})",
                                 file=self.path) from None

    def record_name(self, row: int) -> str:
        """How a row is named in messages: its first cell, which is usually its id or time."""
        first = self.rows[row][0].strip() if self.rows[row] else ""
        return first or f"at line {self.line_numbers[row]}"

    def column(self, name: str, *, allow_empty: bool = False) -> List[str]:
        """The stripped string cells of column `name`; an empty cell is an error unless allowed."""
        position = self.index(name)
        values = [row[position].strip() for row in self.rows]
        if not allow_empty:
            for row, value in enumerate(values):
                if not value:
                    raise self.cell_error(row, f"column {name!r} is empty")
        return values

    def numeric(self, name: str, *, allow_missing: bool = False, dtype=np.float64) -> np.ndarray:
        """Column `name` as numbers; NaN, an empty cell or text is an error unless `allow_missing` (-> NaN)."""
        position = self.index(name)
        values = np.empty(len(self.rows), dtype=dtype)
        for row, cells in enumerate(self.rows):
            values[row] = self._number(row, cells[position], name, allow_missing)
        return values

    def _number(self, row: int, cell: str, name: str, allow_missing: bool) -> float:
        text = cell.strip()
        if text.lower() in _MISSING:
            if allow_missing:
                return math.nan
            shown = text or "empty"
            raise self.cell_error(row, f"column {name!r} is missing a number ({shown})")
        try:
            value = float(text)
        except ValueError:
            raise self.cell_error(row, f"column {name!r} holds {text!r}, not a number") from None
        if not math.isfinite(value):
            raise self.cell_error(row, f"column {name!r} holds {text!r}, not a finite number")
        return value

    def cell_error(self, row: int, problem: str) -> UserInputError:
        return UserInputError(f"{problem} (line {self.line_numbers[row]})", file=self.path,
                              record=self.record_name(row))


def read_table(path: PathLike, delimiter: Optional[str] = None) -> Table:
    """Read a CSV (comma) or TSV (tab; .tsv/.tab) file, plain or gzip, whose first row is the header."""
    source = display_name(path)
    delimiter = delimiter or _delimiter_for(source)
    lines = list(text_lines(path))
    if any("\x00" in line for _, line in lines):
        raise UserInputError("is a binary file, not a table", file=source)
    numbered = [(number, line) for number, line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not numbered:
        raise UserInputError("is empty: no header and no rows", file=source)
    try:
        parsed = list(csv.reader([line for _, line in numbered], delimiter=delimiter))
    except csv.Error as exc:  # an over-long field, a stray carriage return
        raise UserInputError(f"is not a valid {'TSV' if delimiter == chr(9) else 'CSV'} table ({exc})",
                             file=source) from None
    header, body = parsed[0], parsed[1:]
    if not body:
        raise UserInputError("has a header but no rows", file=source)
    for (number, _), row in zip(numbered[1:], body):
        if len(row) != len(header):
            first = row[0].strip() if row else ""
            raise UserInputError(f"has {len(row)} fields on line {number}, the header has {len(header)}",
                                 file=source, record=first or f"at line {number}")
    return Table(source, [c.strip() for c in header], body, [number for number, _ in numbered[1:]])


def _delimiter_for(path: str) -> str:
    name = path.lower()
    name = name[:-3] if name.endswith(".gz") else name
    return "\t" if name.endswith((".tsv", ".tab")) else ","

"""Count tables in, `CountData` out: CSV/TSV in wide form (a time column, one column per series) or long
form (series, time, count), with the file row of every cell kept for error messages.

Rules (each broken rule is a `UserInputError` naming the file, the row and the column):

- the time column is the one named by `--time-column`, else the first of `year`, `date`, `time`, `t`,
  `week`, `month` (any case), else the first column; times are numbers (years, indices) or ISO dates
  (YYYY-MM-DD) and must strictly increase (within each series in long form): a time that goes backwards
  or repeats is an error;
- counts are finite numbers >= 0; a word or a negative count is an error;
- an empty cell, `NA`, `NaN` or `-` is a missing value, kept as NaN: what happens to it is the explicit
  `--missing` choice applied by `missing.fill_missing` (never silently here);
- a table needs at least two time points, and each series at least one observed count;
- every column has a name of its own (case-insensitively); a table read as a single column is reported
  as what it looks like (another separator such as ';' or tabs in a .csv, or not a table at all);
- `--series` and `--exog` name different columns, neither of them the time column.

Long form is recognised by a `series` (or `species`) column beside a `count` (or `value`) column.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from lstmcore.io.tables import Table, read_table
from lstmcore.toolkit import UserInputError

__all__ = ["CountData", "align", "read_counts", "future_times", "MISSING_TOKENS", "TIME_COLUMNS"]

MISSING_TOKENS = {"", "na", "nan", "n/a", "-", "null", "none"}
TIME_COLUMNS = ("year", "date", "time", "t", "week", "month")
SERIES_COLUMNS = ("series", "species")
COUNT_COLUMNS = ("count", "value", "counts")


@dataclass
class CountData:
    """Counts of one or several series on one time grid.

    values : (T, S) float64, NaN where missing;  rows : (T,) the file line of each time point;
    times : the time labels as written;  keys : (T,) float ordering numbers (years, indices or days);
    exog : (T, E) exogenous columns (temperature, effort), NaN where missing.
    """

    path: str
    time_column: str
    series: List[str]
    times: List[str]
    keys: np.ndarray
    time_kind: str
    values: np.ndarray
    rows: np.ndarray
    exog_names: List[str] = field(default_factory=list)
    exog: Optional[np.ndarray] = None
    options: Dict = field(default_factory=dict)

    def head(self, stop: int) -> "CountData":
        """The first `stop` time points only (what a backtest fold may see)."""
        exog = None if self.exog is None else self.exog[:stop]
        return CountData(self.path, self.time_column, list(self.series), self.times[:stop], self.keys[:stop],
                         self.time_kind, self.values[:stop], self.rows[:stop], list(self.exog_names), exog,
                         dict(self.options))

    def __len__(self) -> int:
        return len(self.times)


def read_counts(path, options: Optional[dict] = None) -> CountData:
    """Read one count table (wide or long form, detected) into `CountData`."""
    options = dict(options or {})
    table = read_table(path)
    _check_header(table)
    time_name = _time_column(table, options.get("time_column"))
    lowered = [c.lower() for c in table.columns]
    is_long = any(c in lowered for c in SERIES_COLUMNS) and any(c in lowered for c in COUNT_COLUMNS)
    data = _read_long(table, time_name) if is_long else _read_wide(table, time_name, options)
    data.options = options
    if len(data.times) < 2:
        raise UserInputError("has a single time point; a forecast needs a series of at least two",
                             file=table.path, record=data.times[0] if data.times else None)
    _check_observed(data)
    return data


def _check_header(table: Table) -> None:
    """Every column has a name of its own (columns are found by name, case-insensitively); a table read
    as one column is most likely separated by something other than the expected comma or tab."""
    if len(table.columns) == 1:
        raise UserInputError(_one_column_problem(table), file=table.path)
    seen: Dict[str, int] = {}
    for position, name in enumerate(table.columns, start=1):
        if not name:
            raise UserInputError(f"the header's column {position} has no name (every column needs one)",
                                 file=table.path)
        key = name.lower()
        if key in seen:
            raise UserInputError(f"the header names column {name!r} twice (columns {seen[key]} and {position}); "
                                 "column names must be unique", file=table.path)
        seen[key] = position


def _one_column_problem(table: Table) -> str:
    """What a table of one column looks like: another separator, or not a table at all."""
    header = table.columns[0]
    shown = header if len(header) <= 40 else header[:37] + "..."
    tsv = table.path.lower().removesuffix(".gz").endswith((".tsv", ".tab"))
    expected = "tabs (.tsv/.tab)" if tsv else "commas (.csv)"
    for separator, said in ((";", "';'"), ("\t", "tabs"), ("|", "'|'")):
        if separator in header and not (separator == "\t" and tsv):
            remedy = ("name it .tsv" if separator == "\t" else f"separate its columns by {expected}"
                      if tsv else f"separate its columns by commas (or by tabs, named .tsv)")
            return (f"has a single column {shown!r}: is it separated by {said}? This file is read as separated by "
                    f"{expected}; {remedy}")
    if header.startswith((">", "@")):
        return (f"is not a count table (its first line {shown!r} looks like a sequence file): give a CSV or TSV "
                "table with a time column and a count column per series")
    return (f"has a single column {shown!r}, not a count table: give a time column and a count column per series, "
            f"separated by {expected}")


def _check_observed(data: "CountData") -> None:
    """Each series needs observed counts: one with none at all cannot be filled, masked or forecast."""
    for s, name in enumerate(data.series):
        observed = int(np.isfinite(data.values[:, s]).sum())
        if observed == 0:
            raise UserInputError(f"series {name!r} has no observed count (every cell is empty or missing): "
                                 "give its counts, or leave it out with --series", file=data.path)


def _time_column(table: Table, named: Optional[str]) -> str:
    if named:
        return table.columns[table.index(named)]
    for candidate in TIME_COLUMNS:
        for column in table.columns:
            if column.lower() == candidate:
                return column
    return table.columns[0]


def _selected(names: Sequence[str], wanted: Optional[str], table: Table, what: str) -> List[str]:
    """The names a comma-separated option keeps (all when not given); an unknown one is an error."""
    if not wanted:
        return list(names)
    chosen = [name.strip() for name in str(wanted).split(",") if name.strip()]
    for name in chosen:
        if name not in names:
            raise UserInputError(f"{what} {name!r} is not a column (the columns are: {', '.join(names)})",
                                 file=table.path)
    return chosen


def _read_wide(table: Table, time_name: str, options: dict) -> CountData:
    others = [c for c in table.columns if c != time_name]
    _check_series_and_exog(options, time_name, table)
    exog_names = _selected(others, options.get("exog"), table, "exogenous column") if options.get("exog") else []
    candidates = [c for c in others if c not in exog_names]
    series = _selected(candidates, options.get("series"), table, "series")
    if not series:
        raise UserInputError("has no count column beside the time column", file=table.path)
    times = [row[table.index(time_name)].strip() for row in table.rows]
    keys, kind = _time_keys(table, times, list(range(len(times))), time_name)
    _check_increasing(table, keys, list(range(len(times))), time_name, None)
    values = np.column_stack([_cells(table, name, counts=True) for name in series])
    exog = np.column_stack([_cells(table, name, counts=False) for name in exog_names]) if exog_names else None
    return CountData(table.path, time_name, series, times, keys, kind, values,
                     np.asarray(table.line_numbers), exog_names, exog)


def _check_series_and_exog(options: dict, time_name: str, table: Table) -> None:
    """--series and --exog name different columns, neither of them the time column."""
    def names(option):
        return [name.strip() for name in str(options.get(option) or "").split(",") if name.strip()]

    series, exog = names("series"), names("exog")
    for name in series + exog:
        if name.lower() == time_name.lower():
            what = "series" if name in series else "exogenous column"
            raise UserInputError(f"{what} {name!r} is the time column; give count columns to --series and other "
                                 "inputs to --exog", file=table.path)
    both = [name for name in series if name in exog]
    if both:
        raise UserInputError(f"column {both[0]!r} is given to both --series and --exog: a column is either a "
                             "series to forecast or an exogenous input, not both", file=table.path)


def _read_long(table: Table, time_name: str) -> CountData:
    lowered = [c.lower() for c in table.columns]
    series_name = table.columns[next(lowered.index(c) for c in SERIES_COLUMNS if c in lowered)]
    count_name = table.columns[next(lowered.index(c) for c in COUNT_COLUMNS if c in lowered)]
    labels = table.column(series_name)
    times = [row[table.index(time_name)].strip() for row in table.rows]
    keys, kind = _time_keys(table, times, list(range(len(times))), time_name)
    counts = _cells(table, count_name, counts=True)
    series = list(dict.fromkeys(labels))
    for name in series:
        members = [i for i, label in enumerate(labels) if label == name]
        _check_increasing(table, keys, members, time_name, name)
    grid = sorted(set(keys.tolist()))
    position = {key: i for i, key in enumerate(grid)}
    values = np.full((len(grid), len(series)), np.nan)
    rows = np.zeros(len(grid), np.int64)
    labels_of = {}
    for i, (label, key) in enumerate(zip(labels, keys.tolist())):
        values[position[key], series.index(label)] = counts[i]
        rows[position[key]] = rows[position[key]] or table.line_numbers[i]
        labels_of.setdefault(key, times[i])
    return CountData(table.path, time_name, series, [labels_of[k] for k in grid], np.asarray(grid), kind,
                     values, rows)


def _cells(table: Table, name: str, *, counts: bool) -> np.ndarray:
    """Column `name` as floats, NaN for a missing token; text, inf or (for counts) a negative is an error."""
    position = table.index(name)
    values = np.empty(len(table.rows))
    for row, cells in enumerate(table.rows):
        text = cells[position].strip()
        if text.lower() in MISSING_TOKENS:
            values[row] = math.nan
            continue
        try:
            value = float(text)
        except ValueError:
            raise _cell_error(table, row, f"column {name!r} holds {text!r}, not a number") from None
        if not math.isfinite(value):
            raise _cell_error(table, row, f"column {name!r} holds {text!r}, not a finite number")
        if counts and value < 0:
            raise _cell_error(table, row, f"column {name!r} holds a negative count ({text})")
        values[row] = value
    return values


def _cell_error(table: Table, row: int, problem: str) -> UserInputError:
    """`FILE: record row N: problem`, N the file's line number (the header is line 1)."""
    return UserInputError(problem, file=table.path, record=f"row {table.line_numbers[row]}")


def _time_keys(table: Table, times: List[str], members: List[int], time_name: str):
    """(ordering numbers, "number" or "date") of the time cells: numbers as they are, ISO dates as days."""
    as_numbers = [_number_or_none(text) for text in times]
    if all(value is not None for value in as_numbers):
        return np.asarray(as_numbers, np.float64), "number"
    as_dates = [_date_or_none(text) for text in times]
    if all(value is not None for value in as_dates):
        return np.asarray(as_dates), "date"
    # mixed: the kind most cells have is the column's; the first cell of neither kind (or of the other) is wrong
    numbers = sum(value is not None for value in as_numbers)
    dates = sum(value is not None for value in as_dates)
    parsed, kind = (as_numbers, "numbers") if numbers >= dates else (as_dates, "dates (YYYY-MM-DD)")
    row = next(i for i, value in enumerate(parsed) if value is None)
    text = times[row]
    if not text:
        raise _cell_error(table, row, f"time column {time_name!r} is empty (every row needs its time)")
    if as_numbers[row] is None and as_dates[row] is None:
        problem = f"time column {time_name!r} holds {text!r}, which is neither a number nor a date (YYYY-MM-DD)"
    else:
        problem = f"time column {time_name!r} holds {text!r}, but its other times are {kind}"
    raise _cell_error(table, row, problem)


def _date_or_none(text: str):
    try:
        return float(date.fromisoformat(text).toordinal())
    except ValueError:
        return None


def _number_or_none(text: str):
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _check_increasing(table: Table, keys: np.ndarray, members: List[int], time_name: str, series) -> None:
    """Times must strictly increase down the file (per series in long form)."""
    where = f" of series {series!r}" if series is not None else ""
    for previous, current in zip(members, members[1:]):
        if keys[current] == keys[previous]:
            raise _cell_error(table, current, f"time {table.rows[current][table.index(time_name)].strip()!r}"
                                              f"{where} repeats the previous row's")
        if keys[current] < keys[previous]:
            raise _cell_error(table, current, f"time {table.rows[current][table.index(time_name)].strip()!r}"
                                              f"{where} goes backwards (times must increase down the file)")


def future_times(data: CountData, steps: int) -> List[str]:
    """Labels of the `steps` time points after the last: the median step continued (dates stay dates)."""
    step = float(np.median(np.diff(data.keys))) if len(data.keys) > 1 else 1.0
    last = float(data.keys[-1])
    keys = [last + step * (i + 1) for i in range(steps)]
    if data.time_kind == "date":
        return [date.fromordinal(int(round(k))).isoformat() for k in keys]
    integral = all(float(k).is_integer() for k in data.keys) and float(step).is_integer()
    return [str(int(k)) if integral else f"{k:g}" for k in keys]


def align(data: CountData, state: Dict) -> CountData:
    """`data` with exactly the model's series and exogenous columns, in the model's order."""
    available = list(data.series) + list(data.exog_names)
    columns = np.column_stack([data.values, data.exog]) if data.exog is not None else data.values
    needed = list(state["series"]) + list(state["exog"])
    missing = [name for name in needed if name not in available]
    if missing:
        raise UserInputError(f"lacks the column(s) {', '.join(missing)} the model was trained on "
                             f"(it has: {', '.join(available)})", file=data.path)
    picked = columns[:, [available.index(name) for name in needed]]
    series = len(state["series"])
    exog = picked[:, series:] if state["exog"] else None
    return CountData(data.path, data.time_column, list(state["series"]), data.times, data.keys, data.time_kind,
                     picked[:, :series], data.rows, list(state["exog"]), exog, data.options)

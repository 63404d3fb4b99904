"""The UEA/UCR archive's `.ts` format (what sktime and aeon read and write), read and checked.

    # comments
    @problemName BasicMotions
    @timeStamps false
    @missing false
    @univariate false
    @dimensions 6
    @equalLength true
    @seriesLength 100
    @classLabel true Standing Running Walking Badminton
    @data
    -0.74,0.41,...:0.88,...:...:Standing      <- channels separated by ':', the label last

Header tags are case-insensitive; `?` (or NaN) is a missing value.  Only
`@data` is required; every tag that is present is checked against the data,
so a header that disagrees with its data (another channel count, a label it
does not declare, unequal lengths under `@equalLength true`, a `?` under
`@missing false`) is an error naming the line.  Time-stamped data
(`@timeStamps true`) is refused: its `(t,value)` tuples are not traces at
regular steps.

Why our own reader: sktime's and aeon's `load_from_tsfile` pull in numba,
pandas and the toolkit around them (tsml pulls aeon), far more than a
format of a few rules needs.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np

from lstmcore.toolkit import UserInputError

from .lines import numbered_lines
from .traces import Traces, excerpt

__all__ = ["TsHeader", "read_ts", "read_ts_arrays"]

_BOOLEAN_TAGS = ("timestamps", "missing", "univariate", "multivariate", "equallength", "classlabel", "targetlabel")
_INTEGER_TAGS = ("dimensions", "serieslength")


@dataclass
class TsHeader:
    """What a .ts file's header declares (None: not declared)."""

    tags: Dict[str, object] = field(default_factory=dict)
    class_labels: Optional[List[str]] = None

    def flag(self, tag: str) -> Optional[bool]:
        return self.tags.get(tag)

    @property
    def channels(self) -> Optional[int]:
        """The declared channel count: @dimensions, or 1 under @univariate true."""
        if "dimensions" in self.tags:
            return self.tags["dimensions"]
        return 1 if self.flag("univariate") else None

    @property
    def labelled(self) -> bool:
        return bool(self.flag("classlabel"))


def _header_value(tag: str, words: List[str], source: str, record: str):
    if tag in _BOOLEAN_TAGS:
        if not words or words[0].lower() not in ("true", "false"):
            raise UserInputError(f"@{tag} must be followed by true or false", file=source, record=record)
        return words[0].lower() == "true"
    if tag in _INTEGER_TAGS:
        if len(words) != 1 or not words[0].isdigit() or int(words[0]) < 1:
            raise UserInputError(f"@{tag} must be followed by a positive integer", file=source, record=record)
        return int(words[0])
    return " ".join(words)


def _read_header_line(header: TsHeader, line: str, source: str, record: str) -> None:
    words = line.split()
    tag = words[0][1:].lower()
    header.tags[tag] = _header_value(tag, words[1:], source, record)
    if tag == "classlabel" and header.tags[tag]:
        header.class_labels = words[2:] or None
    if tag == "multivariate" and header.tags[tag] and len(words) > 2 and words[2].isdigit():
        header.tags.setdefault("dimensions", int(words[2]))  # an old spelling: "@multivariate true 12"
    if tag == "timestamps" and header.tags[tag]:
        raise UserInputError("@timeStamps true is not supported: give the values at regular steps",
                             file=source, record=record)


def _channel(text: str, source: str, record: str, channel: int) -> np.ndarray:
    cells = text.split(",")
    values = np.empty(len(cells), dtype=np.float64)
    for index, cell in enumerate(cells):
        cell = cell.strip()
        if cell == "?" or cell.lower() == "nan":
            values[index] = np.nan
            continue
        try:
            values[index] = float(cell)
        except ValueError:
            raise UserInputError(f"channel {channel}, value {index + 1}: {cell!r} is not a number "
                                 "(missing values are written '?')", file=source, record=record) from None
    return values


def _looks_like_values(text: str) -> bool:
    """True when `text` is comma-separated numbers or '?' (a channel's values, not a class)."""
    cells = text.split(",")
    if len(cells) < 2:
        return False
    for cell in cells:
        cell = cell.strip()
        if cell in ("?", "") or cell.lower() == "nan":
            continue
        try:
            float(cell)
        except ValueError:
            return False
    return True


def _label(header: TsHeader, parts: List[str], source: str, record: str) -> str:
    """The class (or target) after a data line's last ':', taken off `parts`; a line without one is an error."""
    what = "class" if header.labelled else "target value"
    if len(parts) < 2:
        raise UserInputError(f"no {what} after the last ':' (a labelled data line ends with ':{what.upper()}'; "
                             f"the line starts {excerpt(parts[0])})", file=source, record=record)
    label = parts.pop().strip()
    if not label:
        raise UserInputError(f"the {what} after the last ':' is empty", file=source, record=record)
    declared = header.class_labels is not None and label in header.class_labels
    if not declared and _looks_like_values(label):
        raise UserInputError(f"no {what} after the last ':': the last part, {excerpt(label)}, holds values "
                             f"(a labelled data line ends with ':{what.upper()}')", file=source, record=record)
    return label


def _data_line(header: TsHeader, line: str, source: str, record: str):
    """(trace (length, channels), label or None) of one data line, checked against the header."""
    parts = line.strip().split(":")
    label = _label(header, parts, source, record) if header.labelled or header.flag("targetlabel") else None
    if header.labelled and header.class_labels is not None and label not in header.class_labels:
        names = " ".join(header.class_labels)
        names = names if len(names) <= 200 else names[:200] + "..."
        raise UserInputError(f"class {excerpt(label)} is not among those @classLabel declares ({names})",
                             file=source, record=record)
    declared = header.channels
    if declared is not None and len(parts) != declared:
        raise UserInputError(f"has {len(parts)} channels but the header declares {declared}", file=source,
                             record=record)
    channels = [_channel(text, source, record, c + 1) for c, text in enumerate(parts)]
    lengths = {values.size for values in channels}
    if len(lengths) != 1:
        raise UserInputError(f"its channels have different lengths ({', '.join(str(v.size) for v in channels)})",
                             file=source, record=record)
    trace = np.stack(channels, axis=1)
    if header.flag("missing") is False and np.isnan(trace).any():
        raise UserInputError("has a missing value ('?') but the header says @missing false", file=source,
                             record=record)
    if "serieslength" in header.tags and header.flag("equallength") is not False \
            and trace.shape[0] != header.tags["serieslength"]:
        raise UserInputError(f"has {trace.shape[0]} values per channel but @seriesLength is "
                             f"{header.tags['serieslength']}", file=source, record=record)
    return trace, label


def read_ts(path) -> Traces:
    """Read a .ts file into Traces (labels when @classLabel true), checking the data against the header."""
    source = os.fspath(path)
    header, in_data = TsHeader(), False
    series, labels, records = [], [], []
    for number, raw in numbered_lines(path):
        line, record = raw.strip(), f"line {number}"
        if not line or line.startswith("#"):
            continue
        if not in_data:
            if not line.startswith("@"):
                raise UserInputError("data before @data (a .ts file starts with @ header lines)",
                                     file=source, record=record)
            in_data = line.lower() == "@data"
            if not in_data:
                _read_header_line(header, line, source, record)
            continue
        trace, label = _data_line(header, line, source, record)
        _check_same_channels(series, trace, source, record)
        series.append(trace)
        labels.append(label)
        records.append(record)
    if not in_data:
        raise UserInputError("has no @data line: not a .ts file", file=source)
    if not series:
        raise UserInputError("holds no traces after @data", file=source)
    _check_equal_length(header, series, source, records)
    ids = [f"case{i + 1}" for i in range(len(series))]
    return Traces(series, labels if header.labelled else None, ids, [source] * len(series), records)


def _check_same_channels(series, trace, source, record):
    if series and trace.shape[1] != series[0].shape[1]:
        raise UserInputError(f"has {trace.shape[1]} channels, the first case has {series[0].shape[1]}",
                             file=source, record=record)


def _check_equal_length(header: TsHeader, series, source, records):
    if header.flag("equallength"):
        first = series[0].shape[0]
        for trace, record in zip(series, records):
            if trace.shape[0] != first:
                raise UserInputError(f"has {trace.shape[0]} values per channel, the first case {first}, but the "
                                     "header says @equalLength true", file=source, record=record)


def read_ts_arrays(path) -> Dict[str, np.ndarray]:
    """The `ts` reader other tasks get: X (n, length, channels) NaN-padded, lengths, y (labels, when given)."""
    traces = read_ts(path)
    longest = int(traces.lengths.max())
    x = np.full((len(traces), longest, traces.channels), np.nan)
    for i, trace in enumerate(traces.series):
        x[i, : trace.shape[0]] = trace
    arrays = {"X": x, "lengths": traces.lengths}
    if traces.labels is not None:
        arrays["y"] = np.array(traces.labels)
    return arrays

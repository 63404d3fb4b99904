"""Which reader a file gets: by `--format`, or by its extension and first line.

- `.ts`: the UEA/UCR archive format (ts_format);
- `.npz`: NumPy arrays X, y (npz_format);
- `.tsv` / `.csv` / `.txt` whose header has a `file` column: a labels table of per-trace CSV files
  (folder_format); any other table: UCR rows, the label first (ucr_format);
- a folder: its `labels.tsv` (from Python; the command line takes the table itself).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence

from lstmcore.toolkit import UserInputError

from .folder_format import is_trace_index, read_trace_folder, read_trace_index
from .npz_format import read_npz_traces
from .traces import Traces, concatenate
from .ts_format import read_ts
from .ucr_format import UCR_EXTENSIONS, read_ucr

__all__ = ["FORMATS", "read_traces", "format_of"]

FORMATS = ("auto", "ucr", "ts", "npz", "folder")


def format_of(path) -> str:
    """The format `auto` picks for `path`."""
    path = Path(path)
    if path.is_dir():
        return "folder"
    name = path.name.lower()
    name = name[:-3] if name.endswith(".gz") else name
    if name.endswith(".ts"):
        return "ts"
    if name.endswith(".npz"):
        return "npz"
    if name.endswith(UCR_EXTENSIONS):
        return "folder" if is_trace_index(path) else "ucr"
    raise UserInputError("unknown signal file type: give .tsv/.csv/.txt (UCR rows or a labels table of "
                         "per-trace CSV files), .ts or .npz, or set --format", file=path)


def _read_one(path, kind: str, labelled: bool, label_column: bool) -> Traces:
    if kind == "ts":
        return read_ts(path)
    if kind == "npz":
        return read_npz_traces(path, labelled=labelled)
    if kind == "folder":
        return read_trace_folder(path, labelled=labelled) if Path(path).is_dir() \
            else read_trace_index(path, labelled=labelled)
    return read_ucr(path, label_column=label_column)


def read_traces(paths: Sequence, options: Mapping, *, labelled: bool) -> Traces:
    """Every file's traces, concatenated; labels required when `labelled`."""
    chosen = options.get("format") or "auto"
    if chosen not in FORMATS:
        raise UserInputError(f"--format must be one of {', '.join(FORMATS)}. Received: {chosen!r}")
    label_column = labelled or options.get("label_column", "first") != "none"
    parts = []
    for path in paths:
        kind = format_of(path) if chosen == "auto" else chosen
        part = _read_one(path, kind, labelled, label_column)
        if labelled and part.labels is None:
            raise UserInputError("has no class labels (a .ts file needs @classLabel true)", file=os.fspath(path))
        parts.append(part)
    traces = concatenate(parts)
    _check_channels(traces)
    return traces


def _check_channels(traces: Traces) -> None:
    for index, trace in enumerate(traces.series):
        if trace.shape[1] != traces.channels:
            raise traces.error(index, f"has {trace.shape[1]} channels, the first trace has {traces.channels}")

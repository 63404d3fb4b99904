"""Input formats by name and file extension: what the `register_readers` hook registers.

A `Reader` turns a path into data: FASTA gives an iterator of
`SequenceRecord`, a table gives a `Table`, an NPZ file a dict of arrays.  Tasks
find the reader for a user's file with `reader_for(path)`, so a reader that a
plugin adds (GenBank, FASTQ, ...) serves every task.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, Tuple, Union

from .. import registry
from ..errors import UserInputError
from .inputs import is_stdin

__all__ = ["Reader", "reader_for", "core_readers"]

PathLike = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class Reader:
    """An input format: `read(path)` returns its data; `extensions` pick it for a file name."""

    read: Callable[[PathLike], Any]
    extensions: Tuple[str, ...]
    description: str
    kind: str = "sequences"  # what `read` returns: "sequences", "table" or "arrays"


def reader_for(path: PathLike, name: str = None) -> Reader:
    """The reader called `name`, or the one whose extension matches `path` (".gz" looked through);
    standard input (`-`) has no extension and is read as FASTA."""
    if name:
        return registry.readers.get(name)
    if is_stdin(path):
        return registry.readers.get("fasta")
    lowered = os.fspath(path).lower()
    if lowered.endswith(".gz"):
        lowered = lowered[:-3]
    for _, reader, _ in registry.readers.items():
        if lowered.endswith(tuple(ext.lower() for ext in reader.extensions)):
            return reader
    known = ", ".join(sorted({ext for _, r, _ in registry.readers.items() for ext in r.extensions}))
    raise UserInputError(f"unknown file type: no reader for its extension (known: {known})", file=path)


def _fasta_reader() -> Reader:
    from .fasta import FASTA_EXTENSIONS, iter_fasta
    return Reader(iter_fasta, FASTA_EXTENSIONS, "FASTA sequences, plain or gzip (Biopython), streamed")


def _table_reader(extensions, delimiter, description) -> Reader:
    from .tables import read_table
    return Reader(lambda path: read_table(path, delimiter), extensions, description, kind="table")


def _npz_reader() -> Reader:
    from .npz import read_npz
    return Reader(read_npz, (".npz",), "NumPy .npz archive of named arrays (no pickle)", kind="arrays")


def core_readers() -> dict:
    """The readers the core registers through its internal plugin."""
    return {
        "fasta": _fasta_reader(),
        "csv": _table_reader((".csv",), ",", "comma-separated table with a header row"),
        "tsv": _table_reader((".tsv", ".tab"), "\t", "tab-separated table with a header row"),
        "npz": _npz_reader(),
    }




"""FASTA records, plain or gzip, streamed through Biopython's SimpleFastaParser.

Files are opened by `lstmcore.io.inputs` (`-` is standard input; a pipe
or FIFO is read once, gzip recognised by content).  `iter_fasta` yields one
`SequenceRecord` at a time, so prediction over a file
larger than memory runs in chunks (`chunked`).  Everything a user can get
wrong is a `UserInputError` naming the file and the record:

- an empty file, or one with no records;
- a file that is not FASTA (text before the first '>' header);
- a binary file, or one that is not UTF-8 text (the line, column and record
  are named), or corrupt gzip data;
- a header without an id, a record without a sequence, an id seen twice.

The letters themselves are checked by the encoders (lstmcore.encoders), which
know the alphabet.
"""
from __future__ import annotations

import gzip
import os
import zlib
from dataclasses import dataclass, replace
from itertools import islice
from typing import BinaryIO, Dict, Iterable, Iterator, List, Optional, Sequence, TextIO, Union

from Bio.SeqIO.FastaIO import SimpleFastaParser

from ..errors import UserInputError
from .inputs import display_name, is_stdin, open_binary

__all__ = ["SequenceRecord", "open_text", "iter_fasta", "read_fasta", "chunked", "write_fasta", "FASTA_EXTENSIONS"]

PathLike = Union[str, "os.PathLike[str]"]
FASTA_EXTENSIONS = (".fasta", ".fa", ".fna", ".ffn", ".faa", ".frn", ".fas", ".fsa", ".seq", ".nu", ".pro")


@dataclass(frozen=True)
class SequenceRecord:
    """One FASTA record: its id (first word of the header), sequence, full header and file."""

    id: str
    sequence: str
    description: str = ""
    source: str = ""
    label: Optional[str] = None

    def with_label(self, label: Optional[str]) -> "SequenceRecord":
        return replace(self, label=label)


def open_text(path: PathLike) -> TextIO:
    """Open `path` (`-`: standard input) as UTF-8 text, read once, gzip recognised by its content."""
    from .inputs import open_text as open_input_text

    return open_input_text(path)


class _CheckedLines:
    """The lines of a FASTA file, refusing binary data and text before the first header.

    Remembers the current record id so errors found mid-file can name it.
    """

    def __init__(self, path: PathLike, handle: BinaryIO):
        self.path = display_name(path)
        self.handle = handle
        self.record: Optional[str] = None
        self.line_number = 0
        self.headers = 0

    def __iter__(self) -> Iterator[str]:
        while True:
            line = self._next_line()
            if not line:
                return
            self.line_number += 1
            if "\x00" in line:
                raise self._error("is a binary file, not FASTA text (NUL byte on line "
                                  f"{self.line_number})")
            if line.startswith(">"):
                self.headers += 1
                self.record = line[1:].split(None, 1)[0] if line[1:].strip() else f"#{self.headers}"
            elif self.headers == 0 and line.strip():
                raise self._error(f"is not FASTA: line {self.line_number} comes before the first '>' header "
                                  f"({_preview(line)!r})")
            yield line

    def _next_line(self) -> str:
        """The next line, decoded on its own so that an undecodable byte is placed exactly."""
        try:
            raw = self.handle.readline()
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise self._error(f"is corrupt gzip data ({exc})") from None
        except OSError as exc:
            raise self._error(f"cannot be read: {exc.strerror or exc}") from None
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self._undecodable(raw, exc) from None
        if self.line_number == 0 and line.startswith("\ufeff"):
            line = line[1:]                  # the byte-order mark some Windows editors begin UTF-8 with
        if "\r" in line.rstrip("\r\n"):
            raise self._error(f"line {self.line_number + 1} holds a carriage return inside it: its lines end with "
                              "carriage returns alone (old Mac text); convert them to newlines, e.g. "
                              "tr '\\r' '\\n' < old.fa > new.fa")
        return line[:-2] + "\n" if line.endswith("\r\n") else line

    def _undecodable(self, raw: bytes, exc: UnicodeDecodeError) -> UserInputError:
        """Name the line, the column and the record (a header names its own record, read leniently)."""
        number = self.line_number + 1
        if raw.startswith(b">"):
            words = raw[1:].decode("utf-8", errors="backslashreplace").split(None, 1)
            self.record = words[0] if words else f"#{self.headers + 1}"
            where = "header"
        else:
            where = "line"
        return self._error(f"is not UTF-8 text: the {where} on line {number} has the byte "
                           f"0x{raw[exc.start]:02x} at column {exc.start + 1} (a binary file, or another "
                           "encoding: save it as UTF-8)")

    def _error(self, problem: str) -> UserInputError:
        return UserInputError(problem, file=self.path, record=self.record)


def iter_fasta(path: PathLike, seen_ids: Optional[Dict[str, str]] = None) -> Iterator[SequenceRecord]:
    """Yield the records of one FASTA file, streamed; `seen_ids` (id -> file) catches duplicates across files."""
    seen_ids = {} if seen_ids is None else seen_ids
    source = display_name(path)
    count = 0
    with open_binary(path) as handle:
        lines = _CheckedLines(path, handle)
        for title, sequence in SimpleFastaParser(lines):
            count += 1
            record_id = title.split(None, 1)[0] if title.strip() else ""
            if not record_id:
                raise UserInputError(f"the header of record {count} has no id", file=source, record=f"#{count}")
            if record_id in seen_ids:
                where = "earlier in this file" if seen_ids[record_id] == source else f"also in {seen_ids[record_id]}"
                raise UserInputError(f"duplicate record id ({where})", file=source, record=record_id)
            if not sequence:
                raise UserInputError("has no sequence", file=source, record=record_id)
            seen_ids[record_id] = source
            yield SequenceRecord(record_id, sequence, title, source)
    if count == 0:
        raise UserInputError("is empty: no FASTA records" if _is_empty(path) else "contains no FASTA records",
                             file=source)


def iter_fasta_files(paths: Iterable[PathLike]) -> Iterator[SequenceRecord]:
    """Yield the records of several FASTA files in order; an id may appear only once across them."""
    seen_ids: Dict[str, str] = {}
    for path in paths:
        yield from iter_fasta(path, seen_ids)


def read_fasta(paths: Union[PathLike, Sequence[PathLike]]) -> List[SequenceRecord]:
    """All records of one or several FASTA files, in memory (for training and evaluation)."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    return list(iter_fasta_files(paths))


def chunked(records: Iterable[SequenceRecord], size: int) -> Iterator[List[SequenceRecord]]:
    """Group a stream of records into lists of at most `size` (the last may be shorter)."""
    if size < 1:
        raise ValueError(f"size must be a positive integer. Received: size={size}")
    iterator = iter(records)
    while True:
        chunk = list(islice(iterator, size))
        if not chunk:
            return
        yield chunk


def _is_empty(path: PathLike) -> bool:
    if is_stdin(path):
        return False
    try:
        return os.path.getsize(path) == 0
    except OSError:
        return False


def _preview(line: str, width: int = 30) -> str:
    line = line.strip()
    return line if len(line) <= width else line[:width] + "..."


def write_fasta(path: PathLike, records: Iterable[tuple], width: int = 60) -> None:
    """Write (id, sequence, label-or-None) tuples as FASTA (atomically), the label as `label=CLASS`
    in the header, sequences wrapped at `width`."""
    from .atomic import atomic_open

    with atomic_open(path, "w", encoding="utf-8") as handle:
        for record_id, sequence, label in records:
            header = record_id if label is None else f"{record_id} label={label}"
            handle.write(f">{header}\n")
            for start in range(0, len(sequence), width):
                handle.write(sequence[start:start + width] + "\n")

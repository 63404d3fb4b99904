"""Where every input file is opened: each stream is read once, gzip is recognised by its content.

`open_binary` / `open_text` open a user's file, or standard input for `-`
(as Unix tools do), and look at its first two bytes through the same stream
they then read from: a gzip stream (magic bytes 1f 8b) is decompressed
whatever the file is called, and a pipe or a FIFO, which can be read only
once, works like a file (opening the path a second time after peeking would
find the piped data gone and wait for ever).

`read_bytes` reads a whole input once into memory (a model file), refusing
it as soon as it passes a size limit: a FIFO or a pipe that never ends
cannot fill the memory.

Standard input can be read once: a second `-` in the same run (`lstmcore
predict - - ...`, a model and data both from `-`, `--labels -` beside data
from `-`) is refused when it is opened, instead of reading nothing.

A missing file, a folder, or a file that cannot be read is a
`UserInputError` naming it.
"""
from __future__ import annotations

import gzip
import io
import os
import stat
import sys
import weakref
import zlib
from typing import BinaryIO, Iterator, Optional, TextIO, Tuple, Union

from ..errors import UserInputError

__all__ = ["STDIN", "STDIN_NAME", "is_stdin", "display_name", "open_binary", "open_text", "text_lines",
           "read_bytes", "read_at_most", "check_stdin_once", "GZIP_MAGIC", "STDIN_TWICE",
           "STDIN_READ_AGAIN"]

PathLike = Union[str, "os.PathLike[str]"]
STDIN = "-"
STDIN_NAME = "<stdin>"  # how standard input is named in messages and records
GZIP_MAGIC = b"\x1f\x8b"
STDIN_TWICE = "standard input ('-') is given twice; it can be read only once"
STDIN_READ_AGAIN = "standard input ('-') was read already; it can be read only once: give it for one input only"
_READ_CHUNK = 1 << 20

# The standard input streams already opened in this process (a test's replacement stdin is a new one).
_opened_stdin: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def is_stdin(path: PathLike) -> bool:
    """True for `-`, the name of standard input on a command line."""
    return isinstance(path, (str, os.PathLike)) and os.fspath(path) == STDIN


def display_name(path: PathLike) -> str:
    """How an input is named in messages: its path, or <stdin> for `-`."""
    return STDIN_NAME if is_stdin(path) else os.fspath(path)


class _Prefixed(io.RawIOBase):
    """A raw stream that gives back the bytes already read (`head`) before the rest of `source`.

    Closing it closes `source` unless it is standard input, which is not ours to close.
    """

    def __init__(self, head: bytes, source: BinaryIO, owns_source: bool):
        super().__init__()
        self._head = head
        self._source = source
        self._owns_source = owns_source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            count = min(len(buffer), len(self._head))
            buffer[:count] = self._head[:count]
            self._head = self._head[count:]
            return count
        read = getattr(self._source, "read1", self._source.read)
        data = read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed and self._owns_source:
            self._source.close()
        super().close()


def check_stdin_once(paths) -> None:
    """Refuse, before anything is read, a run that names standard input (`-`) more than once."""
    if sum(1 for path in paths if path is not None and is_stdin(path)) > 1:
        raise UserInputError(STDIN_TWICE, file=STDIN)


def _claim_stdin() -> BinaryIO:
    """Standard input's bytes, the first time they are asked for; a second time is a UserInputError."""
    stream = sys.stdin.buffer
    try:
        if stream in _opened_stdin:
            raise UserInputError(STDIN_READ_AGAIN, file=STDIN)
        _opened_stdin[stream] = True
    except TypeError:  # a stream that takes no weak reference: not tracked
        pass
    return stream


def _open_source(path: PathLike) -> BinaryIO:
    if is_stdin(path):
        return _claim_stdin()
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise UserInputError("no such file", file=path) from None
    except IsADirectoryError:
        raise UserInputError("is a folder, not a file", file=path) from None
    except OSError as exc:
        raise UserInputError(f"cannot be read: {exc.strerror or exc}", file=path) from None


def _read_head(source: BinaryIO, size: int, path: PathLike) -> bytes:
    """Up to `size` bytes from the start of `source` (a pipe may deliver them in several reads)."""
    head = b""
    read = getattr(source, "read1", source.read)
    try:
        while len(head) < size:
            chunk = read(size - len(head))
            if not chunk:
                break
            head += chunk
    except OSError as exc:
        raise UserInputError(f"cannot be read: {exc.strerror or exc}", file=display_name(path)) from None
    return head


def read_bytes(path: PathLike, limit: int, what: str = "file") -> bytes:
    """All the bytes of a user's input (`-`: standard input), read once; more than `limit` bytes is a
    UserInputError as soon as the limit is passed (a regular file's size is checked before reading)."""
    source = _open_source(path)
    try:
        data = read_at_most(source, limit)
    except OSError as exc:
        raise UserInputError(f"cannot be read: {exc.strerror or exc}", file=display_name(path)) from None
    finally:
        if not is_stdin(path):
            source.close()
    if data is None:
        raise _too_large(path, limit, what)
    return data


def read_at_most(source: BinaryIO, limit: int) -> Optional[bytes]:
    """The rest of `source` if it holds at most `limit` bytes, else None, having read no more than limit + 1.

    A regular file is read in one piece of its size (no copy); a pipe or a
    FIFO in chunks, so that memory grows with what arrives, never to more
    than the limit.
    """
    size = _regular_file_size(source)
    if size is not None and size > limit:
        return None
    parts, total = [], 0
    want = _READ_CHUNK if size is None else size + 1  # + 1: a file that grew while being read
    while True:
        chunk = source.read(min(want, limit + 1 - total))
        if not chunk:
            return parts[0] if len(parts) == 1 else b"".join(parts)
        parts.append(chunk)
        total += len(chunk)
        if total > limit:
            return None
        want = _READ_CHUNK


def _regular_file_size(source: BinaryIO) -> Optional[int]:
    """The size of a regular file, None for a pipe, a FIFO, a terminal or a stream without a descriptor."""
    try:
        status = os.fstat(source.fileno())
    except (OSError, ValueError, AttributeError):
        return None
    return status.st_size if stat.S_ISREG(status.st_mode) else None


def _too_large(path: PathLike, limit: int, what: str) -> UserInputError:
    return UserInputError(f"is larger than {limit:,} bytes, the limit for a {what}; nothing more was read",
                          file=display_name(path))


def open_binary(path: PathLike) -> BinaryIO:
    """The bytes of a user's input (`-`: standard input), gzip decompressed when its content is gzip."""
    source = _open_source(path)
    head = _read_head(source, len(GZIP_MAGIC), path)
    stream: BinaryIO = io.BufferedReader(_Prefixed(head, source, owns_source=not is_stdin(path)))
    if head == GZIP_MAGIC:
        stream = _ClosingGzip(gzip.GzipFile(fileobj=stream, mode="rb"))
    return stream


def open_text(path: PathLike, encoding: str = "utf-8") -> TextIO:
    """A user's input as text (strict UTF-8 by default), read once, gzip recognised by content."""
    return io.TextIOWrapper(open_binary(path), encoding=encoding, errors="strict", newline=None)


class _ClosingGzip(io.BufferedReader):
    """A GzipFile that closes the stream under it too (GzipFile leaves a given fileobj open)."""

    def __init__(self, gzip_file: gzip.GzipFile):
        super().__init__(gzip_file)
        self._under: Optional[BinaryIO] = gzip_file.fileobj

    def close(self) -> None:
        under, self._under = self._under, None
        try:
            super().close()
        finally:
            if under is not None:
                under.close()


def text_lines(path: PathLike) -> Iterator[Tuple[int, str]]:
    """(line number, line) of a user's text input, each line decoded on its own as strict UTF-8.

    Decoding line by line places an undecodable byte exactly (line and
    column), where a decoder reading ahead in blocks cannot; corrupt gzip
    data and read errors are UserInputErrors too.
    """
    name = display_name(path)
    with open_binary(path) as handle:
        number = 0
        while True:
            try:
                raw = handle.readline()
            except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
                raise UserInputError(f"is corrupt gzip data ({exc})", file=name) from None
            except OSError as exc:
                raise UserInputError(f"cannot be read: {exc.strerror or exc}", file=name) from None
            if not raw:
                return
            number += 1
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise UserInputError(f"is not UTF-8 text: line {number} has the byte 0x{raw[exc.start]:02x} at "
                                     f"column {exc.start + 1} (a binary file, or another encoding: save it as "
                                     "UTF-8)", file=name) from None
            yield number, (line[:-2] + "\n" if line.endswith("\r\n") else line)

"""Standard output that fails in one line: a full disk is a user's problem to fix, a closed pipe is no error.

Writing a result to standard output (`-o -`, or a command's printed table)
can fail as a file can: `lstmcore predict ... -o - > /mnt/full/calls.tsv`
fills the disk (ENOSPC), a quota (EDQUOT), the file size limit (EFBIG), or
the device fails (EIO).  `guarded(stream)` wraps a text or binary stream so
that those errors raise `StandardOutputError` (a `UserInputError` naming
`<stdout>`), which the command line prints as one line with exit status 2.

A closed pipe (EPIPE: `lstmcore predict ... -o - | head -1`) stays a
`BrokenPipeError`: the reader left, as it may; the command line then ends
quietly with status 141, as Unix tools killed by SIGPIPE do.

Either way, what standard output still holds in its buffer can never be
written: `abandon()` points its file descriptor at /dev/null so that the
interpreter's final flush stays quiet ("Exception ignored ..." and exit
status 120 otherwise).  Only the command line calls it, after a failure.
"""
from __future__ import annotations

import contextlib
import errno
import os
import sys
from typing import IO, Iterable, Iterator

from ..errors import UserInputError

__all__ = ["STDOUT_NAME", "StandardOutputError", "GuardedStream", "guarded", "abandon", "WRITE_ERRNOS"]

STDOUT_NAME = "<stdout>"  # how standard output is named in messages, as <stdin> is for standard input

# errno values that mean standard output could not be written: disk full, quota, file too large, device error.
WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO})


class StandardOutputError(UserInputError):
    """Standard output could not be written (full disk, quota, file size limit, I/O error)."""

    def __init__(self, error: OSError):
        reason = error.strerror or str(error)
        super().__init__(f"cannot write to standard output: {reason} (what it received is incomplete)",
                         file=STDOUT_NAME)
        self.errno = error.errno


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    """OSError of a write -> StandardOutputError; a closed pipe and other errors pass unchanged."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as error:
        if error.errno in WRITE_ERRNOS:
            raise StandardOutputError(error) from None
        raise


class GuardedStream:
    """A stream (text or binary) whose write errors are `StandardOutputError`s; everything else is the
    stream's own (encoding, isatty, fileno, ...)."""

    def __init__(self, stream: IO):
        self._stream = stream

    def write(self, data):
        with _translated():
            return self._stream.write(data)

    def writelines(self, lines: Iterable) -> None:
        with _translated():
            self._stream.writelines(lines)

    def flush(self) -> None:
        with _translated():
            self._stream.flush()

    @property
    def buffer(self) -> "GuardedStream":
        """The binary stream under a text stream, guarded too."""
        return GuardedStream(self._stream.buffer)

    @property
    def wrapped(self) -> IO:
        return self._stream

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def guarded(stream: IO) -> IO:
    """`stream` wrapped in a GuardedStream (once: a guarded stream is returned as it is; None stays None)."""
    if stream is None or isinstance(stream, GuardedStream):
        return stream
    return GuardedStream(stream)


def abandon() -> None:
    """Point standard output's file descriptor at /dev/null: what is still buffered for it is dropped
    quietly at exit instead of failing again (a full disk) or into a closed pipe."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)

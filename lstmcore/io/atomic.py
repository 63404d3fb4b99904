"""Outputs written atomically: a temporary file in the same folder, then `os.replace`.

A run that fails half way leaves neither a half-written output nor a stray
temporary file; an output that already existed stays as it was.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO, Iterator, Union

from ..errors import UserInputError

__all__ = ["check_writable", "atomic_path", "atomic_open"]

PathLike = Union[str, "os.PathLike[str]"]


def check_writable(path: PathLike) -> Path:
    """Fail early, before a long run, if `path` cannot be written; return it as a Path."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise UserInputError("cannot write the output: it is a folder", file=path)
    if not folder.is_dir():
        raise UserInputError(f"cannot write the output: folder {str(folder)!r} does not exist", file=path)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UserInputError(f"cannot write the output: folder {str(folder)!r} is not writable", file=path)
    if path.exists() and not os.access(path, os.W_OK):
        raise UserInputError("cannot write the output: the file exists and is read-only", file=path)
    return path


@contextlib.contextmanager
def atomic_path(path: PathLike) -> Iterator[str]:
    """Yield a temporary path beside `path`; on success it replaces `path`, on error it is removed."""
    path = check_writable(path)
    descriptor, temporary = _make_temporary(path)
    os.close(descriptor)
    try:
        yield temporary
        _publish(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


@contextlib.contextmanager
def atomic_open(path: PathLike, mode: str = "w", **open_kwargs) -> Iterator[IO]:
    """Open a temporary file beside `path` for writing; on success it replaces `path`."""
    if "w" not in mode:
        raise ValueError(f"atomic_open writes files; mode must contain 'w'. Received: mode={mode!r}")
    with atomic_path(path) as temporary:
        with open(temporary, mode, **open_kwargs) as handle:
            yield handle


def _make_temporary(path: Path):
    try:
        return tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent if str(path.parent) else ".")
    except OSError as exc:
        raise UserInputError(f"cannot write the output: {exc.strerror or exc}", file=path) from exc


def _publish(temporary: str, path: Path) -> None:
    """Give the new file the usual permissions (mkstemp makes it private), then move it in place."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)
    try:
        os.replace(temporary, path)
    except OSError as exc:
        raise UserInputError(f"cannot write the output: {exc.strerror or exc}", file=path) from exc

"""Outputs written atomically: a temporary file in the same folder, then `os.replace`.

A run that fails half way leaves neither a half-written output nor a stray
temporary file; an output that already existed stays as it was.  Only a
regular file is ever replaced: a folder, a device (/dev/null), a FIFO or a
socket is refused, and a symbolic link is written through (its target is
replaced; the link stays).  A full disk or quota while writing is a
UserInputError naming the output.  `lstmcore.io.outputs` adds the checks
against the run's inputs and `-` for standard output.
"""
from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path
from typing import IO, Iterator, Union

from ..errors import UserInputError

__all__ = ["check_writable", "atomic_path", "atomic_open", "special_file_kind"]

PathLike = Union[str, "os.PathLike[str]"]


# Folders of the kernel's files: /dev/stdout, /proc/self/fd/1 and their kind are links to whatever a
# descriptor is open on (the file a shell's `>>` appends to), which replacing would destroy.  /dev/shm
# is an ordinary (memory) file system that scratch outputs go to.
_SYSTEM_FOLDERS = ("/dev/", "/proc/", "/sys/")


def _link_chain(path: Path) -> list:
    """The absolute names a path goes through, link after link (each hop, not only the end: a link to
    /proc/self/fd/1 ends at an ordinary file, the one standard output is open on)."""
    names = [os.path.abspath(path)]
    while os.path.islink(names[-1]) and len(names) < 40:
        names.append(os.path.abspath(os.path.join(os.path.dirname(names[-1]), os.readlink(names[-1]))))
    return names


def _system_folder(name: str) -> str:
    """The system folder an absolute path lies in ("/dev/", ...), or "" (also for /dev/shm)."""
    if name.startswith("/dev/shm/"):
        return ""
    return next((folder for folder in _SYSTEM_FOLDERS if name.startswith(folder)), "")


def check_writable(path: PathLike) -> Path:
    """Fail early, before a long run, if `path` cannot be written; return the Path to write (a link's target)."""
    if not os.fspath(path):
        raise UserInputError("cannot write the output: its name is empty")
    try:
        return _checked_output(Path(path))
    except OSError as exc:                      # a name too long, a loop of links, ...
        raise UserInputError(f"cannot write the output: {exc.strerror or exc}", file=path) from None


def _checked_output(given: Path) -> Path:
    path = given
    if path.is_symlink():
        path = Path(os.path.realpath(path))  # write through the link: the link stays, its target is replaced
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise UserInputError("cannot write the output: it is a folder", file=given)
    special = special_file_kind(path)
    if special:
        raise UserInputError(f"cannot write the output: it exists and is {special}, not a regular file; outputs "
                             "are written to a new file that replaces the old one, and only a regular file is "
                             "ever replaced (write to standard output with -o -)", file=given)
    for name in _link_chain(given):
        if _system_folder(name):
            raise UserInputError(f"cannot write the output: it is in {_system_folder(name)}, whose names stand for "
                                 "devices and open files (/dev/stdout is whatever standard output is open on), "
                                 "which an output never replaces; write to standard output with -o -", file=given)
    if not folder.is_dir():
        problem = "is a file, not a folder" if folder.exists() else "does not exist"
        raise UserInputError(f"cannot write the output: folder {str(folder)!r} {problem}", file=given)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UserInputError(f"cannot write the output: folder {str(folder)!r} is not writable", file=given)
    if path.exists() and not os.access(path, os.W_OK):
        raise UserInputError("cannot write the output: the file exists and is read-only", file=given)
    return path


def special_file_kind(path: PathLike) -> str:
    """"a device", "a FIFO", "a socket" for an existing path that is one of them (links followed), else ""."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return ""
    for test, kind in ((stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return ""


# errno values that mean the output could not be written (never a reading error): disk full, quota, too big.
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


@contextlib.contextmanager
def atomic_path(path: PathLike) -> Iterator[str]:
    """Yield a temporary path beside `path`; on success it replaces `path`, on error it is removed."""
    path = check_writable(path)
    descriptor, temporary = _make_temporary(path)
    os.close(descriptor)
    try:
        yield temporary
        _publish(temporary, path)
    except OSError as exc:
        _remove_temporary(temporary)
        if exc.errno in _WRITE_ERRNOS:
            raise UserInputError(f"cannot write the output: {exc.strerror or exc}; nothing was written (an "
                                 "earlier file of that name is unchanged)", file=path) from None
        raise
    except BaseException:
        _remove_temporary(temporary)
        raise


def _remove_temporary(temporary: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(temporary)


@contextlib.contextmanager
def atomic_open(path: PathLike, mode: str = "w", **open_kwargs) -> Iterator[IO]:
    """Open a temporary file beside `path` for writing; on success it replaces `path`."""
    if "w" not in mode:
        raise ValueError(f"atomic_open writes files; mode must contain 'w'. Received: mode={mode!r}")
    with atomic_path(path) as temporary:
        with _open_temporary(temporary, mode, **open_kwargs) as handle:
            yield handle


def _open_temporary(temporary: str, mode: str, **open_kwargs) -> IO:
    """Open the temporary file (a seam for tests that fill the disk)."""
    return open(temporary, mode, **open_kwargs)


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

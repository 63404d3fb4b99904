"""Where every output is checked and opened: never an input, never a special file, `-` for standard output.

- `check_output(path, inputs)` runs before any work: an output that is one
  of the run's inputs (the same path, a symbolic link to it or a hard link:
  the same device and inode) is refused naming both, and so is an existing
  output that is not a regular file (a folder, /dev/null, a FIFO); see
  `lstmcore.io.atomic.check_writable` for the rest (its folder exists and is
  writable).
- `open_output(path)` writes atomically (`lstmcore.io.atomic`) or, for `-`,
  streams to standard output, where a full disk, a quota or an I/O error is
  a `StandardOutputError` naming `<stdout>` and a closed pipe a
  `BrokenPipeError` (`lstmcore.io.standard_output`).
- `prepare_output_folder(folder, inputs, names, folders)` is the same for
  commands that write several files (`names`) and sub-folders (`folders`)
  into a folder (`lstmcore motif discover -o DIR`); `-` is refused there.
"""
from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import IO, Iterable, Iterator, List, Mapping, Optional, Sequence, Union

from ..errors import UserInputError
from .atomic import atomic_open, check_writable
from .inputs import is_stdin
from .standard_output import STDOUT_NAME, StandardOutputError, guarded

__all__ = ["STDOUT", "STDOUT_NAME", "StandardOutputError", "is_stdout", "check_output", "open_output",
           "prepare_output_folder", "input_files_in"]

PathLike = Union[str, "os.PathLike[str]"]
STDOUT = "-"


def is_stdout(path: PathLike) -> bool:
    """True for `-`, standard output on a command line."""
    return isinstance(path, (str, os.PathLike)) and os.fspath(path) == STDOUT


def _identity(path: PathLike):
    """(device, inode) of an existing file, links followed; None when it does not exist or cannot be seen."""
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        return None
    return status.st_dev, status.st_ino


def _same_input(output: PathLike, inputs: Iterable[Optional[PathLike]]) -> Optional[str]:
    """The input that `output` is (same path, or same device and inode), or None."""
    target = _identity(output)
    for candidate in inputs:
        if candidate is None or is_stdin(candidate):
            continue
        if os.path.abspath(os.fspath(candidate)) == os.path.abspath(os.fspath(output)):
            return os.fspath(candidate)
        if target is not None and _identity(candidate) == target:
            return os.fspath(candidate)
    return None


def check_output(path: PathLike, inputs: Iterable[Optional[PathLike]] = (), *,
                 allow_stdout: bool = True) -> Optional[Path]:
    """Refuse, before any work, an output that is an input or that cannot be replaced; return it as a Path
    (None for `-`, standard output)."""
    if is_stdout(path):
        if not allow_stdout:
            raise UserInputError("this output cannot go to standard output ('-'): name a file", file=path)
        return None
    same = _same_input(path, list(inputs))
    if same is not None:
        shown = same if same == os.fspath(path) else f"{same} (the same file under another name)"
        raise UserInputError(f"the output is the input {shown}: writing it would destroy the input; "
                             "choose another output name", file=path)
    return check_writable(path)


@contextlib.contextmanager
def open_output(path: PathLike, mode: str = "w", **open_kwargs) -> Iterator[IO]:
    """A handle to write an output: standard output for `-` (flushed, not closed; its write errors are a
    StandardOutputError), else an atomic file."""
    if is_stdout(path):
        stream = guarded(sys.stdout)
        stream = stream.buffer if "b" in mode else stream
        yield stream
        stream.flush()
        return
    with atomic_open(path, mode, **open_kwargs) as handle:
        yield handle


def prepare_output_folder(folder: PathLike, inputs: Iterable[Optional[PathLike]] = (),
                          names: Sequence[str] = (), folders: Sequence[str] = ()) -> Path:
    """Create `folder` for a command's output files (or accept it as it is); refuse, before any work, a file
    in its place, a folder that cannot be created or written, files `names` in it that are inputs of the run
    or cannot be replaced, and anything but a writable folder where a sub-folder `folders` goes (`logos`).
    The sub-folders are not created here: a command creates them when it writes into them."""
    if is_stdout(folder):
        raise UserInputError("this command writes several files into a folder: name the folder, not "
                             "standard output ('-')", file=folder)
    folder = Path(folder)
    _make_folder(folder)
    inputs = list(inputs)
    for name in folders:
        _check_subfolder(folder / name)
    for name in names:
        check_output(folder / name, inputs, allow_stdout=False)
    return folder


def _make_folder(folder: Path) -> None:
    """The output folder made (parents too) or accepted as it is; anything else is a UserInputError."""
    if folder.exists() and not folder.is_dir():
        raise UserInputError("the output folder exists and is not a folder (the results are written into a "
                             "folder of that name)", file=folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserInputError(f"cannot create the output folder: {exc.strerror or exc}", file=folder) from None
    if not os.access(folder, os.W_OK | os.X_OK):  # a read-only file system too (EROFS), even for root
        raise UserInputError("cannot write into the output folder: it is not writable", file=folder)


def _check_subfolder(path: Path) -> None:
    """A sub-folder an output goes into: absent (it will be made), or a writable folder."""
    if path.is_symlink() and not path.exists():
        raise UserInputError("is a broken symbolic link where the command writes a folder of files", file=path)
    if path.exists() and not path.is_dir():
        raise UserInputError("exists and is not a folder: the command writes a folder of files of that name "
                             "(move the file, or choose another -o)", file=path)
    if path.is_dir() and not os.access(path, os.W_OK | os.X_OK):
        raise UserInputError("cannot write into the folder: it is not writable", file=path)


def input_files_in(options: Mapping[str, object], outputs: Sequence[str] = ("output",)) -> List[str]:
    """The option values (strings, or lists of them) that name existing files, outputs left out: a task's
    options that are inputs (a labels table, say), so that an output is checked against them too."""
    found: List[str] = []
    for key, value in options.items():
        if key in outputs:
            continue
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(item, (str, os.PathLike)) and not is_stdin(item) and os.path.isfile(item):
                found.append(os.fspath(item))
    return found

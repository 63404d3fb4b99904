"""NumPy .npz archives of named arrays, loaded without pickle."""
from __future__ import annotations

import os
import zipfile
from typing import Dict, Union

import numpy as np

from ..errors import UserInputError

__all__ = ["read_npz", "require_array"]

PathLike = Union[str, "os.PathLike[str]"]


def read_npz(path: PathLike) -> Dict[str, np.ndarray]:
    """All arrays of an .npz file, by name; object arrays (which need pickle) are refused."""
    source = os.fspath(path)
    _require_npz_start(source)
    try:
        with np.load(source, allow_pickle=False) as archive:
            if not hasattr(archive, "files"):
                raise UserInputError("is a .npy array, not an .npz archive of named arrays", file=source)
            return {name: _load_member(archive, name, source) for name in archive.files}
    except UserInputError:
        raise
    except FileNotFoundError:
        raise UserInputError("no such file", file=source) from None
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise UserInputError(f"is not a valid .npz file ({exc})", file=source) from None
    except ValueError as exc:
        raise UserInputError(f"is not a valid .npz file ({exc})", file=source) from None


def _require_npz_start(source: str) -> None:
    """An .npz starts as a zip archive (a .npy array as \\x93NUMPY); anything else is named here, since
    np.load would take it for a pickle and say that pickles are not allowed."""
    try:
        with open(source, "rb") as handle:
            start = handle.read(6)
    except FileNotFoundError:
        raise UserInputError("no such file", file=source) from None
    except OSError as exc:
        raise UserInputError(f"cannot be read: {exc.strerror or exc}", file=source) from None
    if start.startswith((b"PK\x03\x04", b"PK\x05\x06", b"\x93NUMPY")):
        return
    what = "gzip-compressed data" if start.startswith(b"\x1f\x8b") else \
        "empty" if not start else "neither a zip archive nor a .npy array"
    raise UserInputError(f"is not an .npz archive of named arrays: it is {what}", file=source)


def _load_member(archive, name: str, source: str) -> np.ndarray:
    try:
        return archive[name]
    except ValueError as exc:  # object arrays need allow_pickle
        raise UserInputError(f"array cannot be read without pickle ({exc})", file=source, record=name) from None


def require_array(arrays: Dict[str, np.ndarray], name: str, source: PathLike, *, finite: bool = False) -> np.ndarray:
    """The array called `name`, or an error listing the arrays the file has; with `finite`, NaN or inf in it
    is an error naming the array and the index (for data that a model is fitted on or predicts from)."""
    if name not in arrays:
        raise UserInputError(f"missing array {name!r} (the file has: {', '.join(sorted(arrays)) or 'none'})",
                             file=source)
    array = arrays[name]
    if finite and array.dtype.kind in "fc" and not np.isfinite(array).all():
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise UserInputError(f"holds {array[index]} at index {list(index)}, not a finite number (remove or "
                             "impute it)", file=source, record=name)
    return array

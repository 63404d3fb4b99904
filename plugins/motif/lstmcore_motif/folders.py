"""Output folders of the motif commands: none left behind, empty, by a command that fails, and no stale
motif files left by an earlier run of `discover` into the same folder."""
from __future__ import annotations

import os
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator, List, Optional, Union

__all__ = ["removed_if_failed", "remove_stale_motif_files", "MOTIF_FILE"]

PathLike = Union[str, "os.PathLike[str]"]

# The per-motif files `lstmcore motif discover` writes: motif_K.sites and motif_K.png.
MOTIF_FILE = re.compile(r"motif_[0-9]+\.(sites|png)")


def _missing(folder: Path) -> List[Path]:
    """`folder` and those of its parents that do not exist yet, deepest first."""
    missing = []
    for path in (folder, *folder.parents):
        if path.exists() or path.is_symlink():
            break
        missing.append(path)
    return missing


@contextmanager
def removed_if_failed(folder: PathLike, subfolders: Iterable[str] = ()) -> Iterator[None]:
    """Run the block; if it fails, remove the folders it made (`folder`, its parents, `subfolders` of it)
    that are still empty.  A folder that was there before, or that holds anything, is left as it is."""
    folder = Path(folder)
    made = [p for name in subfolders for p in _missing(folder / name) if p.parent == folder] + _missing(folder)
    try:
        yield
    except BaseException:
        for path in made:
            try:
                if path.is_dir() and not path.is_symlink():
                    path.rmdir()  # only ever removes an empty folder
            except OSError:
                pass
        raise


def remove_stale_motif_files(folder: PathLike, written: Iterable[PathLike],
                             keep: Iterable[Optional[PathLike]] = ()) -> List[Path]:
    """Remove the motif_K.sites / motif_K.png files in `folder` that this run did not write (left by an
    earlier run that found more motifs, or ran with --plot): only plain files of that name, never one of
    `keep` (the run's inputs).  Returns the files removed."""
    folder = Path(folder)
    written = {os.path.abspath(p) for p in written}
    keep = [p for p in keep if p is not None and os.path.exists(p)]
    removed = []
    for path in sorted(folder.iterdir()):
        if not MOTIF_FILE.fullmatch(path.name) or os.path.abspath(path) in written:
            continue
        if path.is_symlink() or not path.is_file() or any(_same(path, other) for other in keep):
            continue
        path.unlink()
        removed.append(path)
    return removed


def _same(a: PathLike, b: PathLike) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False

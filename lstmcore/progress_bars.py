"""The progress bars of lstmcore and its plugins: tqdm on stderr, drawn on terminals that report no size.

A pseudo-terminal without a size (what `docker exec -t` or `script` give) reports 0 x 0, and tqdm
then draws an empty bar: a 45-second `lstmcore mutation call` showed nothing at all.  Such a
terminal gets 80 x 24.  Everything else is tqdm's: `disable=None` shows a bar on a terminal only.
"""
from __future__ import annotations

import os
import sys

from tqdm.auto import tqdm

__all__ = ["progress_bar"]


def progress_bar(iterable=None, **options):
    """tqdm(iterable, **options), on stderr unless `file` says otherwise; sized where the terminal is not."""
    options.setdefault("file", sys.stderr)
    if _reports_no_size(options["file"]):
        options.update(ncols=options.get("ncols") or 80, nrows=options.get("nrows") or 24, dynamic_ncols=False)
    return tqdm(iterable, **options)


def _reports_no_size(stream) -> bool:
    """A terminal of 0 columns, or whose size cannot be read (not a terminal at all: False, tqdm decides)."""
    try:
        if not stream.isatty():
            return False
    except (AttributeError, ValueError):
        return False
    try:
        return os.get_terminal_size(stream.fileno()).columns == 0
    except (AttributeError, OSError, ValueError):
        return True

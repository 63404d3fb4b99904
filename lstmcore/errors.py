"""The error a user's mistake raises: one line naming the file, the record and the problem.

Everything that reads a user's files (readers, encoders, label tables, model
files, output paths) raises `UserInputError` for bad input.  The command line
turns it into exit status 2 and the single line

    error: FILE: record ID: problem

without a traceback, so a biologist sees what to fix and where.  Library code
that is called wrongly (a programmer's mistake) keeps raising the ordinary
TypeError / ValueError instead.
"""
from __future__ import annotations

import os
from typing import Optional, Union

__all__ = ["UserInputError", "PluginError"]

PathLike = Union[str, "os.PathLike[str]"]


class UserInputError(ValueError):
    """Bad input from the user, located by file and record.

    Parameters
    ----------
    problem : what is wrong, in plain words ("unknown letter 'J' at position 12").
    file : the file it was found in, or None when no file is involved.
    record : the record (FASTA id, table row, model tensor) it was found in, or None.
    """

    def __init__(self, problem: str, *, file: Optional[PathLike] = None, record: Optional[str] = None):
        self.problem = str(problem)
        self.file = None if file is None else os.fspath(file)
        self.record = None if record is None else str(record)
        super().__init__(self.format())

    def format(self) -> str:
        """The one-line message: `FILE: record ID: problem`, leaving out the parts that are unknown."""
        parts = []
        if self.file is not None:
            parts.append(self.file)
        if self.record is not None:
            parts.append(f"record {_one_line(self.record)}")  # an id from a damaged file may hold a newline
        parts.append(_one_line(self.problem))
        return ": ".join(parts)

    def __str__(self) -> str:
        return self.format()


class PluginError(RuntimeError):
    """A plugin could not be loaded or registered something invalid; the message names the plugin."""


def _one_line(text: str) -> str:
    """Collapse whitespace and newlines so the message stays on one line."""
    return " ".join(str(text).split())

"""The numbered lines of a user's text file (plain or gzip), with binary data refused in one clear line."""
from __future__ import annotations

import os
from typing import Iterator, Tuple

from lstmcore.io.fasta import open_text
from lstmcore.toolkit import UserInputError

__all__ = ["numbered_lines"]


def numbered_lines(path) -> Iterator[Tuple[int, str]]:
    """(line number from 1, line) for every line; a binary or non-UTF-8 file is a UserInputError."""
    source = os.fspath(path)
    with open_text(path) as handle:
        try:
            for number, line in enumerate(handle, 1):
                if "\x00" in line:
                    raise UserInputError("is a binary file, not text", file=source, record=f"line {number}")
                yield number, line
        except UnicodeDecodeError:
            raise UserInputError("is a binary file or not UTF-8 text", file=source) from None

"""What a subcommand of `lstmcore` is, so that plugins can add their own.

The core's commands (train, predict, evaluate, demo, info, plugins, show-config)
are registered through the `register_commands` hook like a plugin's, and the
command line builds its subcommands from the commands registry only.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Callable, Optional

__all__ = ["Command", "positive_int"]


@dataclass(frozen=True)
class Command:
    """One `lstmcore NAME ...` subcommand.

    help : one line shown in `lstmcore --help`.
    add_arguments : `add_arguments(parser)` declares the command's options on its argparse subparser.
    run : `run(args) -> int` does the work and returns the exit status (0 on success).
        Raise `lstmcore.errors.UserInputError` for a user's mistake: the command
        line prints it as one line and exits with status 2.
    task_of : optional `task_of(args) -> Task | None`; when given, the task's own
        `add_arguments(parser, command_name)` options are added before the final parse,
        and `--help` lists the installed tasks (and, when the task is not known yet,
        each task's own options for this command).
    example : optional command line(s) shown at the end of the command's `--help`, one per
        line, without the leading "lstmcore " (e.g. "info promoters.lstm"); `{task}` stands
        for an installed task's name.  A user learns a command fastest from one that works.
    """

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    task_of: Optional[Callable[[argparse.Namespace], object]] = None
    example: str = ""


def seed(text: str) -> int:
    """argparse type for random seeds: an integer from 0 to 2**32 - 1 (NumPy's range) or a clear message."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer from 0 to 4294967295. Received: {text!r}") from None
    if not 0 <= value < 2 ** 32:
        raise argparse.ArgumentTypeError(f"must be an integer from 0 to 4294967295. Received: {text!r}")
    return value


def positive_int(text: str) -> int:
    """argparse type for counts (--epochs, --threads, ...): a positive integer or a clear message."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer. Received: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer. Received: {text!r}")
    return value

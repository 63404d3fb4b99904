"""The plugin contract: every hook a plugin may implement, with its signature.

A plugin is a module (or any object) with functions marked `@lstmcore.hookimpl`
whose names are hooks below.  Each hook receives one argument, `register`, a
callback `register(name, component)` that adds a named component to a registry
the whole library shares, so a loss a plugin adds can be named in
`compile(loss=...)` and a reader a plugin adds serves every task.  The plugin
that called `register` is recorded as the owner of the name; a name registered
twice is an error that names both plugins.

pluggy project name and entry-point group: ``lstmcore``.  The hooks are
documented for plugin authors, with a worked example, in docs/plugins.md.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import pluggy

if TYPE_CHECKING:  # pragma: no cover - imported for the annotations only
    from .commands import Command
    from .encoders import Encoder
    from .io.readers import Reader
    from .io.writers import Writer
    from .tasks import Task

__all__ = ["PROJECT_NAME", "hookspec", "hookimpl", "HOOK_KINDS"]

PROJECT_NAME = "lstmcore"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

# hook name -> the kind of component it registers (the name of its registry)
HOOK_KINDS = {
    "register_tasks": "tasks",
    "register_readers": "readers",
    "register_encoders": "encoders",
    "register_losses": "losses",
    "register_metrics": "metrics",
    "register_optimizers": "optimizers",
    "register_writers": "writers",
    "register_commands": "commands",
}


# --- tasks: what the command line runs -------------------------------------------------

@hookspec
def register_tasks(register: Callable[[str, Task], None]) -> None:
    """Register tasks (`lstmcore.tasks.Task` instances) by calling `register(name, task)`."""


# --- data in and out ----------------------------------------------------------------

@hookspec
def register_readers(register: Callable[[str, Reader], None]) -> None:
    """Register input readers (`lstmcore.io.readers.Reader`) by calling `register(name, reader)`."""


@hookspec
def register_encoders(register: Callable[[str, Encoder], None]) -> None:
    """Register sequence encoders (`lstmcore.encoders.Encoder`) by calling `register(name, encoder)`."""


@hookspec
def register_writers(register: Callable[[str, Writer], None]) -> None:
    """Register prediction writers (`lstmcore.io.writers.Writer`) by calling `register(name, writer)`."""


# --- training components, named in Sequential.compile ------------------------------------

@hookspec
def register_losses(register: Callable[[str, Any], None]) -> None:
    """Register losses (a Loss class or a function `(y_true, y_pred)`) by calling `register(name, loss)`."""


@hookspec
def register_metrics(register: Callable[[str, Any], None]) -> None:
    """Register metrics (a Metric class or a function `(y_true, y_pred)`) by calling `register(name, metric)`."""


@hookspec
def register_optimizers(register: Callable[[str, Any], None]) -> None:
    """Register optimizers (an Optimizer class) by calling `register(name, optimizer_class)`."""


# --- the command line --------------------------------------------------------------

@hookspec
def register_commands(register: Callable[[str, Command], None]) -> None:
    """Register `lstmcore` subcommands (`lstmcore.commands.Command`) by calling `register(name, command)`."""

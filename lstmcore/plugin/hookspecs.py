"""The plugin contract: every hook a plugin may implement, with its signature.

A plugin is a module (or any object) with functions marked `@lstmcore.hookimpl`
whose names are hooks below.  Each hook receives one argument, `register`, a
callback `register(name, component)` that adds a named component to a registry
the whole library shares, so a loss a plugin adds can be named in
`compile(loss=...)` and a reader a plugin adds serves every task.  The plugin
that called `register` is recorded as the owner of the name; a name registered
twice is an error that names both plugins.

`HOOK_TABLE` is the one list of the hooks: for each, the registry it fills and
the class its components must be.  The registries (`lstmcore.plugin.registry`)
and the manager's type check (`lstmcore.plugin.manager`) are derived from it,
so a new kind of component is one row here plus its hookspec below.

pluggy project name and entry-point group: ``lstmcore``.  The hooks are
documented for plugin authors, with a worked example, in docs/plugins.md.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple

import pluggy

# The hooks' annotations name Task, Reader, Encoder, Writer and Command as strings only (this module
# imports nothing of lstmcore: those modules import the registries, which import this table); the
# classes are the HOOK_TABLE entries' `base`.

__all__ = ["PROJECT_NAME", "hookspec", "hookimpl", "HookKind", "HOOK_TABLE", "HOOK_KINDS", "hook_kind"]

PROJECT_NAME = "lstmcore"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@dataclass(frozen=True)
class HookKind:
    """One hook of the contract: the registry it fills and the class its components must be.

    `base` names the class as "module:Class" and is imported only when a
    component is checked, so this module imports nothing else of lstmcore
    (the component modules import the registries, which import this table).
    """

    hook: str  # the hook's name, e.g. "register_tasks"
    kind: str  # the registry it fills, e.g. "tasks" (a key of lstmcore.plugin.registry.ALL)
    label: str  # one component of that kind, in messages, e.g. "task"
    base: Optional[str] = None  # "module:Class" every component must be an instance of; None: anything

    def base_class(self) -> Optional[type]:
        """The class `base` names (imported now), or None when any component is accepted."""
        if self.base is None:
            return None
        module_name, _, class_name = self.base.partition(":")
        return getattr(importlib.import_module(module_name), class_name)


HOOK_TABLE: Tuple[HookKind, ...] = (
    HookKind(hook="register_tasks", kind="tasks", label="task", base="lstmcore.tasks:Task"),
    HookKind(hook="register_readers", kind="readers", label="reader", base="lstmcore.io.readers:Reader"),
    HookKind(hook="register_encoders", kind="encoders", label="encoder", base="lstmcore.encoders:Encoder"),
    HookKind(hook="register_losses", kind="losses", label="loss"),
    HookKind(hook="register_metrics", kind="metrics", label="metric"),
    HookKind(hook="register_optimizers", kind="optimizers", label="optimizer"),
    HookKind(hook="register_writers", kind="writers", label="writer", base="lstmcore.io.writers:Writer"),
    HookKind(hook="register_commands", kind="commands", label="command", base="lstmcore.cli:Command"),
)

# hook name -> the kind of component it registers (the name of its registry)
HOOK_KINDS: Dict[str, str] = {entry.hook: entry.kind for entry in HOOK_TABLE}

_BY_KIND: Dict[str, HookKind] = {entry.kind: entry for entry in HOOK_TABLE}


def hook_kind(kind: str) -> HookKind:
    """The row of `HOOK_TABLE` whose hook fills registry `kind` ("tasks", "losses", ...)."""
    return _BY_KIND[kind]


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
    """Register `lstmcore` subcommands (`lstmcore.cli.Command`) by calling `register(name, command)`."""

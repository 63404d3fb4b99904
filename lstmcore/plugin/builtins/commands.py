"""The core's subcommands (`lstmcore.cli.core_commands`: train, predict, ...), registered like a plugin's."""
from __future__ import annotations

from ..hookspecs import hookimpl


@hookimpl
def register_commands(register):
    """Register every built-in `lstmcore` subcommand under its name."""
    from lstmcore.cli import core_commands

    for name, command in core_commands().items():
        register(name, command)

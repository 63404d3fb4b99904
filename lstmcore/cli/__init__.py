"""The `lstmcore` command: `main` (parsing, plugins, the one-line errors), `builtin_commands` (train,
predict, evaluate, demo, info, plugins, show-config) and `command` (the Command contract a plugin's
subcommand fills)."""
from .command import Command, positive_int
from .main import build_parser, core_commands, main

__all__ = ["main", "build_parser", "core_commands", "Command", "positive_int"]

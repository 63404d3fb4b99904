"""Moved to lstmcore.cli.command; the Command contract a plugin's subcommand fills, under its old name."""
from .cli.command import Command, positive_int

__all__ = ["Command", "positive_int"]

"""The `lstmcore` command (also `python -m lstmcore`): subcommands come from the commands registry.

    lstmcore [-p MODULE] [-q] COMMAND ...

`-p MODULE` loads a plugin module explicitly (as pytest's -p does; `-p no:NAME`
keeps plugin NAME out).  The core's own commands (train, predict, evaluate,
demo, plugins, show-config) are registered by the core plugin like any
plugin's, so `lstmcore --help` lists a plugin's commands beside them.

Exit status: 0 on success; 2 for a user's mistake, printed as the single line
`error: FILE: record ID: problem` with no traceback (LSTMCORE_DEBUG=1 shows it).
"""
from __future__ import annotations

import argparse
import os
import sys
import traceback
import warnings
from typing import List, Optional, Sequence

from . import plugins, registry
from ._native.dispatch import KernelChoiceError
from .errors import PluginError, UserInputError

__all__ = ["main", "build_parser", "core_commands"]

EXIT_OK = 0
EXIT_USER_ERROR = 2
ENV_DEBUG = "LSTMCORE_DEBUG"


def core_commands() -> dict:
    """The core's subcommands, registered by the internal plugin through `register_commands`."""
    from ._cli_commands import CORE_COMMANDS

    return dict(CORE_COMMANDS)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line on `argv` (default: sys.argv[1:]) and return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    with warnings.catch_warnings():
        warnings.simplefilter("always", plugins.PluginWarning)
        warnings.showwarning = _show_plugin_warning(warnings.showwarning)
        try:
            return _run(argv)
        except SystemExit as exc:  # argparse's --help, --version and usage errors
            return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_USER_ERROR)
        except (UserInputError, PluginError, registry.UnknownNameError, registry.DuplicateNameError,
                KernelChoiceError) as exc:
            return _report_user_error(exc)
        except KeyboardInterrupt:
            print("error: interrupted", file=sys.stderr)
            return 130


def _run(argv: List[str]) -> int:
    from ._native import dispatch

    dispatch.active()  # a bad LSTMCORE_KERNEL is reported before any work
    early = _early_options(argv)
    for module_name in early.plugin_modules or []:
        plugins.add_plugin_module(module_name)
    parser = build_parser()
    args, _ = parser.parse_known_args(argv)
    if getattr(args, "command", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_USER_ERROR
    command = registry.commands.get(args.command)
    task = command.task_of(args) if command.task_of is not None else None
    if task is not None:
        args = build_parser(task=task, task_command=args.command).parse_args(argv)
    else:
        args = parser.parse_args(argv)
    args.quiet = bool(getattr(args, "quiet", False))
    args.task_object = task
    return int(command.run(args) or EXIT_OK)


def build_parser(task=None, task_command: Optional[str] = None) -> argparse.ArgumentParser:
    """The full parser: global options, one subparser per registered command (+ a task's own options)."""
    from . import __version__

    parser = argparse.ArgumentParser(prog="lstmcore", description="A fast LSTM for biological sequences: "
                                     "train, evaluate and predict with task plugins.")
    parser.add_argument("--version", action="version", version=f"lstmcore {__version__}")
    _add_global_options(parser, None)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, command, owner in registry.commands.items():
        help_text = command.help if owner == plugins.CORE_PLUGIN_NAME else f"{command.help} [plugin {owner}]"
        sub = subparsers.add_parser(name, help=help_text, description=command.help)
        _add_global_options(sub, argparse.SUPPRESS)
        command.add_arguments(sub)
        if task is not None and name == task_command:
            task.add_arguments(sub, name)
    return parser


def _add_global_options(parser: argparse.ArgumentParser, default) -> None:
    """-p and -q, accepted before or after the command name."""
    parser.add_argument("-p", dest="plugin_modules", action="append", metavar="MODULE", default=default,
                        help="load plugin MODULE explicitly (-p no:NAME keeps plugin NAME out)")
    parser.add_argument("-q", "--quiet", action="store_true",
                        default=default if default is not None else False,
                        help="no progress bars, only results and errors")


def _early_options(argv: List[str]) -> argparse.Namespace:
    """The -p options, found before the full parser exists (it depends on the plugins they load)."""
    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("-p", dest="plugin_modules", action="append")
    known, _ = early.parse_known_args(argv)
    return known


def _report_user_error(exc: BaseException) -> int:
    if _debug():
        traceback.print_exc()
    message = exc.format() if isinstance(exc, UserInputError) else " ".join(str(exc).split())
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USER_ERROR


def _debug() -> bool:
    return os.environ.get(ENV_DEBUG, "").strip().lower() not in ("", "0", "false", "no")


def _show_plugin_warning(default_show):
    """Print a PluginWarning as one `warning: ...` line; other warnings as usual."""
    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, plugins.PluginWarning):
            print(f"warning: {message}", file=sys.stderr)
        else:
            default_show(message, category, filename, lineno, file, line)
    return show


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

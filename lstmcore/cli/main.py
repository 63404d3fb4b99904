"""The `lstmcore` command (also `python -m lstmcore`): subcommands come from the commands registry.

    lstmcore [-p MODULE] [-q] COMMAND ...

`-p MODULE` loads a plugin module explicitly (as pytest's -p does; `-p no:NAME`
keeps plugin NAME out).  The core's own commands (train, predict, evaluate,
demo, info, plugins, show-config) are registered by the core plugin like any
plugin's, so `lstmcore --help` lists a plugin's commands beside them.

Help explains what a user can do with what is installed: every help text
lists the installed tasks where a command takes one, ends with examples, and
shows a task's own options (`--labels`, `--cv`, ...) once the command line
names the task, or a model file of it (`lstmcore evaluate MODEL --help`).

Exit status: 0 on success; 2 for a user's mistake, printed as the single line
`error: FILE: record ID: problem` with no traceback (LSTMCORE_DEBUG=1 shows it);
130 after Ctrl-C (a second Ctrl-C during the clean-up is ignored); 141 when
the reader of standard output leaves (`... -o - | head -1`: quietly, no
message, as Unix tools killed by SIGPIPE end).  Standard output that cannot
be written (a full disk, a quota, an I/O error) is a user's problem like a
file that cannot be written: `error: <stdout>: cannot write to standard
output: No space left on device (...)` and status 2, whether a table goes
there (`-o -`) or a command prints its results.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
import traceback
import warnings
import shutil
import textwrap
from typing import List, Optional, Sequence, Tuple, Type

from .. import plugins, registry
from .._native.dispatch import KernelChoiceError
from ..errors import PluginError, UserInputError
from ..io import standard_output

__all__ = ["main", "build_parser", "core_commands"]

EXIT_OK = 0
EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130   # 128 + SIGINT, as shells report a Ctrl-C
EXIT_BROKEN_PIPE = 141   # 128 + SIGPIPE
ENV_DEBUG = "LSTMCORE_DEBUG"
EXIT_STATUS_HELP = """exit status:
  0    done
  2    a mistake in the input or the command line: one line `error: FILE: record ID: problem`
       (a full disk or quota while writing, standard output included, is one too)
  130  interrupted (Ctrl-C)
  141  the reader of standard output left early (`lstmcore predict ... -o - | head`): no message"""
HELP_FLAGS = ("-h", "--help")


def core_commands() -> dict:
    """The core's subcommands, registered by the internal plugin through `register_commands`."""
    from .builtin_commands import CORE_COMMANDS

    return dict(CORE_COMMANDS)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line on `argv` (default: sys.argv[1:]) and return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    with warnings.catch_warnings():
        warnings.simplefilter("always", plugins.PluginWarning)
        warnings.showwarning = _show_plugin_warning(warnings.showwarning)
        with _interrupted_once():
            try:
                with _guarded_stdout():
                    return _run(argv)
            except SystemExit as exc:  # argparse's --help, --version and usage errors
                return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_USER_ERROR)
            except (UserInputError, PluginError, registry.UnknownNameError, registry.DuplicateNameError,
                    KernelChoiceError) as exc:
                if isinstance(exc, standard_output.StandardOutputError):
                    standard_output.abandon()  # what is still buffered can never be written
                return _report_user_error(exc)
            except KeyboardInterrupt:
                print("error: interrupted", file=sys.stderr)
                return EXIT_INTERRUPTED
            except BrokenPipeError:  # `lstmcore predict ... -o - | head`: the reader left, as with any Unix tool
                standard_output.abandon()
                return EXIT_BROKEN_PIPE


@contextlib.contextmanager
def _guarded_stdout():
    """Standard output whose write errors are one line (lstmcore.io.standard_output) while a command runs,
    flushed at its end so that a full disk or a closed pipe shows here, not at the interpreter's exit."""
    original = sys.stdout
    sys.stdout = standard_output.guarded(original)
    try:
        yield
        if sys.stdout is not None:
            sys.stdout.flush()
    finally:
        sys.stdout = original


@contextlib.contextmanager
def _interrupted_once():
    """The first Ctrl-C interrupts; later ones are ignored, so the clean-up it starts (removing a temporary
    output, closing progress bars) finishes and the user sees one line, not a traceback from inside it."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield  # not ours to change: a thread, or a program that handles SIGINT itself
        return

    def first_interrupt(signum, frame):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, first_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _run(argv: List[str]) -> int:
    from .._native import dispatch

    dispatch.active()  # a bad LSTMCORE_KERNEL is reported before any work
    early = _early_options(argv)
    for module_name in early.plugin_modules or []:
        plugins.add_plugin_module(module_name)
    if _asks_for_help(argv):
        return _print_help(argv)
    parser = build_parser()
    args, _ = parser.parse_known_args(argv)
    if getattr(args, "command", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_USER_ERROR
    command = registry.commands.get(args.command)
    task = command.task_of(args) if command.task_of is not None else None
    args = _final_parse(parser, argv, args, task)
    args.quiet = bool(getattr(args, "quiet", False))
    args.task_object = task
    return int(command.run(args) or EXIT_OK)


def _final_parse(parser: argparse.ArgumentParser, argv: List[str], first: argparse.Namespace,
                 task) -> argparse.Namespace:
    """The strict parse, with the task's own options once the task is known; what `task_of` kept on the first
    namespace (a model file it read: standard input can be read once) moves to the new one."""
    if task is not None:
        args = build_parser(task=task, task_command=first.command).parse_args(argv)
    else:
        args = parser.parse_args(argv)
    for key, value in vars(first).items():
        if not hasattr(args, key):
            setattr(args, key, value)
    return args


class OneLineParser(argparse.ArgumentParser):
    """An option the user got wrong is one line, as every other mistake is: `error: lstmcore train: argument
    --epochs: must be a positive integer ... (lstmcore train --help)`, exit status 2, without argparse's
    usage block of six to nine lines before it."""

    def error(self, message):
        self.exit(EXIT_USER_ERROR, f"error: {self.prog}: {' '.join(message.split())} ({self.prog} --help)\n")


def build_parser(task=None, task_command: Optional[str] = None,
                 parser_class: Type[argparse.ArgumentParser] = OneLineParser) -> argparse.ArgumentParser:
    """The full parser: global options, one subparser per registered command (+ a task's own options).

    Every help text ends with examples; a command that takes a task lists the
    installed tasks (and, while the task is unknown, each task's own options).
    `parser_class` lets the help probe parse without exiting on a usage error.
    """
    from .. import __version__

    parser = parser_class(prog="lstmcore", description="A fast LSTM for biological sequences: "
                          "train, evaluate and predict with task plugins.", epilog=_main_epilog(),
                          formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"lstmcore {__version__}")
    _add_global_options(parser, None)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, command, owner in registry.commands.items():
        command_task = task if name == task_command else None
        help_text = command.help if owner == plugins.CORE_PLUGIN_NAME else f"{command.help} [plugin {owner}]"
        sub = subparsers.add_parser(name, help=help_text, description=command.help,
                                    epilog=_command_epilog(name, command, command_task),
                                    formatter_class=argparse.RawDescriptionHelpFormatter)
        _add_global_options(sub, argparse.SUPPRESS)
        command.add_arguments(sub)
        if command_task is not None:
            command_task.add_arguments(sub, name)
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


# --- help: what can be done with what is installed ----------------------------------------

class _IncompleteCommandLine(Exception):
    """Raised by the help probe's parsers instead of exiting on a usage error."""


def _asks_for_help(argv: List[str]) -> bool:
    """-h or --help before any `--` (after it, they are data)."""
    for token in argv:
        if token == "--":
            return False
        if token in HELP_FLAGS:
            return True
    return False


def _print_help(argv: List[str]) -> int:
    """Print the help asked for, with the task's own options when the command line names its task."""
    command_name, task = _task_for_help(argv)
    build_parser(task=task, task_command=command_name).parse_args(argv)  # prints the help, then exits
    return EXIT_OK


def _task_for_help(argv: List[str]) -> Tuple[Optional[str], object]:
    """(command name, task or None) of a command line that asks for help.

    The real parse stops at --help, or at a missing required argument, before
    the task is known; so a lenient parse without the help flags reads what it
    can (`train motif`, `evaluate promoters.lstm`) and the command's `task_of`
    finds the task.  No task found (none named yet, no such model file) only
    means the help is the general one.
    """
    args = _parse_leniently(_without_help_flags(argv))
    name = getattr(args, "command", None)
    if name is None or name not in registry.commands:
        return None, None
    command = registry.commands.get(name)
    if command.task_of is None:
        return name, None
    try:
        return name, command.task_of(args)
    except Exception:  # help must print whatever is wrong with the rest of the command line
        return name, None


def _without_help_flags(argv: List[str]) -> List[str]:
    cut = argv.index("--") if "--" in argv else len(argv)
    return [token for token in argv[:cut] if token not in HELP_FLAGS] + argv[cut:]


def _parse_leniently(argv: List[str]) -> argparse.Namespace:
    """Everything the parsers read before a problem (a missing argument, say), merged into one namespace."""
    namespaces: List[argparse.Namespace] = []

    class RecordingParser(argparse.ArgumentParser):
        def parse_known_args(self, args=None, namespace=None):
            namespace = argparse.Namespace() if namespace is None else namespace
            namespaces.append(namespace)  # the subparsers' own namespaces too
            return super().parse_known_args(args, namespace)

        def error(self, message):
            raise _IncompleteCommandLine(message)

    try:
        build_parser(parser_class=RecordingParser).parse_known_args(argv)
    except _IncompleteCommandLine:
        pass
    merged = argparse.Namespace()
    for namespace in namespaces:
        vars(merged).update(vars(namespace))
    return merged


def _main_epilog() -> str:
    """`lstmcore --help`'s ending: the installed tasks, then examples."""
    task = _example_task_name(None)
    return "\n\n".join([_tasks_section(), EXIT_STATUS_HELP, _examples_section(
        [f"demo {task}", f"train {task} promoters.fasta -o promoters.lstm", "info promoters.lstm"])])


def _command_epilog(name: str, command, task) -> str:
    """A command's help ending: its task (or every installed task and their options), then its examples."""
    sections = []
    if command.task_of is not None and task is not None:
        sections.append(textwrap.fill(f"task {_task_name(task)}: {task.summary}".rstrip(": "), _help_width(),
                                      subsequent_indent="  "))
    elif command.task_of is not None:
        sections.append(_tasks_section())
        sections.extend(_task_options_sections(name))
    example = getattr(command, "example", "")
    if example:
        sections.append(_examples_section(example.replace("{task}", _example_task_name(task)).splitlines()))
    return "\n\n".join(sections)


def _tasks_section() -> str:
    """The installed tasks with their one-line summaries, wrapped to the terminal."""
    tasks = [(name, task.summary or "") for name, task, _ in registry.tasks.items()]
    if not tasks:
        return "installed tasks: none (install a task plugin, e.g. lstmcore-motif)"
    width = max(len(name) for name, _ in tasks)
    lines = ["installed tasks (`lstmcore plugins` shows which plugin provides each):"]
    for name, summary in tasks:
        lines.extend(textwrap.wrap(summary, _help_width(), initial_indent=f"  {name.ljust(width)}  ",
                                   subsequent_indent=" " * (width + 4)) or [f"  {name}"])
    return "\n".join(lines)


def _task_options_sections(command_name: str) -> List[str]:
    """For each installed task that adds options to `command_name`, a section listing them."""
    sections = []
    for name, task, _ in registry.tasks.items():
        options = _task_options_text(task, command_name)
        if options:
            sections.append(f"options of task {name}:\n{options}")
    if sections:
        sections.insert(0, textwrap.fill(f"each task adds its own options to `lstmcore {command_name}`; name "
                                         "the task (or a model file of it) before --help to see only its own",
                                         _help_width()))
    return sections


def _task_options_text(task, command_name: str) -> str:
    """The option lines (`  --labels SOURCE  where ...`) that `task` adds to `command_name`, or ""."""
    scratch = argparse.ArgumentParser(prog=f"lstmcore {command_name}", usage=argparse.SUPPRESS, add_help=False)
    task.add_arguments(scratch, command_name)
    text = scratch.format_help().strip("\n")
    heading, _, body = text.partition("\n")
    return body if heading.endswith(":") and not heading.startswith(" ") and body.startswith("  ") else text


def _examples_section(lines: List[str]) -> str:
    heading = "example:" if len(lines) == 1 else "examples:"
    return "\n".join([heading] + [f"  lstmcore {line}" for line in lines])


def _example_task_name(task) -> str:
    """The task the examples use: the one named, else a plugin's (what the user installed), else the core's."""
    if task is not None:
        return _task_name(task)
    candidates = sorted((owner == plugins.CORE_PLUGIN_NAME, name) for name, _, owner in registry.tasks.items())
    return candidates[0][1] if candidates else "TASK"


def _task_name(task) -> str:
    """The name `task` is registered under (what users type), falling back to its own `name`."""
    for name, component, _ in registry.tasks.items():
        if component is task:
            return name
    return task.name


def _help_width() -> int:
    """The width argparse wraps help to, so the added sections line up with it."""
    return max(40, shutil.get_terminal_size().columns - 2)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

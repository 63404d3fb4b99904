"""An lstmcore plugin: a GC-content regression task, a log-cosh loss and a `gc` command.

lstmcore finds this module through the entry point in pyproject.toml and
calls the functions marked `@lstmcore.hookimpl`; each one receives
`register(name, component)`.
"""
import lstmcore
from lstmcore.commands import Command

from .loss import LogCosh
from .task import GCContentTask, gc_fraction

__version__ = "0.1.0"


@lstmcore.hookimpl
def register_tasks(register):
    register("gc-content", GCContentTask())


@lstmcore.hookimpl
def register_losses(register):
    register("log-cosh", LogCosh)


def _gc_arguments(parser):
    parser.add_argument("fasta", nargs="+", help="FASTA files")


def _gc_run(args):
    from lstmcore.io.fasta import iter_fasta

    for path in args.fasta:
        for record in iter_fasta(path):
            print(f"{record.id}\t{gc_fraction(record.sequence):.4f}")
    return 0


@lstmcore.hookimpl
def register_commands(register):
    register("gc", Command("print the GC fraction of every record", _gc_arguments, _gc_run))

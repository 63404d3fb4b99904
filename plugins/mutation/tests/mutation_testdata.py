"""Helpers the mutation tests import (a module name of its own: `conftest` is ambiguous across test folders)."""
from lstmcore.cli import main


def run(argv, capsys):
    """The `lstmcore` command on `argv` (paths may be Path objects): (exit status, stdout, stderr)."""
    status = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def write_fasta(path, records):
    path.write_text("".join(f">{name}\n{sequence}\n" for name, sequence in records))
    return path

"""Helpers the mutation tests import (a module name of its own: `conftest` is ambiguous across test folders)."""


def write_fasta(path, records):
    path.write_text("".join(f">{name}\n{sequence}\n" for name, sequence in records))
    return path

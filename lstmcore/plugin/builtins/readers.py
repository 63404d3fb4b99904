"""The core's input readers (`lstmcore.io.readers.core_readers`), registered like a plugin's."""
from __future__ import annotations

from ..hookspecs import hookimpl


@hookimpl
def register_readers(register):
    """Register every built-in reader under its name ("fasta", "csv", ...)."""
    from lstmcore.io.readers import core_readers

    for name, reader in core_readers().items():
        register(name, reader)

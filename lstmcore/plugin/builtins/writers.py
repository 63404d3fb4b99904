"""The core's prediction writers (`lstmcore.io.writers.core_writers`), registered like a plugin's."""
from __future__ import annotations

from ..hookspecs import hookimpl


@hookimpl
def register_writers(register):
    """Register every built-in writer under its name ("tsv", "csv", ...)."""
    from lstmcore.io.writers import core_writers

    for name, writer in core_writers().items():
        register(name, writer)

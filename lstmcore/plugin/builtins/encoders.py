"""The core's sequence encoders (`lstmcore.encoders.core_encoders`), registered like a plugin's."""
from __future__ import annotations

from ..hookspecs import hookimpl


@hookimpl
def register_encoders(register):
    """Register every built-in encoder under its name ("dna", "rna", "protein", ...)."""
    from lstmcore.encoders import core_encoders

    for name, encoder in core_encoders().items():
        register(name, encoder)

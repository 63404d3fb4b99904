"""The core's optimizers (`lstmcore.optimizers.BUILTIN_OPTIMIZERS`), registered like a plugin's."""
from __future__ import annotations

from ..hookspecs import hookimpl


@hookimpl
def register_optimizers(register):
    """Register every built-in optimizer class under its name ("adam", ...)."""
    from lstmcore.optimizers import BUILTIN_OPTIMIZERS

    for name, optimizer_class in BUILTIN_OPTIMIZERS.items():
        register(name, optimizer_class)

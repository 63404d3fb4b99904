"""The core's losses (`lstmcore.losses.BUILTIN_LOSSES`), registered like a plugin's."""
from __future__ import annotations

from ..hookspecs import hookimpl


@hookimpl
def register_losses(register):
    """Register every built-in loss under its name ("mse", ...)."""
    from lstmcore.losses import BUILTIN_LOSSES

    for name, loss in BUILTIN_LOSSES.items():
        register(name, loss)

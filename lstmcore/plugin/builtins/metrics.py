"""The core's metrics (`lstmcore.metrics.BUILTIN_METRICS`), registered like a plugin's."""
from __future__ import annotations

from ..hookspecs import hookimpl


@hookimpl
def register_metrics(register):
    """Register every built-in metric under its name ("accuracy", ...)."""
    from lstmcore.metrics import BUILTIN_METRICS

    for name, metric in BUILTIN_METRICS.items():
        register(name, metric)

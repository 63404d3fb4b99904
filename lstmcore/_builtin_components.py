"""Bootstrap: fill the shared registries with the core's losses, metrics and optimizers.

A stand-in until the plugin manager registers the core's built-ins through
its internal plugin: `register_builtins()` is idempotent and is installed as
the registry loader only when no loader is set yet.
"""
from __future__ import annotations

from . import registry

_done = False


def register_builtins() -> None:
    """Register every built-in loss, metric and optimizer once (owner 'lstmcore')."""
    global _done
    if _done:
        return
    _done = True
    from .losses import BUILTIN_LOSSES
    from .metrics import BUILTIN_METRICS
    from .optimizers import BUILTIN_OPTIMIZERS

    for target, components in ((registry.losses, BUILTIN_LOSSES), (registry.metrics, BUILTIN_METRICS),
                               (registry.optimizers, BUILTIN_OPTIMIZERS)):
        for name, component in components.items():
            if name not in target._items:
                target.register(name, component, owner="lstmcore")


def install() -> None:
    """Use `register_builtins` as the registry loader unless a plugin manager already is one."""
    if registry._loader is None:
        registry.set_loader(register_builtins)


install()

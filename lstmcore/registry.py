"""Moved to lstmcore.plugin.registry; re-exported here (the very same registry objects)."""
from .plugin.registry import (  # noqa: F401
    ALL, DuplicateNameError, Registry, UnknownNameError, _ensure_loaded, resolve, set_loader,
    commands, encoders, losses, metrics, optimizers, readers, tasks, writers,
)

"""Moved to lstmcore.plugin.hookspecs (the hooks and the one table of hook kinds); re-exported here."""
from .plugin.hookspecs import (  # noqa: F401
    HOOK_KINDS, HOOK_TABLE, PROJECT_NAME, HookKind, hook_kind, hookimpl, hookspec,
    register_commands, register_encoders, register_losses, register_metrics, register_optimizers,
    register_readers, register_tasks, register_writers,
)
from .plugin.hookspecs import __all__  # noqa: F401

"""The core's own plugin: its losses, metrics, optimizers, readers, encoders, writers, task and commands.

Registered first by the plugin manager (lstmcore.plugins) under the name
"lstmcore", through the very hooks a third-party plugin implements, so the
built-in components and a plugin's live in the same registries and a name
clash between them is reported like any other.
"""
from __future__ import annotations

import importlib

from .hookspecs import hookimpl


def _builtin_table(module_name: str, attribute: str) -> dict:
    """The name -> component dict that a core module exposes (BUILTIN_LOSSES, ...)."""
    module = importlib.import_module(module_name)
    return dict(getattr(module, attribute))


def _register_all(register, components: dict) -> None:
    for name, component in components.items():
        register(name, component)


@hookimpl
def register_losses(register):
    _register_all(register, _builtin_table("lstmcore.losses", "BUILTIN_LOSSES"))


@hookimpl
def register_metrics(register):
    _register_all(register, _builtin_table("lstmcore.metrics", "BUILTIN_METRICS"))


@hookimpl
def register_optimizers(register):
    _register_all(register, _builtin_table("lstmcore.optimizers", "BUILTIN_OPTIMIZERS"))


@hookimpl
def register_readers(register):
    from .io.readers import core_readers

    _register_all(register, core_readers())


@hookimpl
def register_writers(register):
    from .io.writers import core_writers

    _register_all(register, core_writers())


@hookimpl
def register_encoders(register):
    from .encoders import core_encoders

    _register_all(register, core_encoders())


@hookimpl
def register_tasks(register):
    from .sequence_classification import SequenceClassificationTask

    register(SequenceClassificationTask.name, SequenceClassificationTask())


@hookimpl
def register_commands(register):
    from .cli import core_commands

    _register_all(register, core_commands())

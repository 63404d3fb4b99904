"""The core's own plugin, one module per feature, each implementing its feature's hook.

The plugin manager registers them first, together, as ONE plugin named
"lstmcore" (`builtin_plugin()`): pluggy holds one object per plugin name, and
"lstmcore" is the owner the registries record for every core component.
They use the very hooks a third-party plugin implements, so the core's
components and a plugin's live in the same registries and a name clash
between them is reported like any other.  A new module here with a
`@hookimpl` is picked up without being listed anywhere.
"""
from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType
from typing import Callable, Dict, List

from ..hookspecs import HOOK_KINDS, PROJECT_NAME

__all__ = ["BuiltinPlugin", "builtin_plugin", "feature_modules"]

_HOOKIMPL_MARK = PROJECT_NAME + "_impl"  # the attribute @hookimpl sets on the function it marks


def feature_modules() -> List[ModuleType]:
    """Every module of this package (but those starting with "_"), imported, in name order."""
    names = sorted(info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_"))
    return [importlib.import_module(f"{__name__}.{name}") for name in names]


def _hook_functions(module: ModuleType) -> Dict[str, Callable]:
    """The module's functions marked with @hookimpl or named like a hook.

    An unmarked or misspelled one is kept too, so that the manager refuses it
    as it would a third-party plugin's instead of it being silently left out.
    """
    return {name: value for name, value in vars(module).items()
            if not name.startswith("_") and callable(value)
            and (name in HOOK_KINDS or hasattr(value, _HOOKIMPL_MARK))}


class BuiltinPlugin:
    """The one plugin object registered as "lstmcore": the hook functions of every feature module.

    Each hook may come from one feature module only, since pluggy calls one
    function per hook and plugin.
    """

    def __init__(self, modules: List[ModuleType]):
        self.feature_modules = tuple(module.__name__ for module in modules)
        provider: Dict[str, str] = {}
        for module in modules:
            for name, function in _hook_functions(module).items():
                if name in provider:
                    raise RuntimeError(f"built-in hook {name!r} is implemented twice: "
                                       f"in {provider[name]} and in {module.__name__}")
                provider[name] = module.__name__
                setattr(self, name, function)

    def __repr__(self) -> str:  # shown by LSTMCORE_TRACE_PLUGINS
        features = ", ".join(name.rpartition(".")[2] for name in self.feature_modules)
        return f"<lstmcore built-in plugin: {features}>"


def builtin_plugin() -> BuiltinPlugin:
    """The core's plugin, made of every feature module in this package."""
    return BuiltinPlugin(feature_modules())

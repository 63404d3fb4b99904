"""The plugin manager: built-in plugins, entry points, `-p` modules, and the registries they fill.

Loading happens once, lazily, the first time a registry is read (this module
installs itself as the registry loader).  The order is:

1. the core's own plugin (`lstmcore.plugin.builtins`, one module per feature,
   registered together as the plugin "lstmcore"), which registers the core's
   losses, metrics, readers, encoders, writers, tasks and commands through the
   same hooks as everyone else;
2. every entry point in the group ``lstmcore``, each loaded on its own, so a
   plugin that fails to import (or implements a misspelled hook, or fails in
   a hook) is reported by name with its reason and the rest keep working —
   unless ``LSTMCORE_DISABLE_PLUGIN_AUTOLOAD=1``; names listed in
   ``LSTMCORE_DISABLE_PLUGINS=a,b`` are skipped;
3. modules named explicitly (the command line's ``-p module``), which must load.

A name registered twice is a `PluginError` naming both plugins.
``LSTMCORE_TRACE_PLUGINS=1`` writes every loading step and hook call to stderr.

This is the only module that calls the pluggy hooks; everything else reads
the registries in `lstmcore.plugin.registry` (also `lstmcore.registry`).
Each component is checked against the class its hook's row of
`lstmcore.plugin.hookspecs.HOOK_TABLE` names.
"""
from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import os
import sys
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional

import pluggy

from ..errors import PluginError
from . import hookspecs, registry
from .hookspecs import HOOK_KINDS, PROJECT_NAME, hook_kind

__all__ = [
    "ENTRY_POINT_GROUP", "CORE_PLUGIN_NAME", "PluginReport", "PluginWarning",
    "load_plugins", "get_plugin_manager", "add_plugin_module", "block_plugin",
    "register_plugin", "unregister_plugin", "plugin_reports", "reset", "plugin_install_hint",
]

ENTRY_POINT_GROUP = PROJECT_NAME
CORE_PLUGIN_NAME = "lstmcore"

ENV_DISABLE_AUTOLOAD = "LSTMCORE_DISABLE_PLUGIN_AUTOLOAD"
ENV_DISABLE_PLUGINS = "LSTMCORE_DISABLE_PLUGINS"
ENV_TRACE = "LSTMCORE_TRACE_PLUGINS"


class PluginWarning(UserWarning):
    """A plugin was skipped because it failed to load; the message names it and says why."""


@dataclass
class PluginReport:
    """What `lstmcore plugins` shows about one plugin."""

    name: str
    source: str  # "builtin", "entry point", "-p" or "registered"
    module: Optional[str] = None
    version: Optional[str] = None
    distribution: Optional[str] = None
    hooks: List[str] = field(default_factory=list)
    registered: Dict[str, List[str]] = field(default_factory=dict)
    error: Optional[str] = None
    disabled: bool = False

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def _env_names(name: str) -> set:
    return {part.strip() for part in os.environ.get(name, "").split(",") if part.strip()}


class _Manager:
    """One pluggy PluginManager plus what was learnt while loading it."""

    def __init__(self, autoload: Optional[bool] = None):
        self.pm = pluggy.PluginManager(PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.autoload = (not _env_flag(ENV_DISABLE_AUTOLOAD)) if autoload is None else autoload
        self.explicit: List[str] = []
        self.reports: Dict[str, PluginReport] = {}
        self.loaded = False
        self.loading = False
        self._trace = self.pm.trace.root.get("load")
        if _env_flag(ENV_TRACE):
            self.pm.trace.root.setwriter(sys.stderr.write)
            self.pm.enable_tracing()

    # -- loading ---------------------------------------------------------------------
    def load(self) -> None:
        """Register the core's plugin, then entry points, then `-p` modules; once."""
        if self.loaded or self.loading:
            return
        self.loading = True
        saved = {kind: reg.snapshot() for kind, reg in registry.ALL.items()}
        try:
            self._add_builtins()
            if self.autoload:
                self._load_entry_points()
            else:
                self._trace("entry-point autoload disabled by", ENV_DISABLE_AUTOLOAD)
            for module_name in self.explicit:
                self.add_module(module_name)
            self.pm.check_pending()
            self.loaded = True
        except BaseException:
            for kind, reg in registry.ALL.items():
                reg.restore(saved[kind])
            explicit = self.explicit
            self.__init__(self.autoload)  # a clean manager, so the next read tries again
            self.explicit = explicit
            raise
        finally:
            self.loading = False

    def _add_builtins(self) -> None:
        """Register the core's feature modules as the one plugin "lstmcore"; a failure is an error."""
        from .builtins import builtin_plugin  # at the first load, not at `import lstmcore`

        report = PluginReport(CORE_PLUGIN_NAME, "builtin", builtin_plugin.__module__, _core_version(),
                              PROJECT_NAME)
        self.add(builtin_plugin(), CORE_PLUGIN_NAME, report, strict=True)

    def _load_entry_points(self) -> None:
        disabled = _env_names(ENV_DISABLE_PLUGINS)
        for entry_point in _entry_points():
            dist = getattr(entry_point, "dist", None)
            report = PluginReport(entry_point.name, "entry point", entry_point.value,
                                  getattr(dist, "version", None), _dist_name(dist))
            if entry_point.name in disabled or self.pm.is_blocked(entry_point.name):
                report.disabled = True
                self.reports[entry_point.name] = report
                self._trace("skipped disabled plugin", entry_point.name)
                continue
            self._trace("loading entry point", entry_point.name, "=", entry_point.value)
            try:
                plugin = entry_point.load()
            except Exception as exc:  # a broken plugin must not take the others down
                self._fail(report, f"cannot be imported: {type(exc).__name__}: {exc}")
                continue
            self.add(plugin, entry_point.name, report, strict=False)

    def add_module(self, module_name: str) -> None:
        """Import `module_name` and register it as a plugin (the `-p` option); failure is an error."""
        if module_name.startswith("no:"):
            self.block(module_name[3:])
            return
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:
            raise PluginError(f"plugin module {module_name!r} (given with -p) cannot be imported: "
                              f"{type(exc).__name__}: {exc}") from exc
        if self.pm.is_registered(module):
            return
        report = PluginReport(module_name, "-p", module_name, getattr(module, "__version__", None))
        self.add(module, module_name, report, strict=True)
        if not report.hooks:      # `-p os`: imports fine, does nothing; a typo of a plugin's module, likely
            self.remove(module_name)
            raise PluginError(f"plugin module {module_name!r} (given with -p) implements no lstmcore hook "
                              "(register_tasks, register_commands, ...): it is not a plugin")

    def block(self, name: str) -> None:
        """Keep plugin `name` out (`-p no:NAME`), unregistering it if it is already in."""
        if self.pm.get_plugin(name) is not None:
            self.remove(name)
        self.pm.set_blocked(name)
        self.reports[name] = PluginReport(name, "-p", disabled=True)

    def add(self, plugin: object, name: str, report: PluginReport, *, strict: bool) -> None:
        """Register one plugin and let it fill the registries; a failure is reported (or raised if strict)."""
        problems = self._hook_problems(plugin)
        if not problems:
            try:
                self.pm.register(plugin, name=name)
            except (ValueError, pluggy.PluginValidationError) as exc:
                problems = [_clean_pluggy_message(exc)]
        if problems:
            self._fail(report, "; ".join(problems), strict=strict)
            return
        report.hooks = sorted(impl.name for impl in self.pm.get_hookcallers(plugin) or [])
        self.reports[name] = report
        try:
            self._fill(plugin, name, report)
        except registry.DuplicateNameError as exc:
            raise PluginError(f"{exc}. Uninstall one of the two, or set "
                              f"{ENV_DISABLE_PLUGINS}={name} to leave one out") from exc
        except Exception as exc:
            self.remove(name)
            self._fail(report, f"failed while registering: {type(exc).__name__}: {exc}", strict=strict)

    def _fill(self, plugin: object, name: str, report: PluginReport) -> None:
        """Call each of this plugin's hooks (only its own) with a `register` bound to its name."""
        others = [p for p in self.pm.get_plugins() if p is not plugin]
        for hook_name, kind in HOOK_KINDS.items():
            caller = self.pm.subset_hook_caller(hook_name, remove_plugins=others)
            caller(register=_RegisterCallback(kind, name, report, self._trace))

    def remove(self, name: str) -> None:
        """Unregister plugin `name` and everything it registered."""
        plugin = self.pm.get_plugin(name)
        if plugin is not None:
            self.pm.unregister(plugin)
        for reg in registry.ALL.values():
            reg.unregister_owner(name)
        self.reports.pop(name, None)

    def _fail(self, report: PluginReport, reason: str, strict: bool = False) -> None:
        if strict:
            raise PluginError(f"plugin {report.name!r}: {reason}")
        report.error = reason
        self.reports[report.name] = report
        self._trace("plugin", report.name, "failed:", reason)
        warnings.warn(f"plugin {report.name!r} was not loaded: {reason}", PluginWarning, stacklevel=2)

    def _hook_problems(self, plugin: object) -> List[str]:
        """Misspelled hook names, and hook-named functions that lack the @hookimpl marker."""
        problems = []
        for attr in dir(plugin):
            if attr.startswith("_"):
                continue
            opts = self.pm.parse_hookimpl_opts(plugin, attr)
            hook_name = (opts or {}).get("specname") or attr
            if opts is not None and hook_name not in HOOK_KINDS:
                close = difflib.get_close_matches(hook_name, list(HOOK_KINDS), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                problems.append(f"unknown hook {hook_name!r}{hint}")
            elif opts is None and attr in HOOK_KINDS and callable(getattr(plugin, attr, None)):
                problems.append(f"function {attr!r} is not marked with @lstmcore.hookimpl")
        return problems


class _RegisterCallback:
    """The `register(name, component)` a hook receives: fills one registry, owned by one plugin."""

    def __init__(self, kind: str, owner: str, report: PluginReport, trace):
        self.kind, self.owner, self.report, self.trace = kind, owner, report, trace

    def __call__(self, name: str, component: Any) -> None:
        _check_component(self.kind, name, component)
        registry.ALL[self.kind].register(name, component, owner=self.owner)
        self.report.registered.setdefault(self.kind, []).append(name)
        self.trace(self.owner, "registered", self.kind, repr(name))

    def __repr__(self) -> str:  # shown by LSTMCORE_TRACE_PLUGINS
        return f"<register {self.kind} for plugin {self.owner!r}>"


def _check_component(kind: str, name: str, component: Any) -> None:
    """Reject a component of the wrong type now, with the plugin's name, rather than at use."""
    entry = hook_kind(kind)
    expected = entry.base_class()
    if expected is not None and not isinstance(component, expected):
        public_name = entry.base.replace(":", ".")  # as users import it (lstmcore.tasks.Task)
        raise TypeError(f"{entry.label} {name!r} must be a {public_name}. "
                        f"Received: {type(component).__name__}")


def _entry_points() -> List[importlib.metadata.EntryPoint]:
    """The `lstmcore` entry points, each name once, sorted for a stable order."""
    seen = {}
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        seen.setdefault((entry_point.name, entry_point.value), entry_point)
    return sorted(seen.values(), key=lambda ep: ep.name)


def _dist_name(dist) -> Optional[str]:
    if dist is None:
        return None
    try:
        return dist.metadata["Name"]
    except Exception:  # a dist without readable metadata still loads
        return None


def _core_version() -> str:
    from .. import __version__
    return __version__


def _clean_pluggy_message(exc: Exception) -> str:
    return " ".join(str(exc).split())


# --- module-level API: one manager per process ------------------------------------------

_manager: Optional[_Manager] = None


def _current() -> _Manager:
    global _manager
    if _manager is None:
        _manager = _Manager()
    return _manager


def load_plugins() -> None:
    """Load every plugin once (the registries call this before they are first read)."""
    _current().load()


def get_plugin_manager() -> pluggy.PluginManager:
    """The loaded pluggy PluginManager (for inspection; read components through `lstmcore.registry`)."""
    load_plugins()
    return _current().pm


def add_plugin_module(module_name: str) -> None:
    """Load plugin module `module_name` explicitly, like `-p module` ("no:NAME" blocks NAME instead)."""
    manager = _current()
    if manager.loaded:
        manager.add_module(module_name)
    else:
        manager.explicit.append(module_name)


def block_plugin(name: str) -> None:
    """Keep plugin `name` out, like `-p no:NAME`."""
    add_plugin_module("no:" + name)


def register_plugin(plugin: object, name: Optional[str] = None) -> str:
    """Register `plugin` (a module or an object with hookimpls) now and fill the registries; return its name."""
    manager = _current()
    manager.load()
    name = name or getattr(plugin, "__name__", None) or f"plugin-{id(plugin):x}"
    report = PluginReport(name, "registered", getattr(plugin, "__name__", type(plugin).__name__))
    manager.add(plugin, name, report, strict=True)
    return name


def unregister_plugin(name: str) -> None:
    """Unregister plugin `name` and remove every component it registered."""
    _current().remove(name)


def plugin_reports() -> List[PluginReport]:
    """One report per plugin seen: loaded, failed or disabled."""
    load_plugins()
    return list(_current().reports.values())


def reset(autoload: Optional[bool] = None) -> pluggy.PluginManager:
    """Throw away the manager and empty the registries; the next read loads the plugins afresh."""
    global _manager
    for reg in registry.ALL.values():
        reg.restore({})
    _manager = _Manager(autoload)
    return _manager.pm


def _swap_manager(manager: Optional[_Manager]) -> Optional[_Manager]:
    """Install `manager` and return the previous one (lstmcore.plugin.testing uses this)."""
    global _manager
    previous, _manager = _manager, manager
    return previous


registry.set_loader(load_plugins)


def plugin_install_hint(record: Mapping[str, Any]) -> str:
    """What to install for the task a model file names ("" when that cannot be known).

    The distribution is the one the file recorded, else that of an installed
    entry point named like the task.  An installed distribution that still
    provides nothing failed to load or is disabled: `lstmcore plugins` says which.
    """
    distribution = _task_distribution(record)
    if distribution is None:
        return ""
    try:
        importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return f"install its plugin: pip install {distribution}"
    return (f"its plugin {distribution} is installed but did not provide it here (see `lstmcore plugins`: "
            "it may have failed to load, be disabled, or be too old)")


def _task_distribution(record: Mapping[str, Any]) -> Optional[str]:
    provider = record.get("provider")
    if isinstance(provider, dict) and provider.get("distribution"):
        return str(provider["distribution"])
    task = str(record.get("task", "")).lower()
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(entry_point, "dist", None)
        if entry_point.name.lower() == task and dist is not None:
            return dist.metadata["Name"]
    return None

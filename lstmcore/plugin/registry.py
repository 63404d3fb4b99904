"""Named components shared by the whole library: losses, metrics, readers, ...

A registry maps a name to a component and remembers which plugin registered
it, so that `compile(loss="poisson")` finds a loss that a plugin added and a
name registered twice is an error naming both plugins.  Registries are filled
by plugins (the core's own components come from its built-in plugin,
lstmcore.plugin.builtins); reading one first makes sure the plugins are loaded.
There is one registry per row of the hook table (lstmcore.plugin.hookspecs).
"""
from __future__ import annotations

from typing import Callable, Dict, Generic, Iterator, Optional, Tuple, TypeVar

from .hookspecs import HOOK_TABLE

T = TypeVar("T")

_loader: Optional[Callable[[], None]] = None


def set_loader(loader: Optional[Callable[[], None]]) -> None:
    """Install the function that loads plugins before a registry is first read."""
    global _loader
    _loader = loader


def _ensure_loaded() -> None:
    if _loader is not None:
        _loader()


class DuplicateNameError(ValueError):
    """A component name was registered by two plugins."""


class UnknownNameError(KeyError, ValueError):
    """A component name that no plugin registered."""

    def __str__(self):  # KeyError would quote the message
        return str(self.args[0])


class Registry(Generic[T]):
    """A name -> component map that records the owner of each name."""

    def __init__(self, kind: str):
        self.kind = kind
        self._items: Dict[str, Tuple[T, str]] = {}

    def register(self, name: str, component: T, owner: str = "lstmcore") -> None:
        """Add `component` under `name`; a name already taken raises DuplicateNameError."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"{self.kind} name must be a non-empty string. Received: {name!r}")
        key = name.lower()
        if key in self._items:
            previous = self._items[key][1]
            raise DuplicateNameError(
                f"{self.kind} {name!r} is registered twice: by plugin {previous!r} and by plugin {owner!r}")
        self._items[key] = (component, owner)

    def unregister_owner(self, owner: str) -> None:
        """Remove everything that `owner` registered."""
        self._items = {k: v for k, v in self._items.items() if v[1] != owner}

    def names_of(self, owner: str) -> list:
        """The names that `owner` registered, sorted (no plugin loading: used while loading)."""
        return sorted(k for k, v in self._items.items() if v[1] == owner)

    def snapshot(self) -> dict:
        """A copy of the current contents, for `restore` (tests and failed plugin loads)."""
        return dict(self._items)

    def restore(self, snapshot: dict) -> None:
        """Put back the contents saved by `snapshot`."""
        self._items = dict(snapshot)

    def get(self, name: str) -> T:
        """The component registered as `name` (case-insensitive)."""
        _ensure_loaded()
        try:
            return self._items[str(name).lower()][0]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "none"
            raise UnknownNameError(f"Unknown {self.kind} {name!r}. Known: {known}") from None

    def owner(self, name: str) -> str:
        _ensure_loaded()
        return self._items[name.lower()][1]

    def __contains__(self, name: str) -> bool:
        _ensure_loaded()
        return str(name).lower() in self._items

    def __iter__(self) -> Iterator[str]:
        _ensure_loaded()
        return iter(sorted(self._items))

    def items(self):
        _ensure_loaded()
        return [(k, v[0], v[1]) for k, v in sorted(self._items.items())]


# registry name -> registry, one per row of the hook table (lstmcore.plugin.hookspecs.HOOK_TABLE)
ALL: Dict[str, Registry] = {entry.kind: Registry(entry.label) for entry in HOOK_TABLE}
# each registry under its own name, for `lstmcore.registry.losses.get("mse")` and the like
tasks: Registry = ALL["tasks"]
readers: Registry = ALL["readers"]
encoders: Registry = ALL["encoders"]
losses: Registry = ALL["losses"]
metrics: Registry = ALL["metrics"]
optimizers: Registry = ALL["optimizers"]
writers: Registry = ALL["writers"]
commands: Registry = ALL["commands"]


def resolve(table: Registry, identifier, base: type, argument: str, example: str,
            build: Optional[Callable] = None):
    """An instance of `base` from an instance, a subclass, or a name registered in `table`.

    This is how `compile(loss=..., optimizer=..., metrics=...)` reads its
    arguments, so that a plugin's component is named like a built-in one.
    `build(found, name)` makes the instance from a registered class (default
    `found()`); the instance remembers the name it was registered under.
    """
    if isinstance(identifier, base):
        return identifier
    a_base = ("an " if base.__name__[0] in "AEIOU" else "a ") + base.__name__
    if isinstance(identifier, type) and issubclass(identifier, base):
        return identifier()
    if not isinstance(identifier, str):
        raise ValueError(f"{argument} must be {a_base} or a {table.kind} name such as "
                         f"{example!r}. Received: {argument}={identifier!r}")
    try:
        found = table.get(identifier)
    except UnknownNameError as error:
        raise ValueError(f"{argument} must be {a_base} or a known {table.kind} name "
                         f"({error}). Received: {argument}={identifier!r}") from None
    if isinstance(found, type):
        instance = build(found, identifier) if build else found()
    else:
        instance = found
    if not isinstance(instance, base):
        raise ValueError(f"The {table.kind} registered as {identifier!r} is not a "
                         f"{base.__module__}.{base.__name__}. Received: {instance!r}")
    instance.registered_name = identifier
    return instance

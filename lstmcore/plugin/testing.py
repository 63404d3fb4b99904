"""Helpers for plugin authors' tests: a plugin for the length of a test, a fresh manager, a gradient checker.

    from lstmcore.testing import registered_plugin

    def test_my_loss_is_found():
        with registered_plugin(my_plugin_module):
            assert "my-loss" in lstmcore.registry.losses

With pytest, `register_plugin` is a fixture: import it into your conftest.py
(`from lstmcore.testing import register_plugin, fresh_plugins`) and every
plugin a test registers through it is unregistered afterwards.
"""
from __future__ import annotations

import contextlib
from typing import Callable, Iterator, List, Optional

import numpy as np

from . import manager, registry

__all__ = ["registered_plugin", "fresh_plugin_manager", "numerical_gradient", "check_gradient",
           "check_loss_gradient", "register_plugin", "fresh_plugins", "kernel_variants", "using_kernel"]


def kernel_variants() -> List[str]:
    """The compiled kernel variants this machine runs (baseline, avx2, avx512, ...), widest first:
    parametrize a test over them to check a result on every variant a user's CPU might pick."""
    from .._native import dispatch

    return dispatch.supported_variants()


def using_kernel(name: str):
    """Context manager: the enclosed code runs on kernel variant `name` (one thread at a time)."""
    from .._native import dispatch

    return dispatch.using(name)


@contextlib.contextmanager
def registered_plugin(plugin: object, name: Optional[str] = None) -> Iterator[str]:
    """Register `plugin` (module or object with hookimpls) inside the block; yield its name."""
    registered = manager.register_plugin(plugin, name)
    try:
        yield registered
    finally:
        manager.unregister_plugin(registered)


@contextlib.contextmanager
def fresh_plugin_manager(*extra_plugins: object, autoload: bool = False):
    """Inside the block: a new plugin manager (core plugin + `extra_plugins`, no entry points
    unless `autoload`), with empty registries refilled from it; everything is put back afterwards."""
    saved_registries = {kind: reg.snapshot() for kind, reg in registry.ALL.items()}
    saved_manager = manager._swap_manager(None)
    try:
        plugin_manager = manager.reset(autoload=autoload)
        manager.load_plugins()
        for plugin in extra_plugins:
            manager.register_plugin(plugin)
        yield plugin_manager
    finally:
        manager._swap_manager(saved_manager)
        for kind, reg in registry.ALL.items():
            reg.restore(saved_registries[kind])


def numerical_gradient(function: Callable[[np.ndarray], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central finite differences of a scalar `function` at `x` (use float64 for accuracy)."""
    x = np.array(x, dtype=np.float64)
    gradient = np.zeros_like(x)
    flat, flat_gradient = x.reshape(-1), gradient.reshape(-1)
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + eps
        above = function(x)
        flat[i] = original - eps
        below = function(x)
        flat[i] = original
        flat_gradient[i] = (above - below) / (2 * eps)
    return gradient


def check_gradient(function: Callable[[np.ndarray], float], gradient: Callable[[np.ndarray], np.ndarray],
                   x: np.ndarray, *, eps: float = 1e-6, rtol: float = 1e-4, atol: float = 1e-6) -> None:
    """Assert that `gradient(x)` equals the finite-difference gradient of `function` at `x`."""
    expected = numerical_gradient(function, x, eps)
    actual = np.asarray(gradient(np.array(x, dtype=np.float64)), dtype=np.float64)
    if actual.shape != expected.shape:
        raise AssertionError(f"gradient has shape {actual.shape}, the input has shape {expected.shape}")
    if not np.allclose(actual, expected, rtol=rtol, atol=atol):
        worst = int(np.argmax(np.abs(actual - expected)))
        raise AssertionError(f"gradient differs from finite differences: at flat index {worst} "
                             f"analytic {actual.reshape(-1)[worst]:.8g} vs numeric {expected.reshape(-1)[worst]:.8g}")


def check_loss_gradient(loss, y_true: np.ndarray, y_pred: np.ndarray, **tolerances) -> None:
    """Assert that a Loss's `gradient` is the derivative of the sum of its `values` over y_pred."""
    y_true = np.asarray(y_true, dtype=np.float64) if np.asarray(y_true).dtype.kind == "f" else np.asarray(y_true)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    target = loss.prepare_target(y_true, y_pred.shape, np.float64)
    check_gradient(lambda p: float(np.sum(loss.values(target, p))), lambda p: loss.gradient(target, p),
                   y_pred, **tolerances)


try:  # pytest fixtures, for plugin authors who use pytest (not a dependency of lstmcore)
    import pytest
except ImportError:  # pragma: no cover
    pytest = None

if pytest is not None:

    @pytest.fixture
    def register_plugin():
        """A function `register_plugin(plugin, name=None) -> name`; all are unregistered after the test."""
        names = []

        def register(plugin: object, name: Optional[str] = None) -> str:
            names.append(manager.register_plugin(plugin, name))
            return names[-1]

        yield register
        for name in reversed(names):
            manager.unregister_plugin(name)

    @pytest.fixture
    def fresh_plugins():
        """A fresh plugin manager (core plugin only, no entry points) for the test; restored afterwards."""
        with fresh_plugin_manager() as plugin_manager:
            yield plugin_manager

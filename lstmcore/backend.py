"""The default float type and the library's random source.

float32 is the default, as in Keras; float64 exists for gradient checks.
All randomness of the library (weight initialisation, dropout masks, the
shuffling in `fit`) is drawn from one NumPy Generator, so that
`set_seed(s)` followed by the same calls on the same thread count gives the
same trained weights bit for bit.
"""
from __future__ import annotations

import random as _py_random

import numpy as np

__all__ = ["floatx", "set_floatx", "set_seed", "rng", "standardize_dtype", "clear_session", "on_clear_session"]

_FLOAT_TYPES = ("float32", "float64")
_floatx = "float32"
_generator = np.random.default_rng()


def standardize_dtype(dtype, argument="dtype"):
    """Return 'float32' or 'float64' for any spelling of them; None gives floatx()."""
    if dtype is None:
        return _floatx
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = None
    if name not in _FLOAT_TYPES:
        raise ValueError(f"{argument} must be 'float32' or 'float64'. Received: {argument}={dtype!r}")
    return name


def floatx() -> str:
    """The float type new layers and models use when none is given ('float32' by default)."""
    return _floatx


def set_floatx(dtype) -> None:
    """Set the default float type: 'float32' (default) or 'float64'."""
    global _floatx
    _floatx = standardize_dtype(dtype, "dtype")


def set_seed(seed) -> None:
    """Seed every random source the library uses, plus Python's and NumPy's global ones.

    Like `keras.utils.set_random_seed`: after `set_seed(s)`, building and
    training the same model on the same data with the same thread count gives
    bit-identical weights.
    """
    global _generator
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer. Received: seed={seed!r}")
    seed = int(seed)
    _generator = np.random.default_rng(seed)
    _py_random.seed(seed)
    np.random.seed(seed % 2**32)


def rng(seed=None) -> np.random.Generator:
    """The library's Generator, or a fresh one for an explicit `seed`."""
    if seed is not None:
        return np.random.default_rng(seed)
    return _generator


_session_state_resets = []   # what clear_session resets, registered by the modules that keep it


def on_clear_session(reset) -> None:
    """Register `reset()` to run on clear_session (the layers register their automatic names)."""
    _session_state_resets.append(reset)


def clear_session() -> None:
    """Keras's clear_session: forget the layer names given so far, so the next Dense is 'dense' again.

    lstmcore keeps no other global model state (no graph, no session) to clear.
    """
    for reset in _session_state_resets:
        reset()

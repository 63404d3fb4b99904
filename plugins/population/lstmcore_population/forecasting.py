"""Forecasting the steps after the end of a history, with intervals, in the original units.

The model is applied to the history it is given (which may be longer than its training data): the
last `lookback` points are the window.  Up to the trained horizon the forecast is direct (one output per
step); beyond it, recursive: the forecast steps are appended to the history (observed, exogenous
columns held at their last value) and the model is applied again.
"""
from __future__ import annotations

from typing import Dict

import numpy as np

from . import transforms
from .encoding import forecast_z
from .fitting import interval_bounds
from .windows import last_window, levels

__all__ = ["forecast_counts", "forecast_z_path"]


def forecast_z_path(model, inputs: np.ndarray, state: Dict, steps: int) -> np.ndarray:
    """(steps, S) forecasts in z after the end of `inputs` (T, C)."""
    series, lookback = len(state["series"]), state["lookback"]
    path = []
    while len(path) < steps:
        outputs = model.predict(last_window(inputs, lookback), verbose=0)
        level = levels(inputs, np.array([inputs.shape[0]]), series)
        z_hat = forecast_z(outputs, level, state)[0]  # (horizon, S)
        path.extend(z_hat)
        inputs = np.concatenate([inputs, _extension(inputs, z_hat, state)], axis=0)
    return np.asarray(path[:steps])


def _extension(inputs: np.ndarray, z_hat: np.ndarray, state: Dict) -> np.ndarray:
    """Input rows for forecast steps: the forecasts, flags 1 (under mask), exogenous held at the last row."""
    series = len(state["series"])
    parts = [z_hat]
    if state["missing"] == "mask":
        parts.append(np.ones_like(z_hat))
    rest = inputs[-1, series * (2 if state["missing"] == "mask" else 1):]
    parts.append(np.repeat(rest[None], z_hat.shape[0], axis=0))
    return np.concatenate(parts, axis=1)


def forecast_counts(model, inputs: np.ndarray, state: Dict, steps: int) -> np.ndarray:
    """(steps, S, 3): forecast, lower and upper bound of the interval, in counts."""
    z_hat = forecast_z_path(model, inputs, state, steps)
    lower, upper = interval_bounds(z_hat, state["interval"])
    params = state["transform"]
    return np.stack([transforms.inverse(z_hat, params), transforms.inverse(lower, params),
                     transforms.inverse(upper, params)], axis=-1)

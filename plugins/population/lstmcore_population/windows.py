"""Cutting series into (lookback -> horizon) windows, the model's examples.

A window with origin t sees input rows t - lookback .. t - 1 (every series and exogenous channel) and
targets rows t .. t + horizon - 1 of every series, flattened step-major: y[h * S + s].  With
`difference` the target is the change from the window's last value of the series, z[t + h] - z[t - 1]
(`levels` returns those last values so forecasts can add them back).  Windows whose target holds a
missing value (NaN) are dropped: nothing is trained or scored on a value that was not observed.
"""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

__all__ = ["model_inputs", "cut_windows", "last_window", "levels"]


def model_inputs(z_filled: np.ndarray, observed: Optional[np.ndarray], exog_z: Optional[np.ndarray]) -> np.ndarray:
    """(T, C) input channels: the scaled series (gaps 0), then their observed flags (mask), then exogenous."""
    parts = [np.nan_to_num(z_filled, nan=0.0)]
    if observed is not None:
        parts.append(observed.astype(np.float64))
    if exog_z is not None and exog_z.size:
        parts.append(np.nan_to_num(exog_z, nan=0.0))
    return np.concatenate(parts, axis=1)


def cut_windows(inputs: np.ndarray, targets: np.ndarray, lookback: int, horizon: int, *,
                difference: bool = False) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x (N, lookback, C), y (N, horizon * S), origins (N,)) of every complete window, in time order."""
    steps, series = targets.shape
    origins = np.arange(lookback, steps - horizon + 1)
    if origins.size == 0:
        return (np.zeros((0, lookback, inputs.shape[1])), np.zeros((0, horizon * series)),
                origins.astype(np.int64))
    x = np.stack([inputs[t - lookback:t] for t in origins])
    y = np.stack([targets[t:t + horizon] for t in origins])  # (N, horizon, S)
    if difference:
        y = y - levels(inputs, origins, series)[:, None, :]
    y = y.reshape(origins.size, horizon * series)
    keep = np.isfinite(y).all(axis=1)
    return x[keep], y[keep], origins[keep].astype(np.int64)


def levels(inputs: np.ndarray, origins: np.ndarray, series: int) -> np.ndarray:
    """(N, S) the last input value of each series before each origin (what differencing is relative to)."""
    return inputs[np.asarray(origins) - 1, :series]


def last_window(inputs: np.ndarray, lookback: int) -> np.ndarray:
    """(1, lookback, C): the window that forecasts the steps after the end of `inputs`."""
    return inputs[inputs.shape[0] - lookback:][None]

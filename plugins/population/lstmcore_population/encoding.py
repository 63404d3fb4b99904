"""From counts to the model's arrays and back, with the settings and transforms kept in the task state.

The state (JSON-able, kept in the model file) holds the series and exogenous names, the transform
parameters fitted on the training counts, the missing-value choice, lookback, horizon, differencing and
the loss.  Targets live in one of two spaces:

- loss "mse": the scaled transformed value z (or its change from the window's last value, `difference`);
- count losses ("poisson", "negative-binomial"): the count divided by the series' mean training count,
  the model's output being the log of that mean.

`forecast_z` brings a model's outputs back to z for every loss, so intervals and scores are computed
the same way whatever the loss; `transforms.inverse` then gives counts.
"""
from __future__ import annotations

from typing import Dict, Tuple

import numpy as np

from . import transforms
from .missing import fill_missing
from .windows import model_inputs

__all__ = ["COUNT_LOSSES", "series_arrays", "training_targets", "forecast_z", "channels_of"]

COUNT_LOSSES = {"poisson": "poisson_log", "negative-binomial": "negative_binomial"}


def series_arrays(data, state: Dict, choice: str = None) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(inputs (T, C), z of the observed counts (T, S, NaN elsewhere), filled counts (T, S)) of `data`."""
    choice = choice or state["missing"]
    filled, observed = fill_missing(data.values, choice, data=data, names=data.series)
    z_filled = transforms.forward(filled, state["transform"])
    z_observed = np.where(observed, z_filled, np.nan)
    exog_z = None
    if state["exog"]:
        exog_filled, _ = fill_missing(data.exog, "interpolate")
        exog_z = transforms.forward(exog_filled, state["exog_transform"])
    flags = observed if state["missing"] == "mask" else None
    return model_inputs(z_filled, flags, exog_z), z_observed, filled


def training_targets(z_observed: np.ndarray, filled: np.ndarray, state: Dict) -> np.ndarray:
    """(T, S) what the model learns to output at each time (NaN where the count was not observed)."""
    if state["loss"] in COUNT_LOSSES:
        return np.where(np.isfinite(z_observed), filled / np.asarray(state["count_scale"]), np.nan)
    return z_observed


def forecast_z(outputs: np.ndarray, levels: np.ndarray, state: Dict) -> np.ndarray:
    """(N, horizon, S) forecasts in z from the model's (N, horizon * S) outputs and the windows' levels."""
    series = len(state["series"])
    outputs = np.asarray(outputs, np.float64).reshape(outputs.shape[0], -1, series)
    if state["loss"] in COUNT_LOSSES:
        counts = np.exp(np.minimum(outputs, 30.0)) * np.asarray(state["count_scale"])
        return transforms.forward(counts.reshape(-1, series), state["transform"]).reshape(outputs.shape)
    if state["difference"]:
        return outputs + levels[:, None, :]
    return outputs


def channels_of(state: Dict) -> int:
    """Input channels: the series, their observed flags under `mask`, then the exogenous columns."""
    series = len(state["series"])
    return series * (2 if state["missing"] == "mask" else 1) + len(state["exog"])

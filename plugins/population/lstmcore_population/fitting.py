"""Training the seed ensemble, and the prediction intervals from an inner rolling-origin backtest.

Intervals: split-conformal residual quantiles.  The training windows are backtested with the toolkit's
`RollingOrigin` (expanding window, `gap = horizon - 1` so no training target overlaps a test target);
each fold trains a fresh ensemble on its past and forecasts its future.  The signed residuals
z_true - z_forecast (in the transformed, scaled space, so intervals are multiplicative on counts under
log1p) give, per step and series, the quantiles (1 - level) / 2 and (1 + level) / 2 with the
finite-sample correction ceil((n + 1) q) / n.  With fewer than `MIN_PER_SERIES` residuals per series and
step they are pooled over the series (z is standardised per series).  The coverage on the backtest of
`lstmcore evaluate` and of the evaluation script measures whether the level is honest.
"""
from __future__ import annotations

import math
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

from lstmcore import toolkit as tk

from .encoding import COUNT_LOSSES, channels_of, forecast_z
from .model import build_network

__all__ = ["train_ensemble", "ensemble_outputs", "calibrate", "interval_bounds", "MIN_PER_SERIES"]

MIN_PER_SERIES = 20


def _loss_of(state: Dict, hyperparameters: Dict):
    from .losses import NegativeBinomialLog

    if state["loss"] == "negative-binomial":
        return NegativeBinomialLog(float(hyperparameters["dispersion"]))
    return COUNT_LOSSES.get(state["loss"], "mse")


def build_member(state: Dict, hyperparameters: Dict, units: Optional[int] = None):
    """One member network (or, with `units`, the wide model the ensemble is folded into)."""
    outputs = state["horizon"] * len(state["series"])
    return build_network(channels_of(state), outputs, units or int(hyperparameters["units"]),
                         loss=_loss_of(state, hyperparameters), learning_rate=float(hyperparameters["learning_rate"]),
                         dropout=float(hyperparameters["dropout"]))


def train_ensemble(x: np.ndarray, y: np.ndarray, state: Dict, hyperparameters: Dict, *, epochs: int,
                   batch_size: int, verbose: int = 0, validation: Optional[Tuple] = None,
                   tick: Optional[Callable[[], None]] = None) -> Tuple[List, object]:
    """`members` networks trained on the same windows from successive draws of the library's generator
    (`tick` is called after each, for a progress bar)."""
    members, history = [], None
    extra = {"validation_data": validation} if validation is not None and len(validation[0]) else {}
    for _ in range(int(hyperparameters["members"])):
        member = build_member(state, hyperparameters)
        history = member.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=verbose, shuffle=True, **extra)
        members.append(member)
        if tick is not None:
            tick()
    return members, history


def ensemble_outputs(members: List, x: np.ndarray) -> np.ndarray:
    """The members' mean output, (N, horizon * S)."""
    return np.mean([member.predict(x, batch_size=256, verbose=0) for member in members], axis=0)


def calibration_plan(windows: int, horizon: int, folds: int, share: float) -> Tuple[int, int]:
    """(folds, windows per fold) of the inner backtest: about `share` of the windows tested, at least
    `windows / 2` left to train the first fold; (0, 0) when there are too few windows."""
    tested = max(1, int(round(windows * share)))
    folds = max(1, min(folds, tested))
    size = max(1, tested // folds)
    while folds > 0 and windows - folds * size - (horizon - 1) < max(4, windows // 2):
        folds -= 1
    return (folds, size) if folds > 0 else (0, 0)


def calibrate(encoded, state: Dict, hyperparameters: Dict, *, epochs: int, batch_size: int,
              tick: Optional[Callable[[], None]] = None) -> Dict:
    """Residuals of an inner rolling-origin backtest over `encoded`'s windows -> interval quantiles."""
    horizon = state["horizon"]
    folds, size = calibration_plan(len(encoded.x), horizon, int(hyperparameters["calibration_folds"]),
                                   float(hyperparameters["calibration_share"]))
    if folds == 0:
        return {"level": float(hyperparameters["interval"]), "residuals": 0, "lower": None, "upper": None,
                "forecasts": []}
    residuals, forecasts = [], []
    for train, test in tk.RollingOrigin(folds, size, horizon - 1).split(len(encoded.x)):
        members, _ = train_ensemble(encoded.x[train], encoded.y[train], state, hyperparameters, epochs=epochs,
                                    batch_size=batch_size, tick=tick)
        z_hat = forecast_z(ensemble_outputs(members, encoded.x[test]), encoded.levels[test], state)
        residuals.append(encoded.z_true[test] - z_hat)
        forecasts.extend(zip(encoded.origins[test].tolist(), z_hat[:, 0, :].tolist()))
    interval = residual_quantiles(np.concatenate(residuals), float(hyperparameters["interval"]))
    interval["forecasts"] = forecasts
    return interval


def residual_quantiles(residuals: np.ndarray, level: float) -> Dict:
    """{"lower", "upper"}: (horizon, S) quantiles of (N, horizon, S) residuals at the central `level`."""
    steps, series = residuals.shape[1:]
    lower, upper = np.zeros((steps, series)), np.zeros((steps, series))
    for h in range(steps):
        pooled = residuals[:, h, :][np.isfinite(residuals[:, h, :])]
        for s in range(series):
            own = residuals[:, h, s][np.isfinite(residuals[:, h, s])]
            sample = own if own.size >= MIN_PER_SERIES else pooled
            lower[h, s], upper[h, s] = _conformal_pair(sample, level)
    return {"level": level, "residuals": int(np.isfinite(residuals).sum()), "lower": lower.tolist(),
            "upper": upper.tolist()}


def _conformal_pair(sample: np.ndarray, level: float) -> Tuple[float, float]:
    """The order statistics k_lo = floor((n + 1) tail) and k_hi = ceil((n + 1) (1 - tail)) of the sorted
    residuals (1-based, kept within 1..n), tail = (1 - level) / 2: split conformal's finite-sample rule."""
    n = sample.size
    if n == 0:
        return -np.inf, np.inf
    ordered = np.sort(sample)
    tail = (1.0 - level) / 2.0
    k_low = min(n, max(1, math.floor((n + 1) * tail)))
    k_high = min(n, max(1, math.ceil((n + 1) * (1.0 - tail))))
    return float(ordered[k_low - 1]), float(ordered[k_high - 1])


def interval_bounds(z_hat: np.ndarray, interval: Dict) -> Tuple[np.ndarray, np.ndarray]:
    """(lower, upper) in z for forecasts (steps, S); steps past the calibrated horizon widen as sqrt(step)."""
    steps, series = z_hat.shape
    if interval.get("lower") is None:
        return np.full_like(z_hat, -np.inf), np.full_like(z_hat, np.inf)
    lower, upper = np.asarray(interval["lower"]), np.asarray(interval["upper"])
    calibrated = lower.shape[0]
    rows = np.minimum(np.arange(steps), calibrated - 1)
    widen = np.sqrt(np.maximum(1.0, (np.arange(steps) + 1) / calibrated))[:, None]
    return z_hat + lower[rows] * widen, z_hat + upper[rows] * widen

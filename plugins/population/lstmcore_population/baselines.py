"""The baselines ecologists use, from statsmodels (none written by hand), fitted on the same folds.

| name | model | on |
|---|---|---|
| naive | ARIMA(0,1,0): the last value | counts |
| seasonal_naive | SARIMAX (0,0,0)x(0,1,0,s): the value one season back; s given or the ACF's cycle (`find_season`) | counts |
| ar2 | AutoReg(2), OLS, constant: the data README's AR(2) | log counts (log1p with zeros) |
| ar_aic | AutoReg(p), p by AIC (`ar_select_order`) | log1p counts |
| arima | ARIMA(p,d,q), p <= 2, d <= 1, q <= 1, the lowest AIC | log1p counts |
| ets | state-space exponential smoothing, no trend or damped trend, the lower AIC | log1p counts |

Forecasts on log scales are back-transformed (the median), intervals from statsmodels' prediction
intervals at the same level as the model's.  Gaps are interpolated for the baselines.
"""
from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass
from typing import Callable, Optional, Tuple

import numpy as np

__all__ = ["BASELINES", "fit_baseline", "baseline_forecast", "baseline_one_step", "find_season"]

BASELINES = ("naive", "seasonal_naive", "ar2", "ar_aic", "arima", "ets")


@dataclass
class FittedBaseline:
    """A statsmodels results object and the scale it works on ("raw", "log" or "log1p")."""

    name: str
    results: object
    scale: str
    length: int


def _to_scale(values: np.ndarray, scale: str) -> np.ndarray:
    return {"raw": lambda v: v, "log": np.log, "log1p": np.log1p}[scale](np.asarray(values, np.float64))


def _from_scale(values: np.ndarray, scale: str) -> np.ndarray:
    back = {"raw": lambda v: v, "log": np.exp, "log1p": np.expm1}[scale](np.asarray(values, np.float64))
    return np.maximum(back, 0.0)


def find_season(train: np.ndarray, given: Optional[int] = None) -> Optional[int]:
    """`given`, else the cycle length in the autocorrelation of log1p counts: the lag of its highest peak
    after its first negative value (a cycle, not the slow decay of a persistent series), up to n / 2;
    None when there is no such peak above 0.1."""
    from statsmodels.tsa.stattools import acf

    if given:
        return int(given) if train.size > given + 1 else None
    limit = train.size // 2
    if limit < 3 or np.ptp(train) == 0:
        return None
    correlations = acf(np.log1p(train), nlags=limit, fft=True)
    negative = np.flatnonzero(correlations < 0)
    if negative.size == 0 or negative[0] >= limit:
        return None
    lag = int(negative[0] + np.argmax(correlations[negative[0]:limit + 1]))
    return lag if correlations[lag] > 0.1 else None


def _makers(season: Optional[int]) -> dict:
    from statsmodels.tsa.ar_model import AutoReg, ar_select_order
    from statsmodels.tsa.arima.model import ARIMA
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    def ar_aic(y):
        lags = ar_select_order(y, maxlag=max(1, min(12, y.size // 4)), ic="aic", trend="c").ar_lags
        return AutoReg(y, lags=lags if lags else 0, trend="c").fit()

    return {
        "naive": ("raw", lambda y: ARIMA(y, order=(0, 1, 0)).fit()),
        "seasonal_naive": ("raw", lambda y: SARIMAX(y, order=(0, 0, 0), seasonal_order=(0, 1, 0, season)).fit(
            disp=False) if season else None),
        "ar2": ("log", lambda y: AutoReg(y, 2, trend="c").fit()),
        "ar_aic": ("log1p", ar_aic),
        "arima": ("log1p", _best_arima),
        "ets": ("log1p", _best_ets),
    }


def _best_arima(y):
    from statsmodels.tsa.arima.model import ARIMA

    best = None
    for p, d, q in itertools.product(range(3), range(2), range(2)):
        try:
            fitted = ARIMA(y, order=(p, d, q), trend="c" if d == 0 else "n").fit()
        except (ValueError, np.linalg.LinAlgError):
            continue
        if np.isfinite(fitted.aic) and (best is None or fitted.aic < best.aic):
            best = fitted
    return best


def _best_ets(y):
    from statsmodels.tsa.statespace.exponential_smoothing import ExponentialSmoothing

    candidates = [ExponentialSmoothing(y).fit(disp=False),
                  ExponentialSmoothing(y, trend=True, damped_trend=True).fit(disp=False)]
    return min(candidates, key=lambda fitted: fitted.aic if np.isfinite(fitted.aic) else np.inf)


def fit_baseline(name: str, train: np.ndarray, season: Optional[int] = None) -> Optional[FittedBaseline]:
    """Fit baseline `name` on the training counts (gaps interpolated); None when it cannot be fitted."""
    scale, make = _makers(season)[name]
    if scale == "log" and np.any(train <= 0):
        scale = "log1p"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            results = make(_to_scale(train, scale))
        except (ValueError, np.linalg.LinAlgError, IndexError):
            return None
    return None if results is None else FittedBaseline(name, results, scale, train.size)


def _prediction(results, start: int, end: int, level: float) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    prediction = results.get_prediction(start=start, end=end)
    mean = np.asarray(prediction.predicted_mean, np.float64)
    bounds = np.asarray(prediction.conf_int(alpha=1.0 - level), np.float64)
    return mean, bounds[:, 0], bounds[:, 1]


def baseline_forecast(fitted: FittedBaseline, steps: int, level: float):
    """(forecast, lower, upper) counts for the `steps` points after the training part."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parts = _prediction(fitted.results, fitted.length, fitted.length + steps - 1, level)
    return tuple(_from_scale(part, fitted.scale) for part in parts)


def baseline_one_step(fitted: FittedBaseline, series: np.ndarray, level: float):
    """(forecast, lower, upper) counts of one-step forecasts of series[length:], each from the true past,
    with the parameters fitted on the training part (statsmodels' `apply`, no refit)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        applied = fitted.results.apply(_to_scale(series, fitted.scale))
        parts = _prediction(applied, fitted.length, series.size - 1, level)
    return tuple(_from_scale(part, fitted.scale) for part in parts)

"""The settings a user who gives only a file gets, chosen from the training data and kept in the model.

- lookback (`--lookback`, else automatic): the largest autoregressive order that AIC picks on log1p
  counts (statsmodels `ar_select_order`, at most a quarter of the series), at least 2 and at most 24
  points, and never so long that fewer than 8 windows remain.  Longer windows overfit the short series
  of the evaluation (mink 1850-1899: RMSE 1.3e4 at lookback 2, 1.6e4 at 4, 3.3e4 at 6).  A series
  long enough to hold 8 of its cycles (the autocorrelation's, `baselines.find_season`) gets a whole
  cycle in the window (blowflies: a 19-step cycle, lookback 19; RMSE 1593 at lookback 20, 1653 at 7).
  Under `--missing mask` the lookback is chosen on the series with its gaps interpolated (AIC and the
  autocorrelation need a gap-free series); the model itself still sees the gaps masked.
- horizon (`--horizon`, else automatic): the series' length / 12, between 1 and 5 steps.
- transform, differencing, loss: the hyper-parameters (`--config`): log1p, off, mse by default.
"""
from __future__ import annotations

import warnings
from typing import Dict, Optional

import numpy as np

from lstmcore.toolkit import UserInputError

__all__ = ["choose_lookback", "choose_horizon", "MIN_WINDOWS"]

MIN_WINDOWS = 8


def choose_horizon(length: int, given: Optional[int]) -> int:
    if given:
        return int(given)
    return int(np.clip(length // 12, 1, 5))


def choose_lookback(filled: np.ndarray, horizon: int, given: Optional[int], path=None) -> int:
    """The lookback given, or the automatic one (see the module's docstring)."""
    length = filled.shape[0]
    if given:
        lookback = int(given)
        if length - lookback - horizon + 1 < 1:
            raise UserInputError(f"has {length} time points: too few for lookback {lookback} and horizon "
                                 f"{horizon} (lookback + horizon must not exceed the series' length)", file=path)
        return lookback
    from .baselines import find_season

    if not np.isfinite(filled).all():  # --missing mask keeps its gaps: the order is chosen on them interpolated
        from .missing import fill_missing

        filled, _ = fill_missing(filled, "interpolate")
    order = max(_aic_order(np.log1p(filled[:, s])) for s in range(filled.shape[1]))
    cycles = [find_season(filled[:, s]) for s in range(filled.shape[1])]
    whole = max([c for c in cycles if c is not None and length >= 8 * c] or [0])
    room = length - horizon + 1 - MIN_WINDOWS
    lookback = int(np.clip(max(order, whole), 2, 24))
    if room < 2:
        raise UserInputError(f"has {length} time points: too few for horizon {horizon} "
                             f"(at least {horizon + MIN_WINDOWS + 1} are needed)", file=path)
    return int(min(lookback, room))


def _aic_order(series: np.ndarray) -> int:
    """The AR order AIC picks (0 for a flat or very short series)."""
    from statsmodels.tsa.ar_model import ar_select_order

    maxlag = max(1, min(12, series.size // 4))
    if series.size < 8 or np.ptp(series) == 0:
        return 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lags = ar_select_order(series, maxlag=maxlag, ic="aic", trend="c").ar_lags
    return int(max(lags)) if lags is not None and len(lags) else 1


def describe(state: Dict) -> str:
    """One line: what the model was set up with."""
    exog = f", exogenous {', '.join(state['exog'])}" if state["exog"] else ""
    return (f"population: series {', '.join(state['series'])}{exog}; lookback {state['lookback']} "
            f"({state['lookback_source']}), horizon {state['horizon']} ({state['horizon_source']}), "
            f"transform {state['transform']['kind']} + scaling per series, differencing "
            f"{'on' if state['difference'] else 'off'}, missing values: {state['missing']}, loss {state['loss']}")

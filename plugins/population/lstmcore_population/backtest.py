"""Backtests of the population model beside the statsmodels baselines, on the same folds.

Two protocols, both split by the toolkit's `RollingOrigin` over the time points:

- rolling (`lstmcore evaluate`, default): `folds` origins at the end of the series, each fold retraining
  everything (transforms, ensemble, intervals, baselines) on the points before its origin only, then
  forecasting `horizon` steps;
- one-step (`--one-step K`, the data README's protocol): one fold whose test part is the last K points;
  models are trained once on the rest, then each test point is forecast one step ahead from the true
  history before it (the baselines through statsmodels' `apply`, without refitting).

Nothing a fold trains on comes from at or after its origin: `CountData.head(origin)` is all it is given.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np

from lstmcore import toolkit as tk

from .baselines import BASELINES, baseline_forecast, baseline_one_step, find_season, fit_baseline
from .encoding import series_arrays
from .forecasting import forecast_counts
from .missing import fill_missing
from .reader import align

__all__ = ["Forecasts", "rolling_backtest", "one_step_backtest", "score_forecasts", "evaluate_report",
           "train_fold_model"]


@dataclass
class Forecasts:
    """Per method and series: the test points' actual values, forecasts and interval bounds."""

    actual: Dict[str, List[float]] = field(default_factory=dict)
    times: List[str] = field(default_factory=list)
    by_method: Dict[str, Dict[str, Dict[str, List[float]]]] = field(default_factory=dict)
    history: Dict[str, np.ndarray] = field(default_factory=dict)

    def add(self, method: str, series: str, forecast, lower, upper) -> None:
        record = self.by_method.setdefault(method, {}).setdefault(series, {"forecast": [], "lower": [], "upper": []})
        record["forecast"].extend(np.ravel(forecast).tolist())
        record["lower"].extend(np.ravel(lower).tolist())
        record["upper"].extend(np.ravel(upper).tolist())


def train_fold_model(task, history, model_state: Dict, hyperparameters: Dict, seed: int):
    """(model, state) trained on `history` only, with the model's lookback, horizon and choices."""
    from lstmcore.backend import set_seed

    set_seed(seed)
    state = task.settings_for(history, hyperparameters, fixed=model_state)
    encoded = task.encode(history, state, labelled=True)
    model = task.build_model(state, hyperparameters)
    epochs, batch_size = task.training_schedule(hyperparameters)
    task.fit(model, encoded, epochs=epochs, batch_size=batch_size, validation_split=0.0, verbose=0,
             hyperparameters=hyperparameters)
    return model, state


def _fixed_settings(state: Dict) -> Dict:
    keys = ("lookback", "horizon", "missing", "lookback_source", "horizon_source")
    return {key: state[key] for key in keys if key in state}


def rolling_backtest(task, data, model_state: Dict, hyperparameters: Dict, *, folds: int, horizon: int,
                     season: Optional[int] = None, seed: int = 0, progress: bool = False,
                     baselines=BASELINES) -> Forecasts:
    """Refit-per-fold forecasts of `horizon` steps from each of `folds` origins."""
    splits = tk.RollingOrigin(folds, horizon).split(len(data))
    result = _new_result(data, splits[0][1][0])
    level = float(hyperparameters["interval"])
    for train, test in tk.progress_bar(splits, desc="backtest", unit="fold", disable=not progress, leave=False):
        history = data.head(int(test[0]))
        model, state = train_fold_model(task, history, _fixed_settings(model_state), hyperparameters, seed)
        inputs, _, _ = series_arrays(history, state)
        counts = forecast_counts(model, inputs, state, test.size)
        _record_actual(result, data, test)
        for s, name in enumerate(data.series):
            result.add("lstm", name, counts[:, s, 0], counts[:, s, 1], counts[:, s, 2])
        _baseline_folds(result, history, test.size, level, season, baselines)
    return result


def one_step_backtest(task, data, model_state: Dict, hyperparameters: Dict, *, test: int,
                      season: Optional[int] = None, seed: int = 0, baselines=BASELINES) -> Forecasts:
    """Train once on all but the last `test` points, then forecast each test point from its true past."""
    [(train, test_index)] = tk.RollingOrigin(1, test).split(len(data))
    origin = int(test_index[0])
    history = data.head(origin)
    result = _new_result(data, origin)
    model, state = train_fold_model(task, history, _fixed_settings(model_state), hyperparameters, seed)
    for t in test_index:
        inputs, _, _ = series_arrays(data.head(int(t)), state)
        counts = forecast_counts(model, inputs, state, 1)
        for s, name in enumerate(data.series):
            result.add("lstm", name, counts[:, s, 0], counts[:, s, 1], counts[:, s, 2])
    _record_actual(result, data, test_index)
    level = float(hyperparameters["interval"])
    filled, _ = fill_missing(data.values, "interpolate")
    for s, name in enumerate(data.series):
        train_part = filled[:origin, s]
        for method in baselines:
            fitted = fit_baseline(method, train_part, find_season(train_part, season))
            if fitted is not None:
                result.add(method, name, *baseline_one_step(fitted, filled[:, s], level))
    return result


def _new_result(data, first_test: int) -> Forecasts:
    filled, _ = fill_missing(data.values, "interpolate")
    return Forecasts(actual={name: [] for name in data.series},
                     history={name: filled[:first_test, s] for s, name in enumerate(data.series)})


def _record_actual(result: Forecasts, data, test: np.ndarray) -> None:
    result.times.extend(data.times[int(t)] for t in test)
    for s, name in enumerate(data.series):
        result.actual[name].extend(data.values[test, s].tolist())


def _baseline_folds(result: Forecasts, history, steps: int, level: float, season, baselines) -> None:
    filled, _ = fill_missing(history.values, "interpolate")
    for s, name in enumerate(history.series):
        for method in baselines:
            fitted = fit_baseline(method, filled[:, s], find_season(filled[:, s], season))
            if fitted is not None:
                result.add(method, name, *baseline_forecast(fitted, steps, level))
            else:
                result.add(method, name, [np.nan] * steps, [np.nan] * steps, [np.nan] * steps)


def score_forecasts(result: Forecasts) -> Dict[str, Dict[str, Dict[str, float]]]:
    """{method: {series: regression_scores}} over the observed test points (a gap is not scored)."""
    scores: Dict[str, Dict[str, Dict[str, float]]] = {}
    for method, per_series in result.by_method.items():
        for name, record in per_series.items():
            actual = np.asarray(result.actual[name], np.float64)
            forecast = np.asarray(record["forecast"], np.float64)
            if forecast.size != actual.size:
                continue
            keep = np.isfinite(actual) & np.isfinite(forecast)
            if not keep.any():
                continue
            lower, upper = np.asarray(record["lower"])[keep], np.asarray(record["upper"])[keep]
            scores.setdefault(method, {})[name] = tk.regression_scores(
                actual[keep], forecast[keep], history=result.history[name], lower=lower, upper=upper)
    return scores


def _check_length(data, state: Dict, tested: int, what: str, remedy: str) -> None:
    """The backtest's `tested` points plus, before the first of them, one training window of the model's
    lookback + horizon: fewer time points is the user's choice of folds / horizon / --one-step to change."""
    needed = tested + int(state["lookback"]) + int(state["horizon"])
    if len(data) < needed:
        raise tk.UserInputError(f"has {len(data)} time points: {what} needs at least {needed} ({tested} to test, "
                                f"after one training window of the model's lookback {state['lookback']} + horizon "
                                f"{state['horizon']}); {remedy}, or give a longer series", file=data.path)


def evaluate_report(task, data, state: Dict, options: Dict, hyperparameters: Dict) -> Dict[str, float]:
    """`lstmcore evaluate`: the backtest's scores, flattened to `METHOD/SERIES/SCORE` -> value."""
    data = align(data, state)
    if options.get("one_step"):
        test = int(options["one_step"])
        _check_length(data, state, test, f"--one-step {test}", "use a smaller --one-step")
        result = one_step_backtest(task, data, state, hyperparameters, test=test, season=options.get("season"))
    else:
        folds, horizon = int(options.get("folds") or 5), int(options.get("horizon") or state["horizon"])
        _check_length(data, state, folds * horizon, f"a rolling origin of {folds} folds x horizon {horizon}",
                      "use fewer --folds or a shorter --horizon")
        result = rolling_backtest(task, data, state, hyperparameters, folds=folds, horizon=horizon,
                                  season=options.get("season"), progress=options.get("quiet") is False)
    report = {}
    for method, per_series in score_forecasts(result).items():
        for name, scores in per_series.items():
            for score, value in scores.items():
                report[f"{method}/{name}/{score}"] = value
    return report

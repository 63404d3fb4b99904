"""`PopulationTask.fit`: the time-ordered validation split, the interval calibration, the final ensemble.

1. `validation_split` (the core's time-ordered holdout: the last part of the windows) is held out of
   everything below and only reported (`History.history["val_loss"]`);
2. the intervals are calibrated by an inner rolling-origin backtest over the remaining windows
   (`fitting.calibrate`), recorded in the task state that the model file keeps, with the backtest's
   one-step forecasts and their error beside the naive forecast's (printed unless -q);
3. the ensemble is trained on all remaining windows and folded into `model`.
"""
from __future__ import annotations

import sys
from typing import Dict

import numpy as np

from lstmcore import toolkit as tk

from . import transforms
from .fitting import calibrate, calibration_plan, train_ensemble
from .model import merge_members
from .settings import describe

__all__ = ["fit_population_model"]


def fit_population_model(task, model, encoded, *, epochs: int, batch_size: int, validation_split: float,
                         verbose: int, hyperparameters: Dict):
    state = encoded.state
    if verbose and not encoded.quiet:
        print(describe(state), file=sys.stderr)
    train_index, held_index = task.validation_split(encoded, validation_split)
    fitted, held = encoded.subset(train_index), encoded.subset(held_index)
    if len(fitted.x) == 0:
        from lstmcore.toolkit import UserInputError

        raise UserInputError("leaves no complete window (lookback + horizon) with observed targets to train on")
    with _progress(len(fitted.x), state, hyperparameters, show=bool(verbose) and not encoded.quiet) as bar:
        state["interval"] = calibrate(fitted, state, hyperparameters, epochs=epochs, batch_size=batch_size,
                                      tick=lambda: bar.update(1))
        members, history = train_ensemble(fitted.x, fitted.y, state, hyperparameters, epochs=epochs,
                                          batch_size=batch_size, validation=(held.x, held.y),
                                          tick=lambda: bar.update(1))
    merge_members(members, model)
    state["training_backtest"] = backtest_summary(encoded, state)
    state["interval"].pop("forecasts", None)  # kept once, in counts, in training_backtest["one_step"]
    if verbose and not encoded.quiet:
        print(state["training_backtest"]["line"], file=sys.stderr)
    return history


def _progress(windows: int, state: Dict, hyperparameters: Dict, *, show: bool):
    """A bar over the networks to train: the inner backtest's folds, then the final ensemble."""
    folds, _ = calibration_plan(windows, state["horizon"], int(hyperparameters["calibration_folds"]),
                                float(hyperparameters["calibration_share"]))
    return tk.progress_bar(total=(folds + 1) * int(hyperparameters["members"]), desc="population: training",
                           unit="net", disable=not show, leave=False)


def backtest_summary(encoded, state: Dict) -> Dict:
    """The inner backtest's one-step RMSE in counts beside the naive forecast's, per series."""
    forecasts = state["interval"].get("forecasts") or []
    if not forecasts:
        return {"line": "population: too few windows for an inner backtest; intervals are unbounded", "rmse": {}}
    origins = np.array([origin for origin, _ in forecasts])
    z_hat = np.array([values for _, values in forecasts])
    z_true = encoded.inputs[origins, :len(state["series"])]
    observed = _observed_at(encoded, origins)
    actual = transforms.inverse(z_true, state["transform"])
    model = transforms.inverse(z_hat, state["transform"])
    naive = transforms.inverse(encoded.inputs[origins - 1, :len(state["series"])], state["transform"])
    rmse, parts = {}, []
    for s, name in enumerate(state["series"]):
        keep = observed[:, s]
        ours = float(np.sqrt(np.mean((model[keep, s] - actual[keep, s]) ** 2))) if keep.any() else float("nan")
        theirs = float(np.sqrt(np.mean((naive[keep, s] - actual[keep, s]) ** 2))) if keep.any() else float("nan")
        rmse[name] = {"lstm": ours, "naive": theirs}
        parts.append(f"{name} RMSE {ours:.4g} (naive {theirs:.4g})")
    level = state["interval"]["level"]
    one_step = {"times": [encoded.times[o] for o in origins.tolist()], "forecast": model.tolist()}
    return {"rmse": rmse, "one_step": one_step, "line": f"population: inner backtest, {len(origins)} one-step forecasts: "
                                  f"{'; '.join(parts)}; {level:.0%} intervals from "
                                  f"{state['interval']['residuals']} residuals"}


def _observed_at(encoded, origins: np.ndarray) -> np.ndarray:
    """Which series were observed at each origin (z_true of the first step is NaN where not)."""
    first = {int(o): np.isfinite(z[0]) for o, z in zip(encoded.origins, encoded.z_true)}
    return np.array([first[int(o)] for o in origins])

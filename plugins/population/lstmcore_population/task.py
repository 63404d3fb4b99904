"""The `population` task: counts of one or several species over time -> forecasts with intervals.

One model for all series of a file: each species is an input channel and every series' next
`horizon` values are outputs, so the predator's past informs the prey's forecast.  Training
(`lstmcore train population COUNTS.csv -o M.lstm`) chooses and prints lookback, horizon and
transforms (settings.py), fits the transforms on the training file only, trains a seed ensemble folded
into one model (model.py), and backtests it on its own training windows to calibrate the intervals
(fitting.py).  `predict` forecasts after the end of the history it is given, `evaluate` runs a
rolling-origin backtest beside statsmodels' baselines (backtest.py, baselines.py).

Examples are windows in time order (`time_ordered = True`, `Encoded.groups` = 0: the series of one
file form one multichannel series), so a validation split holds out the end.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Mapping, Optional

import numpy as np

from lstmcore import toolkit as tk
from lstmcore.toolkit import Encoded, UserInputError

from . import transforms
from .encoding import COUNT_LOSSES, series_arrays, training_targets
from .missing import DEFAULT_MISSING, MISSING_CHOICES, check_missing_choice
from .reader import CountData, align, read_counts
from .settings import choose_horizon, choose_lookback
from .windows import cut_windows, levels

__all__ = ["PopulationTask", "SeriesEncoded"]


@dataclass
class SeriesEncoded(Encoded):
    """Windows plus what forecasts need: origins, the levels before them, z of their observed targets,
    the whole input history (for predict), the task state (fit records the intervals there)."""

    origins: Optional[np.ndarray] = None
    levels: Optional[np.ndarray] = None
    z_true: Optional[np.ndarray] = None
    inputs: Optional[np.ndarray] = None
    state: Optional[Dict] = None
    steps: int = 0
    quiet: bool = False
    times: Optional[list] = None

    def subset(self, index: np.ndarray) -> "SeriesEncoded":
        part = super().subset(index)
        for name in ("origins", "levels", "z_true"):
            if getattr(self, name) is not None:
                setattr(part, name, getattr(self, name)[index])
        return part


class PopulationTask(tk.Task):
    """Forecast animal counts (yearly or weekly, one or several species) with honest intervals."""

    name = "population"
    summary = ("counts over time (CSV/TSV, wide or long; predator and prey together) -> LSTM ensemble "
               "forecasts with intervals, backtested beside statsmodels' naive/AR/ARIMA/ETS")
    time_ordered = True
    hyperparameters = {
        "transform": "log1p",        # "log1p", "boxcox" or "none"; then scaling per series
        "difference": True,          # predict the change from the window's last value (naive = 0)
        "loss": "mse",               # "mse", "poisson" or "negative-binomial" (on counts / mean count)
        "dispersion": 10.0,          # the negative binomial's r (variance mu + mu^2 / r)
        "units": 8,                  # per member; small: 15-60 training points (evaluation/RESULTS.md)
        "members": 5,                # seeds in the ensemble (folded into one model)
        "dropout": 0.0,
        "learning_rate": 0.01,
        "epochs": 50,                # longer overfits the short series (mink: RMSE 1.03e4 -> 1.22e4 at 150)
        "batch_size": 16,
        "interval": 0.8,             # central level of lower/upper
        "calibration_folds": 5,      # inner rolling-origin folds for the intervals
        "calibration_share": 0.3,    # share of the training windows they test
    }
    demo_hyperparameters = {"members": 3}
    demo_epochs = 50

    # --- the command line --------------------------------------------------------------
    def add_arguments(self, parser, command: str) -> None:
        from .cli_options import add_population_arguments

        add_population_arguments(parser, command)

    # --- reader ------------------------------------------------------------------------
    def read(self, paths, options, *, labelled: bool) -> CountData:
        paths = tk.require_files(paths)
        if len(paths) != 1:
            raise UserInputError(f"give one count table (several series go in its columns); received {len(paths)} "
                                 f"files", file=paths[1])
        if options.get("missing"):
            check_missing_choice(options["missing"])
        return read_counts(paths[0], options)

    # --- encoder -----------------------------------------------------------------------
    def fit_encoder(self, data: CountData, hyperparameters: Mapping[str, Any]) -> Dict[str, Any]:
        """Settings and transforms from the training counts only; kept in the model (and printed by `fit`
        unless -q: the training's verbosity is what tells a quiet `lstmcore demo`, whose options do not)."""
        return self.settings_for(data, hyperparameters)

    def settings_for(self, data: CountData, hyperparameters: Mapping[str, Any],
                     fixed: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        """The state for `data`; `fixed` (a trained model's state) keeps its lookback, horizon and choices."""
        from .missing import fill_missing

        fixed = fixed or {}
        options = data.options
        _check_choices(hyperparameters)
        missing = fixed.get("missing") or options.get("missing") or DEFAULT_MISSING
        filled, _ = fill_missing(data.values, missing, data=data, names=data.series)
        horizon = fixed.get("horizon") or choose_horizon(len(data), options.get("horizon"))
        lookback = fixed.get("lookback") or choose_lookback(filled, horizon, options.get("lookback"), data.path)
        observed_counts = np.where(np.isfinite(data.values), data.values, np.nan)
        state = {"series": list(data.series), "exog": list(data.exog_names), "missing": missing,
                 "lookback": int(lookback), "horizon": int(horizon),
                 "lookback_source": fixed.get("lookback_source") or ("given" if options.get("lookback") else "auto"),
                 "horizon_source": fixed.get("horizon_source") or ("given" if options.get("horizon") else "auto"),
                 "transform": transforms.fit_transform(observed_counts, hyperparameters["transform"]),
                 "difference": bool(hyperparameters["difference"]), "loss": hyperparameters["loss"],
                 "count_scale": [float(max(np.nanmean(c), 1e-6)) for c in observed_counts.T],
                 "time_kind": data.time_kind, "interval": {"level": float(hyperparameters["interval"])}}
        if data.exog_names:
            state["exog_transform"] = transforms.fit_transform(data.exog, "none")
        return state

    def encode(self, data: CountData, state: Mapping[str, Any], *, labelled: bool) -> SeriesEncoded:
        data = align(data, state)
        choice = data.options.get("missing") or state["missing"]
        inputs, z_observed, filled = series_arrays(data, state, choice)
        targets = training_targets(z_observed, filled, state)
        quiet = bool(data.options.get("quiet"))
        if not labelled:
            if len(data) < state["lookback"]:
                raise UserInputError(f"has {len(data)} time points; the model needs a history of at least "
                                     f"{state['lookback']} (its lookback)", file=data.path)
            steps = int(data.options.get("horizon") or state["horizon"])
            x = inputs[len(data) - state["lookback"]:][None]
            return SeriesEncoded(x, None, groups=np.zeros(1, np.int64), inputs=inputs, state=state, steps=steps,
                                 quiet=quiet)
        x, y, origins = cut_windows(inputs, targets, state["lookback"], state["horizon"],
                                    difference=state["difference"] and state["loss"] not in COUNT_LOSSES)
        if origins.size == 0:
            raise _no_window_error(data, state)
        z_true = np.stack([z_observed[t:t + state["horizon"]] for t in origins]) if origins.size else \
            np.zeros((0, state["horizon"], len(state["series"])))
        return SeriesEncoded(x, y, groups=np.zeros(len(x), np.int64), origins=origins,
                             levels=levels(inputs, origins, len(state["series"])), z_true=z_true, inputs=inputs,
                             state=state, quiet=quiet, times=list(data.times))

    # --- model -------------------------------------------------------------------------
    def build_model(self, state, hyperparameters):
        from .fitting import build_member

        return build_member(state, hyperparameters, units=int(hyperparameters["units"]) * int(hyperparameters["members"]))

    def fit(self, model, encoded: SeriesEncoded, *, epochs, batch_size, validation_split, verbose=0,
            hyperparameters=None):
        from .training import fit_population_model

        return fit_population_model(self, model, encoded, epochs=epochs, batch_size=batch_size,
                                    validation_split=validation_split, verbose=verbose,
                                    hyperparameters=dict(hyperparameters or self.hyperparameters))

    def predict(self, model, encoded: SeriesEncoded, state=None, *, batch_size: int = 256) -> np.ndarray:
        """(steps, S, 3): forecast, lower, upper in counts after the end of the encoded history."""
        from .forecasting import forecast_counts

        return forecast_counts(model, encoded.inputs, state or encoded.state, encoded.steps or state["horizon"])

    # --- evaluation ----------------------------------------------------------------------
    def evaluate(self, model, data: CountData, state, *, options=None, hyperparameters=None) -> Dict[str, float]:
        from .backtest import evaluate_report

        return evaluate_report(self, data, state, dict(options or {}), dict(hyperparameters or self.hyperparameters))

    # --- writer --------------------------------------------------------------------------
    def prediction_header(self, state):
        return ["series", "time", "forecast", "lower", "upper"]

    def prediction_rows(self, data: CountData, outputs: np.ndarray, state):
        from .reader import future_times

        times = future_times(data, outputs.shape[0])
        if data.options.get("plot"):
            from .plots import plot_forecasts

            plot_forecasts(align(data, state), outputs, times, state, data.options.get("output"))
        for step, time in enumerate(times):
            for s, name in enumerate(state["series"]):
                forecast, lower, upper = outputs[step, s]
                yield [name, time, _rounded(forecast), _rounded(lower), _rounded(upper)]

    # --- demo ----------------------------------------------------------------------------
    def make_example_data(self, folder: Path, seed: int = 0):
        from .demo_data import write_demo_data

        return write_demo_data(Path(folder), seed)


def _no_window_error(data: CountData, state: Mapping[str, Any]) -> UserInputError:
    """No (lookback + horizon) window has every series observed over its horizon: name the sparsest series."""
    observed = np.isfinite(data.values).sum(axis=0)
    window = f"lookback {state['lookback']} + horizon {state['horizon']}"
    if observed.size and observed.min() < len(data):
        s = int(np.argmin(observed))
        return UserInputError(f"series {data.series[s]!r} has {int(observed[s])} observed count(s) in "
                              f"{len(data)} time points: too few for one training window ({window}, every "
                              "series observed over the horizon); give more counts, a shorter --horizon, or "
                              "leave the series out with --series", file=data.path)
    return UserInputError(f"has {len(data)} time points: too few for one training window ({window})",
                          file=data.path)


def _rounded(value: float) -> float:
    return float(f"{float(value):.6g}")


def _check_choices(hyperparameters: Mapping[str, Any]) -> None:
    """Hyper-parameters with a fixed set of values: a wrong one names itself."""
    choices = {"transform": transforms.TRANSFORMS, "loss": ("mse",) + tuple(COUNT_LOSSES)}
    for name, allowed in choices.items():
        if hyperparameters[name] not in allowed:
            raise UserInputError(f"{name} must be one of {', '.join(allowed)}. Received: {hyperparameters[name]!r}",
                                 record=name)
    if hyperparameters["difference"] and hyperparameters["loss"] != "mse":
        raise UserInputError("difference works with loss 'mse' only (a count loss predicts the level itself)",
                             record="difference")

"""Preprocessing of traces: missing values, smoothing, resampling and z-normalisation.

Everything that learns a statistic learns it from the training traces only
(`fit_normalisation`), and the model file keeps it, so evaluation and
prediction data are scaled exactly as the training data were and never
inform the scaling themselves.

- missing values: "error" (the default: a NaN is reported with its file and
  row) or "interpolate" (linear between the neighbouring values, the nearest
  value at the ends) -- an explicit choice, never a silent one;
- smoothing: a centred moving average of `window` steps (scipy's
  uniform_filter1d, edges by their nearest value);
- resampling to a length: linear interpolation on [0, 1] (no Fourier
  ringing around action-potential-like spikes);
- normalisation: "trace" (each trace and channel to mean 0, sd 1: the UCR
  convention, which needs no statistic), "channel" (each channel by the mean
  and sd of the training traces) or "none".
"""
from __future__ import annotations

from typing import Dict, List, Mapping

import numpy as np

from lstmcore.toolkit import UserInputError

from .traces import Traces

__all__ = ["MISSING_CHOICES", "NORMALISATIONS", "handle_missing", "smooth", "resample", "fit_normalisation",
           "normalise", "prepare"]

MISSING_CHOICES = ("error", "interpolate")
NORMALISATIONS = ("trace", "channel", "none")
_TINY = 1e-8


def _interpolated(trace: np.ndarray) -> np.ndarray:
    filled = trace.copy()
    steps = np.arange(trace.shape[0])
    for channel in range(trace.shape[1]):
        known = ~np.isnan(trace[:, channel])
        if not known.any():
            return None
        filled[:, channel] = np.interp(steps, steps[known], trace[known, channel])
    return filled


def handle_missing(traces: Traces, choice: str) -> Traces:
    """Traces without NaN: an error naming the first one ("error"), or filled ("interpolate")."""
    if choice not in MISSING_CHOICES:
        raise UserInputError(f"--missing must be one of {', '.join(MISSING_CHOICES)}. Received: {choice!r}")
    series = []
    for index, trace in enumerate(traces.series):
        if np.isnan(trace).any():
            step, channel = (int(v) + 1 for v in np.argwhere(np.isnan(trace))[0])
            if choice == "error":
                raise traces.error(index, f"missing value (NaN) at step {step}, channel {channel}: fill it, or "
                                          "choose --missing interpolate")
            trace = _interpolated(trace)
            if trace is None:
                raise traces.error(index, "a channel holds no value at all, so it cannot be interpolated")
        if not np.isfinite(trace).all():
            raise traces.error(index, "holds an infinite value")
        series.append(trace)
    return Traces(series, traces.labels, traces.ids, traces.files, traces.records)


def smooth(trace: np.ndarray, window: int) -> np.ndarray:
    """A centred moving average over `window` steps (1 or less: unchanged)."""
    if window <= 1:
        return trace
    from scipy.ndimage import uniform_filter1d

    return uniform_filter1d(trace, size=int(window), axis=0, mode="nearest")


def resample(trace: np.ndarray, length: int) -> np.ndarray:
    """The trace at `length` evenly spaced points of its own span (linear interpolation)."""
    if length <= 0 or trace.shape[0] == length:
        return trace
    if trace.shape[0] == 1:
        return np.repeat(trace, length, axis=0)
    old = np.linspace(0.0, 1.0, trace.shape[0])
    new = np.linspace(0.0, 1.0, length)
    return np.stack([np.interp(new, old, trace[:, c]) for c in range(trace.shape[1])], axis=1)


def _shaped(traces: Traces, hyperparameters: Mapping) -> List[np.ndarray]:
    window, length = int(hyperparameters["smoothing"]), int(hyperparameters["length"])
    return [resample(smooth(trace, window), length) for trace in traces.series]


def fit_normalisation(traces: Traces, hyperparameters: Mapping) -> Dict[str, object]:
    """The normalisation's state, learnt from the training traces only."""
    mode = hyperparameters["normalisation"]
    if mode not in NORMALISATIONS:
        raise UserInputError(f"normalisation must be one of {', '.join(NORMALISATIONS)}. Received: {mode!r}",
                             record="normalisation")
    state: Dict[str, object] = {"normalisation": mode}
    if mode == "channel":
        stacked = np.concatenate(_shaped(traces, hyperparameters), axis=0)
        state["channel_mean"] = stacked.mean(axis=0).tolist()
        state["channel_sd"] = np.maximum(stacked.std(axis=0), _TINY).tolist()
    return state


def normalise(trace: np.ndarray, state: Mapping) -> np.ndarray:
    """One trace scaled as the training state says."""
    mode = state["normalisation"]
    if mode == "trace":
        sd = trace.std(axis=0)
        return (trace - trace.mean(axis=0)) / np.where(sd > _TINY, sd, 1.0)
    if mode == "channel":
        return (trace - np.asarray(state["channel_mean"])) / np.asarray(state["channel_sd"])
    return trace


def prepare(traces: Traces, state: Mapping) -> List[np.ndarray]:
    """Smoothed, resampled and normalised traces, as the model sees them (float64)."""
    return [normalise(trace, state) for trace in _shaped(traces, state)]

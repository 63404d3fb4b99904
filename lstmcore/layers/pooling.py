"""Global pooling over the real steps of each sequence: a sequence classifier's "is it anywhere?".

A bidirectional LSTM that returns its whole output sequence, followed by a
max (or mean) over time, lets a motif at any position raise the score, which
is what binding sites and promoter boxes need; the last state alone has to
carry the evidence through every later step.  Padded steps (past a
sequence's length) never enter the pool, so a variable-length batch gives
the same result as one sequence at a time.
"""
from __future__ import annotations

import numpy as np

from .base import Layer

__all__ = ["MaskedGlobalPooling", "POOLING_MODES"]

POOLING_MODES = ("max", "mean", "max_mean")


class MaskedGlobalPooling(Layer):
    """(batch, steps, features) -> (batch, features) (or 2*features for "max_mean"), over real steps only.

    Args:
        mode: "max" (default), "mean", or "max_mean" (both, concatenated).
    """

    def __init__(self, mode="max", **kwargs):
        super().__init__(**kwargs)
        if mode not in POOLING_MODES:
            raise ValueError(f"mode must be one of {', '.join(POOLING_MODES)}. Received: mode={mode!r}")
        self.mode = mode

    def compute_output_shape(self, input_shape):
        width = input_shape[-1] * (2 if self.mode == "max_mean" else 1)
        return (input_shape[0], width)

    def output_lengths(self, lengths):
        return None

    @staticmethod
    def _valid_steps(x, lengths):
        steps = x.shape[1]
        if lengths is None:
            return np.ones(x.shape[:2], dtype=bool)
        return np.arange(steps)[None, :] < np.asarray(lengths)[:, None]

    def forward(self, x, training=False, lengths=None, keep_cache=None):
        keep_cache = training if keep_cache is None else keep_cache
        valid = self._valid_steps(x, lengths)
        counts = np.maximum(valid.sum(axis=1), 1).astype(x.dtype)[:, None]
        parts, cache = [], {"valid": valid, "counts": counts, "shape": x.shape}
        if self.mode in ("max", "max_mean"):
            masked = np.where(valid[:, :, None], x, -np.inf)
            argmax = masked.argmax(axis=1)                       # (B, F)
            best = np.take_along_axis(x, argmax[:, None, :], axis=1)[:, 0, :]
            best = np.where(valid.any(axis=1)[:, None], best, 0).astype(x.dtype)
            parts.append(best)
            cache["argmax"] = argmax
        if self.mode in ("mean", "max_mean"):
            parts.append((x * valid[:, :, None]).sum(axis=1) / counts)
        self._cache = cache if keep_cache else None
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=-1)

    def backward(self, grad):
        cache, self._cache = self._cache, None
        batch, steps, features = cache["shape"]
        d_x = np.zeros(cache["shape"], dtype=grad.dtype)
        offset = 0
        if "argmax" in cache:
            d_max = grad[:, :features] * cache["valid"].any(axis=1)[:, None]
            np.put_along_axis(d_x, cache["argmax"][:, None, :], d_max[:, None, :], axis=1)
            offset = features
        if self.mode in ("mean", "max_mean"):
            d_mean = grad[:, offset:offset + features] / cache["counts"]
            d_x += d_mean[:, None, :] * cache["valid"][:, :, None]
        return d_x

    def get_config(self):
        config = super().get_config()
        config["mode"] = self.mode
        return config

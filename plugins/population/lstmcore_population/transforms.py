"""Per-series transforms of counts, fitted on the training part only and inverted exactly.

    z = (g(y) - mean) / scale,   g = log1p (default), Box-Cox of y + 1 (lambda by maximum likelihood,
                                  scipy) or the identity,

with mean and scale the mean and standard deviation of g(y) over the observed training values of the
series.  Optional differencing is done where the windows are cut (`windows.py`): the model then
predicts z[t + h] - z[t - 1], the change from the window's last value, and the level is added back.

The fitted parameters are a JSON-able dict kept in the model file; `inverse(forward(y)) == y`.
"""
from __future__ import annotations

from typing import Dict, List

import numpy as np

__all__ = ["TRANSFORMS", "fit_transform", "forward", "inverse"]

TRANSFORMS = ("log1p", "boxcox", "none")


def fit_transform(values: np.ndarray, kind: str) -> Dict:
    """Fit `kind` on the observed (finite) training values of each column of `values` (T, S)."""
    if kind not in TRANSFORMS:
        raise ValueError(f"transform must be one of {', '.join(TRANSFORMS)}. Received: {kind!r}")
    lambdas: List[float] = []
    means: List[float] = []
    scales: List[float] = []
    for column in np.asarray(values, np.float64).T:
        observed = column[np.isfinite(column)]
        lam = _boxcox_lambda(observed) if kind == "boxcox" else 0.0
        g = _g(observed, kind, lam)
        means.append(float(g.mean()) if g.size else 0.0)
        spread = float(g.std()) if g.size > 1 else 0.0
        scales.append(spread if spread > 1e-8 else 1.0)
        lambdas.append(float(lam))
    return {"kind": kind, "lambda": lambdas, "mean": means, "scale": scales}


def forward(values: np.ndarray, params: Dict) -> np.ndarray:
    """Counts (T, S) -> scaled transformed values (NaN stays NaN)."""
    values = np.asarray(values, np.float64)
    columns = [(_g(values[:, s], params["kind"], params["lambda"][s]) - params["mean"][s]) / params["scale"][s]
               for s in range(values.shape[1])]
    return np.column_stack(columns) if columns else values.copy()


def inverse(z: np.ndarray, params: Dict) -> np.ndarray:
    """Scaled transformed values (..., S) -> counts, clipped at 0 (counts are never negative)."""
    z = np.asarray(z, np.float64)
    mean, scale = np.asarray(params["mean"]), np.asarray(params["scale"])
    g = z * scale + mean
    kind = params["kind"]
    if kind == "log1p":
        counts = np.expm1(np.minimum(g, 700.0))
    elif kind == "boxcox":
        counts = np.stack([_inverse_boxcox(g[..., s], params["lambda"][s]) for s in range(g.shape[-1])], axis=-1)
    else:
        counts = g
    return np.maximum(counts, 0.0)


def _g(values: np.ndarray, kind: str, lam: float) -> np.ndarray:
    if kind == "log1p":
        return np.log1p(values)
    if kind == "boxcox":
        from scipy.special import boxcox

        return boxcox(values + 1.0, lam)
    return np.asarray(values, np.float64)


def _inverse_boxcox(g: np.ndarray, lam: float) -> np.ndarray:
    from scipy.special import inv_boxcox

    if lam != 0.0:
        g = np.maximum(g, -1.0 / lam + 1e-12) if lam > 0 else np.minimum(g, -1.0 / lam - 1e-12)
    return inv_boxcox(g, lam) - 1.0


def _boxcox_lambda(observed: np.ndarray) -> float:
    """scipy's maximum-likelihood lambda for y + 1 (0, the log, for a constant or too short series)."""
    from scipy.stats import boxcox

    if observed.size < 3 or np.ptp(observed) == 0:
        return 0.0
    _, lam = boxcox(observed + 1.0)
    return float(np.clip(lam, -2.0, 2.0))

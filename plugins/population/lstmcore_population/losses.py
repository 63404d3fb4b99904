"""Count losses on a log-mean output: the model's output p is log(mu), mu the expected (scaled) count.

Both take y_true >= 0 and one output per target, averaged over the last axis like the core's losses.
They are registered as `poisson-log` and `negative-binomial` (`register_losses`), so
`model.compile(loss="negative-binomial")` works and a saved model names them.

- poisson-log:        mu - y p   (the Poisson negative log-likelihood without its constant);
- negative-binomial:  NB2 with a fixed dispersion r (variance mu + mu^2 / r, default r = 10):
  (r + y) log(r + mu) - y p  (plus terms free of mu), gradient mu (r + y) / (r + mu) - y.

The population task feeds them counts divided by the series' mean training count (a quasi-likelihood:
the variance is proportional to the mean rather than equal to it), so one loss fits hares in thousands
and muskrats in hundreds of thousands alike.
"""
from __future__ import annotations

import numpy as np

from lstmcore.losses import Loss

__all__ = ["PoissonLog", "NegativeBinomialLog"]

_MAX_LOG = 30.0  # exp(30) ~ 1e13: far beyond any scaled count, keeps a wild early step finite


class PoissonLog(Loss):
    """Poisson negative log-likelihood of counts y given the log-mean output p."""

    name = "poisson_log"

    def values(self, y_true, y_pred):
        p = np.minimum(y_pred, _MAX_LOG)
        return (np.exp(p) - y_true * p).mean(axis=-1)

    def gradient(self, y_true, y_pred):
        p = np.minimum(y_pred, _MAX_LOG)
        return (np.exp(p) - y_true) / y_pred.shape[-1]


class NegativeBinomialLog(Loss):
    """NB2 negative log-likelihood (dispersion `r`) of counts y given the log-mean output p."""

    name = "negative_binomial"

    def __init__(self, dispersion: float = 10.0):
        if not dispersion > 0:
            raise ValueError(f"dispersion must be positive. Received: dispersion={dispersion!r}")
        self.dispersion = float(dispersion)

    def values(self, y_true, y_pred):
        r = self.dispersion
        mu = np.exp(np.minimum(y_pred, _MAX_LOG))
        return ((r + y_true) * np.log(r + mu) - y_true * np.minimum(y_pred, _MAX_LOG)).mean(axis=-1)

    def gradient(self, y_true, y_pred):
        r = self.dispersion
        mu = np.exp(np.minimum(y_pred, _MAX_LOG))
        return (mu * (r + y_true) / (r + mu) - y_true) / y_pred.shape[-1]

    def get_config(self):
        return {"dispersion": self.dispersion}

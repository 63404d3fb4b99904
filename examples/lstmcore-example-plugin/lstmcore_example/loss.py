"""log(cosh(error)): like squared error near zero, like absolute error far away."""
import numpy as np

from lstmcore.losses import Loss


class LogCosh(Loss):
    """mean(log(cosh(y_pred - y_true))) over the last axis."""

    name = "log_cosh"

    def values(self, y_true, y_pred):
        error = y_pred - y_true
        # log(cosh(x)) = |x| + log1p(exp(-2|x|)) - log(2), stable for large |x|
        return np.mean(np.abs(error) + np.log1p(np.exp(-2 * np.abs(error))) - np.log(2.0), axis=-1)

    def gradient(self, y_true, y_pred):
        return np.tanh(y_pred - y_true) / y_pred.shape[-1]

"""Result types shared by the native ops and the NumPy reference."""
from typing import Any, NamedTuple, Optional

import numpy as np


class LSTMForward(NamedTuple):
    """What one LSTM layer returns for a batch of sequences.

    outputs: (B, T, H) hidden state at every position; zero past a sequence's length.
    h_n, c_n: (B, H) state after each sequence's own last step.
    cache: opaque state for `lstm_backward`; None unless `training=True`.
    """

    outputs: np.ndarray
    h_n: np.ndarray
    c_n: np.ndarray
    cache: Optional[Any]


class LSTMGradients(NamedTuple):
    """Gradients of a scalar loss with respect to every input of `lstm_forward`.

    d_bias is None when the forward ran without a bias.
    """

    d_x: np.ndarray
    d_kernel: np.ndarray
    d_recurrent_kernel: np.ndarray
    d_bias: Optional[np.ndarray]
    d_h0: np.ndarray
    d_c0: np.ndarray

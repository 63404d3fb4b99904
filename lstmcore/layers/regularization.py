"""SpatialDropout1D: dropout of whole channels of a sequence."""
from __future__ import annotations

from .core import Dropout

__all__ = ["SpatialDropout1D"]


class SpatialDropout1D(Dropout):
    """Drop whole channels: during training each (sequence, channel) pair is zeroed for every step at
    once with probability `rate` and the rest scaled by 1 / (1 - rate); identity at inference.

    Neighbouring steps of a convolution's output are strongly correlated, so
    dropping single values regularises little; dropping a whole feature map
    does (keras.layers.SpatialDropout1D).

    Args:
        rate: float in [0, 1).
        seed: int or None (default: the library's generator, see `lstmcore.set_seed`).

    Input and output (batch, steps, channels).
    """

    def __init__(self, rate, seed=None, **kwargs):
        kwargs.pop("noise_shape", None)
        super().__init__(rate, seed=seed, **kwargs)

    def _mask_shape(self, shape):
        if len(shape) != 3:
            raise ValueError(f"SpatialDropout1D {self.name!r} expects input of shape (batch, steps, channels). "
                             f"Received: shape {tuple(shape)}")
        return (shape[0], 1, shape[2])

    def get_config(self):
        config = super().get_config()
        del config["noise_shape"]
        return config

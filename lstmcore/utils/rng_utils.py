"""set_random_seed: Keras's name for seeding every random source lstmcore uses."""
from __future__ import annotations

from .. import backend

__all__ = ["set_random_seed"]


def set_random_seed(seed):
    """Seed lstmcore's generator, Python's `random` and NumPy's global one (see `lstmcore.set_seed`).

    As keras.utils.set_random_seed: the same seed, model, data and thread count
    give the same trained weights.
    """
    backend.set_seed(seed)

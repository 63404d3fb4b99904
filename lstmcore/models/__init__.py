"""Models: `Sequential` (a stack of layers) and `load_model`.

The model classes hold layers and weights; compile, the epoch loop and
`train_step` come from `lstmcore.trainers.Trainer`, and files from
`lstmcore.saving`.
"""
from ..saving import load_model
from .sequential import Sequential

__all__ = ["Sequential", "load_model"]

"""Models: the functional `Model(inputs, outputs)`, `Sequential` (its special case of a chain of layers)
and `load_model`.

The model classes hold layers and weights and run the forward and backward
passes; compile, the epoch loop and `train_step` come from
`lstmcore.trainers.Trainer`, and files from `lstmcore.saving`.
"""
from ..saving import load_model
from .model import Model
from .sequential import Sequential

__all__ = ["Model", "Sequential", "load_model"]

"""Model classes by name: each model class registers itself, so files name a class and saving never imports
one (the models import saving, not the other way round)."""
from __future__ import annotations

__all__ = ["MODEL_CLASSES", "register_model_class"]

MODEL_CLASSES = {}


def register_model_class(cls):
    """Make a model class loadable by its class name (a class decorator)."""
    MODEL_CLASSES[cls.__name__] = cls
    return cls

"""Keras-style layers: LSTM, Bidirectional, Dense, Dropout, Masking, Embedding, ...

Every layer runs a forward pass that keeps what its backward pass needs and a
backward pass that fills its weight gradients; `lstmcore.models.Sequential`
chains them.  See `lstmcore.layers.base` for the contract.
"""
from .base import Input, InputLayer, Layer
from .core import Activation, Dense, Dropout, Embedding, Masking
from .lstm import LSTM
from .normalization import LayerNormalization
from .pooling import MaskedGlobalPooling
from .wrappers import Bidirectional, TimeDistributed

__all__ = ["Layer", "Input", "InputLayer", "LSTM", "Bidirectional", "TimeDistributed", "Dense",
           "Activation", "Dropout", "Masking", "Embedding", "LayerNormalization", "MaskedGlobalPooling",
           "get", "serialize", "deserialize", "register_layer"]

_LAYER_CLASSES = {cls.__name__: cls for cls in (
    InputLayer, LSTM, Bidirectional, TimeDistributed, Dense, Activation, Dropout, Masking,
    Embedding, LayerNormalization, MaskedGlobalPooling)}


def register_layer(cls):
    """Make a Layer subclass loadable from model files by its class name (usable as a decorator)."""
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise ValueError(f"cls must be a subclass of lstmcore.layers.Layer. Received: cls={cls!r}")
    existing = _LAYER_CLASSES.get(cls.__name__)
    if existing is not None and existing is not cls:
        raise ValueError(f"A different layer class is already registered as {cls.__name__!r}")
    _LAYER_CLASSES[cls.__name__] = cls
    return cls


def get(class_name, custom_objects=None):
    """The layer class named `class_name` (built-ins, registered layers, then custom_objects)."""
    if custom_objects and class_name in custom_objects:
        return custom_objects[class_name]
    try:
        return _LAYER_CLASSES[class_name]
    except KeyError:
        known = ", ".join(sorted(_LAYER_CLASSES))
        raise ValueError(f"Unknown layer class {class_name!r}. Known: {known} "
                         "(pass custom_objects or use register_layer)") from None


def serialize(layer):
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(spec, custom_objects=None):
    return get(spec["class_name"], custom_objects).from_config(dict(spec["config"]))

"""Keras-style layers: LSTM, Bidirectional, Dense, Conv1D, pooling, merging, normalisation, ...

Every layer runs a forward pass that keeps what its backward pass needs and a
backward pass that fills its weight gradients; `lstmcore.models.Sequential`
chains them.  See `lstmcore.layers.base` for the contract.

lstmcore is an LSTM library: asking for another recurrent or attention layer
(`from lstmcore.layers import GRU`) raises an ImportError that says what to
use instead.
"""
from .base import Input, InputLayer, Layer
from .convolutional import Conv1D
from .core import Activation, Dense, Dropout, Embedding, Masking
from .lstm import LSTM
from .merging import Add, Concatenate, Multiply
from .normalization import BatchNormalization, LayerNormalization
from .pooling import (AveragePooling1D, GlobalAveragePooling1D, GlobalMaxPooling1D, MaskedGlobalPooling,
                      MaxPooling1D)
from .regularization import SpatialDropout1D
from .reshaping import Flatten, Permute, RepeatVector, Reshape
from .unavailable import unavailable_layer
from .wrappers import Bidirectional, TimeDistributed

__all__ = ["Layer", "Input", "InputLayer", "LSTM", "Bidirectional", "TimeDistributed", "Dense",
           "Activation", "Dropout", "Masking", "Embedding", "LayerNormalization", "MaskedGlobalPooling",
           "Conv1D", "MaxPooling1D", "AveragePooling1D", "GlobalMaxPooling1D", "GlobalAveragePooling1D",
           "Flatten", "Reshape", "Permute", "RepeatVector", "Concatenate", "Add", "Multiply",
           "SpatialDropout1D", "BatchNormalization", "get", "serialize", "deserialize", "register_layer"]

_LAYER_CLASSES = {cls.__name__: cls for cls in (
    InputLayer, LSTM, Bidirectional, TimeDistributed, Dense, Activation, Dropout, Masking,
    Embedding, LayerNormalization, MaskedGlobalPooling, Conv1D, MaxPooling1D, AveragePooling1D,
    GlobalMaxPooling1D, GlobalAveragePooling1D, Flatten, Reshape, Permute, RepeatVector,
    Concatenate, Add, Multiply, SpatialDropout1D, BatchNormalization)}


def __getattr__(name):
    """Keras layers lstmcore leaves out raise an ImportError that says what to use instead."""
    unavailable_layer(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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

"""A layer's weights as its config and input shape would create them, compared with a model file's tensors
before anything is built.

Some weight shapes follow from a layer's input, not from its own config: an
LSTM's kernel is (features, 4 * units), a Dense's (in, units), a Conv1D's
(width, in_channels, filters), a BatchNormalization's vectors one per
channel.  A file whose input shape says 10^7 features, over an LSTM whose
stored kernel is (4, 1280), would allocate a (10^7, 1280) kernel (51 GB)
before its mismatch showed.  `check_planned_weights` builds a throw-away
copy of the layer without allocating (`lstmcore.layers.base.
planned_weight_shapes`) and compares every weight it would create with the
tensor stored for it: a missing tensor or another shape is a SpecError.
"""
from __future__ import annotations

from typing import Any, Mapping, Tuple

from ..layers.base import planned_weight_shapes
from .validation import SpecError

__all__ = ["check_planned_weights"]


def check_planned_weights(layer, input_shape: Any, stored: Mapping[str, Tuple[int, ...]], label: str) -> None:
    """Raise SpecError unless `stored` ({weight name: shape}, the file's tensors of this layer) holds every
    weight `layer` (unbuilt, throw-away) would create for `input_shape`, each of the shape it would have.

    `label` names the layer in the message, e.g. "layer 0 (LSTM 'lstm')".
    """
    try:
        planned = planned_weight_shapes(layer, input_shape)
    except (ValueError, TypeError, IndexError, KeyError) as error:
        raise SpecError(f"{label} cannot be built for the input shape {tuple(input_shape)} ({error})") from None
    for name, shape in planned:
        if name not in stored:
            raise SpecError(f"{label}: its config implies {name} {shape} but the file stores no such weight")
        if tuple(stored[name]) != shape:
            raise SpecError(f"{label}: its config implies {name} {shape} but the file stores {tuple(stored[name])}")

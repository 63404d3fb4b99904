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
A Keras file's tensors are compared in Keras's order instead of by name.
"""
from __future__ import annotations

from typing import Any, Mapping, Tuple

from ..layers.base import planned_weight_shapes
from .validation import SpecError

__all__ = ["check_planned_weights"]


def check_planned_weights(layer, input_shape: Any, stored: Mapping[str, Tuple[int, ...]], label: str,
                          by_position: bool = False) -> None:
    """Raise SpecError unless `stored` ({weight name: shape}, the file's tensors of this layer) holds every
    weight `layer` (unbuilt, throw-away) would create for `input_shape`, each of the shape it would have.

    `label` names the layer in the message, e.g. "layer 0 (LSTM 'lstm')".
    `by_position`: the file does not name the weights as lstmcore does (a
    Keras file numbers them), so `stored` holds them in Keras order and they
    are compared in that order, as the loader copies them.
    """
    try:
        planned = planned_weight_shapes(layer, input_shape)
    except (ValueError, TypeError, IndexError, KeyError) as error:
        raise SpecError(f"{label} cannot be built for the input shape {tuple(input_shape)} ({error})") from None
    if by_position:
        _compare_in_order(planned, stored, label)
        return
    for name, shape in planned:
        if name not in stored:
            raise SpecError(f"{label}: its config implies {name} {shape} but the file stores no such weight")
        _compare(label, name, shape, stored[name])


def _compare_in_order(planned, stored: Mapping[str, Tuple[int, ...]], label: str) -> None:
    """The planned weights against the file's, one by one in Keras order, and their counts.

    A layer without weights is left alone, as the loader leaves it: Keras may
    store state such a layer does not keep (a seed generator's).
    """
    if not planned:
        return
    found = list(stored.items())
    if len(found) != len(planned):
        names = ", ".join(name for name, _ in planned)
        listed = ", ".join(f"{key} {tuple(shape)}" for key, shape in found) or "none"
        raise SpecError(f"{label}: its config implies {len(planned)} weights ({names}) but the file stores "
                        f"{len(found)}: {listed}")
    for (name, shape), (_, stored_shape) in zip(planned, found):
        _compare(label, name, shape, stored_shape)


def _compare(label: str, name: str, shape: Tuple[int, ...], stored_shape) -> None:
    if tuple(stored_shape) != shape:
        raise SpecError(f"{label}: its config implies {name} {shape} but the file stores {tuple(stored_shape)}")

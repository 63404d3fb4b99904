"""Weights to and from PyTorch state_dicts and Keras weight lists.

lstmcore holds weights as Keras does: `kernel` (input_dim, 4*units),
`recurrent_kernel` (units, 4*units), `bias` (4*units,), gates i, f, c, o.
PyTorch's nn.LSTM uses the same gate order (i, f, g, o) with transposed
matrices and two biases, so

    kernel = weight_ih_l{k}.T      recurrent_kernel = weight_hh_l{k}.T
    bias   = bias_ih_l{k} + bias_hh_l{k}

(`_reverse` suffixes for the backward direction of a bidirectional LSTM), and
nn.Linear's `weight` (out, in) is the transpose of Dense's `kernel`.  Keras's
`model.get_weights()` lists are already in lstmcore's order and load with
`model.set_weights(...)` unchanged.

Every function takes torch tensors or NumPy arrays and returns NumPy arrays;
see docs/interop.md for worked examples.
"""
from __future__ import annotations

import numpy as np

__all__ = ["lstm_weights_from_torch", "lstm_weights_to_torch", "bidirectional_weights_from_torch",
           "bidirectional_weights_to_torch", "dense_weights_from_torch", "dense_weights_to_torch",
           "torch_lstm_layers", "weights_from_keras"]


def _numpy(value):
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def _get(state_dict, key):
    try:
        return _numpy(state_dict[key])
    except KeyError:
        known = ", ".join(sorted(state_dict)[:12])
        raise KeyError(f"state_dict has no {key!r} (keys: {known}{', ...' if len(state_dict) > 12 else ''})") from None


def _suffix(layer, direction):
    if direction not in ("forward", "backward"):
        raise ValueError(f"direction must be 'forward' or 'backward'. Received: direction={direction!r}")
    if isinstance(layer, bool) or not isinstance(layer, int) or layer < 0:
        raise ValueError(f"layer must be a non-negative integer. Received: layer={layer!r}")
    return f"_l{layer}" + ("_reverse" if direction == "backward" else "")


def lstm_weights_from_torch(state_dict, layer=0, direction="forward", prefix="", dtype=None):
    """[kernel, recurrent_kernel, bias] of one nn.LSTM layer (and direction) in lstmcore's layout.

    Args:
        state_dict: `lstm.state_dict()`, or a whole model's with `prefix` (e.g. 'lstm.').
        layer: which stacked layer (the k of `weight_ih_l{k}`).
        direction: 'forward' or 'backward' (the `_reverse` weights of a bidirectional LSTM).
        dtype: output dtype; default the state_dict's.

    A torch LSTM built with bias=False gives [kernel, recurrent_kernel]: use it
    with `LSTM(..., use_bias=False)`.
    """
    suffix = _suffix(layer, direction)
    weight_ih = _get(state_dict, f"{prefix}weight_ih{suffix}")
    weight_hh = _get(state_dict, f"{prefix}weight_hh{suffix}")
    if f"{prefix}weight_hr{suffix}" in state_dict:
        raise ValueError("LSTMs with proj_size > 0 have no lstmcore equivalent. "
                         f"Received: a state_dict with {prefix}weight_hr{suffix}")
    weights = [np.ascontiguousarray(weight_ih.T), np.ascontiguousarray(weight_hh.T)]
    if f"{prefix}bias_ih{suffix}" in state_dict:
        bias = _get(state_dict, f"{prefix}bias_ih{suffix}") + _get(state_dict, f"{prefix}bias_hh{suffix}")
        weights.append(bias)
    if dtype is not None:
        weights = [w.astype(dtype) for w in weights]
    return weights


def lstm_weights_to_torch(weights, layer=0, direction="forward", prefix=""):
    """The nn.LSTM state_dict entries for one layer from [kernel, recurrent_kernel(, bias)].

    The bias goes to `bias_ih`, and `bias_hh` is zero (their sum is what counts).
    Wrap the arrays with torch.from_numpy and call `lstm.load_state_dict(..., strict=False)`
    or update a full state_dict with them.
    """
    weights = [_numpy(w) for w in weights]
    if len(weights) not in (2, 3):
        raise ValueError("weights must be [kernel, recurrent_kernel] or [kernel, recurrent_kernel, bias]. "
                         f"Received: a list of {len(weights)} arrays")
    suffix = _suffix(layer, direction)
    kernel, recurrent_kernel = weights[:2]
    entries = {f"{prefix}weight_ih{suffix}": np.ascontiguousarray(kernel.T),
               f"{prefix}weight_hh{suffix}": np.ascontiguousarray(recurrent_kernel.T)}
    if len(weights) == 3:
        entries[f"{prefix}bias_ih{suffix}"] = np.array(weights[2])
        entries[f"{prefix}bias_hh{suffix}"] = np.zeros_like(weights[2])
    return entries


def bidirectional_weights_from_torch(state_dict, layer=0, prefix="", dtype=None):
    """The six weights of a `Bidirectional(LSTM(...))` from a bidirectional nn.LSTM layer."""
    return (lstm_weights_from_torch(state_dict, layer, "forward", prefix, dtype)
            + lstm_weights_from_torch(state_dict, layer, "backward", prefix, dtype))


def bidirectional_weights_to_torch(weights, layer=0, prefix=""):
    """nn.LSTM(bidirectional=True) state_dict entries from a Bidirectional layer's weights."""
    weights = list(weights)
    half = len(weights) // 2
    entries = lstm_weights_to_torch(weights[:half], layer, "forward", prefix)
    entries.update(lstm_weights_to_torch(weights[half:], layer, "backward", prefix))
    return entries


def dense_weights_from_torch(state_dict, prefix="", dtype=None):
    """[kernel, bias] of a Dense layer from an nn.Linear state_dict ('weight' (out, in), 'bias')."""
    weights = [np.ascontiguousarray(_get(state_dict, f"{prefix}weight").T)]
    if f"{prefix}bias" in state_dict:
        weights.append(_get(state_dict, f"{prefix}bias"))
    if dtype is not None:
        weights = [w.astype(dtype) for w in weights]
    return weights


def dense_weights_to_torch(weights, prefix=""):
    """nn.Linear state_dict entries from a Dense layer's [kernel(, bias)]."""
    weights = [_numpy(w) for w in weights]
    entries = {f"{prefix}weight": np.ascontiguousarray(weights[0].T)}
    if len(weights) > 1:
        entries[f"{prefix}bias"] = np.array(weights[1])
    return entries


def torch_lstm_layers(state_dict, prefix="", dtype=None):
    """Weights of every layer of a (possibly stacked, possibly bidirectional) nn.LSTM.

    Returns one list per stacked layer, ready for the matching lstmcore layer's
    `set_weights`: three arrays for a unidirectional LSTM, six for a
    bidirectional one.
    """
    layers = []
    while f"{prefix}weight_ih_l{len(layers)}" in state_dict:
        k = len(layers)
        if f"{prefix}weight_ih_l{k}_reverse" in state_dict:
            layers.append(bidirectional_weights_from_torch(state_dict, k, prefix, dtype))
        else:
            layers.append(lstm_weights_from_torch(state_dict, k, "forward", prefix, dtype))
    if not layers:
        raise KeyError(f"state_dict has no {prefix}weight_ih_l0: not an nn.LSTM state_dict (prefix={prefix!r})")
    return layers


def weights_from_keras(weights, dtype=None):
    """A Keras `get_weights()` list as lstmcore arrays: same order and shapes, so only a dtype cast.

    `model.set_weights(keras_model.get_weights())` works directly for the same
    architecture; this helper just makes the arrays NumPy and C-contiguous.
    """
    return [np.ascontiguousarray(_numpy(w), dtype=dtype) for w in weights]

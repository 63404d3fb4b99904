"""The forecasting network and the seed ensemble folded into one model.

A member is `LSTM(units) -> Dense(horizon * series)`: every species is an input channel, so the
predator's past informs the prey's forecast.  Several members trained from different seeds are folded
into ONE `Sequential` of the core's own layers, exactly equal to their average:

    LSTM(members * units): kernels side by side per gate (gate order i, f, c, o), recurrent kernel
                           block-diagonal, so each member's units see only their own past state;
    Dense: the members' output kernels stacked and divided by the number of members, biases averaged.

The model file therefore loads with `lstmcore.load_model` alone and predicts the ensemble mean in one call.
"""
from __future__ import annotations

from typing import List

import numpy as np

__all__ = ["build_network", "merge_members"]


def build_network(channels: int, outputs: int, units: int, *, loss, learning_rate: float, dropout: float = 0.0):
    """A compiled LSTM -> Dense model for (batch, steps, channels) windows."""
    from lstmcore import Sequential, layers, optimizers

    network = [layers.LSTM(units, input_shape=(None, channels))]
    if dropout > 0:
        network.append(layers.Dropout(dropout))
    network.append(layers.Dense(outputs))
    model = Sequential(network)
    model.compile(optimizer=optimizers.Adam(learning_rate=learning_rate, global_clipnorm=1.0), loss=loss)
    return model


def merge_members(members: List, target) -> None:
    """Set `target` (built with members * units LSTM units, same channels and outputs) to the average."""
    weights = [member.get_weights() for member in members]
    units = weights[0][1].shape[0]
    count = len(members)
    kernel, recurrent, bias = (np.zeros_like(w) for w in target.get_weights()[:3])
    total = units * count
    for index, (k, r, b, *_) in enumerate(weights):
        for gate in range(4):
            source = slice(gate * units, (gate + 1) * units)
            place = slice(gate * total + index * units, gate * total + (index + 1) * units)
            kernel[:, place] = k[:, source]
            recurrent[index * units:(index + 1) * units, place] = r[:, source]
            bias[place] = b[source]
    dense_kernel = np.concatenate([w[-2] for w in weights], axis=0) / count
    dense_bias = np.mean([w[-1] for w in weights], axis=0)
    target.set_weights([kernel, recurrent, bias, dense_kernel, dense_bias])

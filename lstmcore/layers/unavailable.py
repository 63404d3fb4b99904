"""Keras layers lstmcore leaves out on purpose, and what to use instead.

`from lstmcore.layers import GRU` in a ported Keras script should say why it
fails and how to port it, not just "cannot import name".  CPython's
`from X import Y` turns an AttributeError from a module's `__getattr__` into
a generic "cannot import name" and drops its message, so these names raise
an ImportError (a subclass, `LayerNotInLstmcore`) with the advice instead.
"""
from __future__ import annotations

__all__ = ["LayerNotInLstmcore", "unavailable_layer", "ALTERNATIVES"]

_USE_LSTM = "use LSTM (or Bidirectional(LSTM(...)))"
_USE_POOLING = ("use Bidirectional(LSTM(..., return_sequences=True)) followed by GlobalMaxPooling1D "
                "or MaskedGlobalPooling")
_USE_CONV1D = "use Conv1D (sequences have one spatial axis)"

ALTERNATIVES = {
    **{name: _USE_LSTM for name in ("GRU", "GRUCell", "SimpleRNN", "SimpleRNNCell", "RNN", "CuDNNGRU",
                                    "CuDNNLSTM", "StackedRNNCells", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")},
    "LSTMCell": "use LSTM (lstmcore runs whole sequences per call, not single cells)",
    **{name: _USE_POOLING for name in ("Attention", "AdditiveAttention", "MultiHeadAttention",
                                       "GroupQueryAttention", "GroupedQueryAttention", "TransformerEncoder",
                                       "TransformerDecoder", "Transformer")},
    **{name: _USE_CONV1D for name in ("Conv2D", "Conv3D", "Conv2DTranspose", "Conv3DTranspose",
                                      "Conv1DTranspose", "SeparableConv1D", "SeparableConv2D",
                                      "DepthwiseConv1D", "DepthwiseConv2D", "MaxPooling2D", "MaxPooling3D",
                                      "AveragePooling2D", "AveragePooling3D", "GlobalMaxPooling2D",
                                      "GlobalAveragePooling2D")},
}


class LayerNotInLstmcore(ImportError):
    """A Keras layer that lstmcore does not provide; the message says what to use instead."""


def unavailable_layer(name):
    """Raise LayerNotInLstmcore for a Keras layer name lstmcore leaves out; return for any other name."""
    advice = ALTERNATIVES.get(name)
    if advice is not None:
        raise LayerNotInLstmcore(f"{name}: lstmcore is an LSTM library and has no {name} layer; {advice}",
                                 name=name, path=None)

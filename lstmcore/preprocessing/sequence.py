"""Keras 2's `keras.preprocessing.sequence`: pad_sequences and TimeseriesGenerator (from lstmcore.utils)."""
from ..utils.sequence_utils import pad_sequences
from ..utils.timeseries import TimeseriesGenerator

__all__ = ["pad_sequences", "TimeseriesGenerator"]

"""Keras's utilities for ported scripts: `keras.utils.X` works as `lstmcore.utils.X`.

to_categorical, pad_sequences, PyDataset / Sequence, timeseries_dataset_from_array
and set_random_seed, with Keras's arguments and results (NumPy arrays).
"""
from .numerical import to_categorical
from .py_dataset import PyDataset, Sequence
from .rng_utils import set_random_seed
from .sequence_utils import pad_sequences
from .timeseries import TimeseriesDataset, timeseries_dataset_from_array

__all__ = ["to_categorical", "pad_sequences", "PyDataset", "Sequence", "timeseries_dataset_from_array",
           "TimeseriesDataset", "set_random_seed"]

"""Keras 2's `keras.preprocessing` path, kept so that old scripts import unchanged.

The functions live in `lstmcore.utils`; these modules only re-export them.
"""
from . import sequence
from ..utils import timeseries_dataset_from_array

__all__ = ["sequence", "timeseries_dataset_from_array"]

"""Sliding windows over a time series: timeseries_dataset_from_array and Keras 2's TimeseriesGenerator.

Both return NumPy batches of windows `data[start + i * sampling_rate]`,
i = 0 .. sequence_length - 1, with the target of each window.  The windows
are gathered with one fancy index per batch (no loop over the samples).
"""
from __future__ import annotations

import numpy as np

from .py_dataset import PyDataset

__all__ = ["timeseries_dataset_from_array", "TimeseriesDataset", "TimeseriesGenerator"]


def _positive(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
    return int(value)


def _check_window_options(data, sequence_length, sequence_stride, sampling_rate, batch_size):
    _positive("sequence_length", sequence_length)
    for name, value in (("sampling_rate", sampling_rate), ("sequence_stride", sequence_stride)):
        if _positive(name, value) >= len(data):
            raise ValueError(f"{name} must be lower than the length of the data. "
                             f"Received: {name}={value}, for data of length {len(data)}")
    if batch_size is not None:
        _positive("batch_size", batch_size)


def _check_range(data, start_index, end_index):
    """(start, end) with Keras's defaults (0, len(data)) and checks."""
    start = 0 if start_index is None else start_index
    end = len(data) if end_index is None else end_index
    if isinstance(start, bool) or not isinstance(start, (int, np.integer)) or not 0 <= start < len(data):
        raise ValueError(f"start_index must be in [0, {len(data)}) (the length of the data). "
                         f"Received: start_index={start_index!r}")
    if isinstance(end, bool) or not isinstance(end, (int, np.integer)) or not start < end <= len(data):
        raise ValueError(f"end_index must be higher than start_index ({start}) and at most the length of the "
                         f"data ({len(data)}). Received: end_index={end_index!r}")
    return int(start), int(end)


class TimeseriesDataset:
    """The batches of `timeseries_dataset_from_array`: iterable (once per epoch) and sized.

    Each item is `(x, y)` (or `x` alone without targets): x (batch, sequence_length, ...)
    and y the targets of the windows' first steps.
    """

    def __init__(self, data, targets, starts, offsets, batch_size):
        self.data, self.targets = data, targets
        self.starts, self.offsets, self.batch_size = starts, offsets, batch_size

    def __len__(self):
        if self.batch_size is None:
            return len(self.starts)
        return -(-len(self.starts) // self.batch_size)

    def _item(self, starts):
        x = self.data[starts[..., None] + self.offsets]
        return x if self.targets is None else (x, self.targets[starts])

    def __iter__(self):
        if self.batch_size is None:
            for start in self.starts:
                yield self._item(np.asarray(start))
            return
        for first in range(0, len(self.starts), self.batch_size):
            yield self._item(self.starts[first:first + self.batch_size])


def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1, sampling_rate=1,
                                  batch_size=128, shuffle=False, seed=None, start_index=None, end_index=None):
    """Batches of sliding windows over `data`, as keras.utils.timeseries_dataset_from_array.

    Window i starts at step `start_index + p_i` with p_i = 0, sequence_stride,
    2 * sequence_stride, ... and takes `sequence_length` steps every
    `sampling_rate` steps; its target is `targets[start_index + p_i]` (so to
    predict the step after a window, pass `targets=data[sequence_length:]`).
    There are `end_index - start_index - (sequence_length - 1) * sampling_rate`
    start positions at most (fewer if targets is shorter), stepping by sequence_stride.

    Args:
        data: array (steps, ...), axis 0 is time.
        targets: array (steps, ...) or None (then the batches are x alone).
        sequence_length, sequence_stride (default 1), sampling_rate (default 1): positive ints.
        batch_size: default 128; None yields single windows.
        shuffle: default False; True shuffles the windows (np.random.RandomState(seed), as Keras).
        seed: int or None; start_index, end_index: the range of data used (default: all).

    Returns a `TimeseriesDataset`: iterate it for the NumPy batches; `len()` is the number of batches.
    """
    data = np.asarray(data)
    _check_window_options(data, sequence_length, sequence_stride, sampling_rate, batch_size)
    start, end = _check_range(data, start_index, end_index)
    count = end - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        targets = np.asarray(targets)
        count = min(count, len(targets) - start)
    starts = np.arange(0, max(count, 0), sequence_stride, dtype=np.int64)
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(starts)
    offsets = np.arange(sequence_length, dtype=np.int64) * sampling_rate
    return TimeseriesDataset(data, targets, starts + start, offsets, batch_size)


class TimeseriesGenerator(PyDataset):
    """Keras 2's keras.preprocessing.sequence.TimeseriesGenerator: windows ending just before each target.

    Batch `index` holds rows `i = start_index + length + index * batch_size * stride + k * stride`
    (up to end_index); sample k is `data[i - length:i:sampling_rate]`, target `targets[i]`.

    Args:
        data, targets: arrays of the same length (axis 0 is time).
        length: steps of history per sample (before sampling).
        sampling_rate, stride: default 1.  start_index: default 0.  end_index: default len(data) - 1.
        shuffle: default False (True draws random rows, as Keras 2).  reverse: default False
            (True gives each sample's steps latest first).  batch_size: default 128.
    """

    def __init__(self, data, targets, length, sampling_rate=1, stride=1, start_index=0, end_index=None,
                 shuffle=False, reverse=False, batch_size=128):
        super().__init__()
        if len(data) != len(targets):
            raise ValueError(f"data and targets must have the same length. "
                             f"Received: {len(data)} data steps and {len(targets)} targets")
        self.data, self.targets = np.asarray(data), np.asarray(targets)
        self.length = _positive("length", length)
        self.sampling_rate = _positive("sampling_rate", sampling_rate)
        self.stride = _positive("stride", stride)
        self.batch_size = _positive("batch_size", batch_size)
        self.start_index = start_index + self.length
        self.end_index = len(data) - 1 if end_index is None else end_index
        self.shuffle, self.reverse = bool(shuffle), bool(reverse)
        if self.start_index > self.end_index:
            raise ValueError(f"start_index + length ({self.start_index}) > end_index ({self.end_index}) leaves "
                             "no step to predict")

    def __len__(self):
        span = self.batch_size * self.stride
        return (self.end_index - self.start_index + span) // span

    def __getitem__(self, index):
        if self.shuffle:
            rows = np.random.randint(self.start_index, self.end_index + 1, size=self.batch_size)
        else:
            first = self.start_index + self.batch_size * self.stride * index
            rows = np.arange(first, min(first + self.batch_size * self.stride, self.end_index + 1), self.stride)
        steps = np.arange(-self.length, 0, self.sampling_rate)
        samples = self.data[rows[:, None] + steps]
        if self.reverse:
            samples = samples[:, ::-1]
        return samples, self.targets[rows]

"""Data that comes in batches: a Keras `Sequence`/`PyDataset`, a generator, or any iterable of batches.

`fit`, `evaluate` and `predict` take, besides arrays, anything that yields
batches `x`, `(x, y)` or `(x, y, sample_weight)` (x itself an array, a list
or a dict of arrays for a model with several inputs):

- a `Sequence` (`__len__` and `__getitem__`): each epoch reads batches
  0 .. len-1 and then calls its `on_epoch_end`, as Keras does;
- an iterable that can be iterated again (a list of batches,
  `timeseries_dataset_from_array`'s result): a fresh pass each epoch;
- a one-shot iterator or generator: each epoch takes `steps_per_epoch`
  batches from it, or, without `steps_per_epoch`, runs it dry (later epochs
  then have nothing to read, and training stops with a warning, as Keras's).

The progress bar knows the number of batches wherever one of these says it.
"""
from __future__ import annotations

import warnings

import numpy as np

__all__ = ["is_batch_source", "BatchSource", "unpack_batch"]


def is_batch_source(data):
    """Whether `data` yields batches rather than being the arrays themselves."""
    if data is None or isinstance(data, (np.ndarray, list, tuple, dict, str, bytes)):
        return False
    if hasattr(data, "__array__") or hasattr(data, "__array_interface__"):
        return False
    return hasattr(data, "__iter__") or (hasattr(data, "__getitem__") and hasattr(data, "__len__"))


def unpack_batch(batch, argument):
    """(x, y, sample_weight) of one batch; y and sample_weight may be None."""
    if isinstance(batch, tuple):
        if not 1 <= len(batch) <= 3:
            raise ValueError(f"Each batch of {argument} must be x, (x, y) or (x, y, sample_weight). "
                             f"Received: a tuple of {len(batch)}")
        return tuple(batch) + (None,) * (3 - len(batch))
    return batch, None, None


class BatchSource:
    """One epoch's batches at a time from a Sequence, a re-iterable or a one-shot iterator."""

    def __init__(self, data, steps=None, argument="x"):
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1):
            raise ValueError(f"steps must be a positive integer or None. Received: steps={steps!r}")
        self.data = data
        self.argument = argument
        self.is_sequence = hasattr(data, "__getitem__") and hasattr(data, "__len__") and not hasattr(data, "__next__")
        self.one_shot = not self.is_sequence and iter(data) is data
        self.exhausted = False
        self.steps = steps if steps is not None else self._length()

    def _length(self):
        try:
            return len(self.data)
        except TypeError:
            return None

    def epoch(self):
        """The batches of one epoch, unpacked as (x, y, sample_weight)."""
        if self.is_sequence:
            for index in range(self.steps):
                yield unpack_batch(self.data[index], self.argument)
            if hasattr(self.data, "on_epoch_end"):
                self.data.on_epoch_end()
            return
        iterator = self.data if self.one_shot else iter(self.data)
        for count, batch in enumerate(iterator, start=1):
            yield unpack_batch(batch, self.argument)
            if self.steps is not None and count >= self.steps:
                return
        if self.one_shot:
            self.exhausted = True

    def warn_if_exhausted(self):
        """True (with Keras's warning) when a one-shot iterator has nothing left for another epoch."""
        if self.exhausted:
            warnings.warn(f"{self.argument} ran out of data: a generator is read once. Give steps_per_epoch (and a "
                          "generator that loops), or a Sequence or a re-iterable, to train for several epochs",
                          stacklevel=4)
        return self.exhausted

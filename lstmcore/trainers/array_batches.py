"""The batches fit takes from array data, epoch after epoch.

Without `steps_per_epoch` an epoch is one pass over the samples, in a new
order each time when shuffling.  With it, as Keras 3 does for arrays
(keras/src/trainers/epoch_iterator.py), an epoch takes that many batches and
the next epoch continues the same pass where it stopped; a pass that runs out
first ends the epoch early (with Keras's warning) and the next epoch starts a
new pass.
"""
from __future__ import annotations

import warnings

from .. import backend

__all__ = ["ArrayPasses", "check_steps_per_epoch"]


def check_steps_per_epoch(steps_per_epoch):
    """None, or a positive integer."""
    if steps_per_epoch is not None and (isinstance(steps_per_epoch, bool) or not isinstance(steps_per_epoch, int)
                                        or steps_per_epoch < 1):
        raise ValueError(f"steps_per_epoch must be a positive integer or None. Received: "
                         f"steps_per_epoch={steps_per_epoch!r}")
    return steps_per_epoch


class ArrayPasses:
    """Index picks (a slice, or the shuffled indices) of each batch of each epoch."""

    def __init__(self, samples, batch_size, shuffle, steps_per_epoch=None):
        self.samples, self.batch_size, self.shuffle = samples, batch_size, shuffle
        self.batches_a_pass = -(-samples // batch_size)
        self.steps_per_epoch = check_steps_per_epoch(steps_per_epoch)
        self._order, self._next = None, self.batches_a_pass      # no pass begun yet

    @property
    def steps(self):
        """Batches an epoch takes (for the progress bar)."""
        return self.steps_per_epoch or self.batches_a_pass

    def epoch(self):
        """The picks of one epoch's batches, in order."""
        if self.steps_per_epoch is None or self._next >= self.batches_a_pass:
            self._order = backend.rng().permutation(self.samples) if self.shuffle else None
            self._next = 0
        for taken in range(self.steps):
            if self._next >= self.batches_a_pass:
                warnings.warn(f"fit ran out of data: an epoch of steps_per_epoch={self.steps_per_epoch} batches "
                              f"ended after {taken}, at the end of a pass over the {self.samples} samples "
                              f"({self.batches_a_pass} batches); the next epoch starts a new pass", UserWarning,
                              stacklevel=4)
                return
            start = self._next * self.batch_size
            stop = min(start + self.batch_size, self.samples)
            self._next += 1
            yield slice(start, stop) if self._order is None else self._order[start:stop]

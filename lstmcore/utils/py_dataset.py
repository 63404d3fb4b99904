"""PyDataset (Keras 2's Sequence): a dataset that hands out batches by index.

Subclass it with `__len__` (the number of batches) and `__getitem__(index)`
(the batch: `(x, y)` or `(x, y, sample_weight)`), and optionally
`on_epoch_end` (e.g. to reshuffle); `fit` calls them in order.
"""
from __future__ import annotations

__all__ = ["PyDataset", "Sequence"]


class PyDataset:
    """Base class for datasets that return whole batches by index, as keras.utils.PyDataset.

    Args:
        workers, use_multiprocessing, max_queue_size: accepted for Keras
            compatibility; lstmcore loads the batches in the calling thread, in order.

    Example::

        >>> import numpy as np
        >>> class Batches(PyDataset):
        ...     def __init__(self, x, y, batch_size, **kwargs):
        ...         super().__init__(**kwargs)
        ...         self.x, self.y, self.batch_size = x, y, batch_size
        ...     def __len__(self):
        ...         return -(-len(self.x) // self.batch_size)
        ...     def __getitem__(self, index):
        ...         part = slice(index * self.batch_size, (index + 1) * self.batch_size)
        ...         return self.x[part], self.y[part]
        >>> [x.shape[0] for x, _ in Batches(np.zeros((5, 3)), np.zeros(5), 2)]
        [2, 2, 1]
    """

    # class-level defaults, so a subclass that skips super().__init__() still works
    workers, use_multiprocessing, max_queue_size = 1, False, 10

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self.workers = workers
        self.use_multiprocessing = use_multiprocessing
        self.max_queue_size = max_queue_size

    def __getitem__(self, index):
        """The batch at position `index` (0 .. len(self) - 1)."""
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index)")

    def __len__(self):
        """The number of batches in one epoch."""
        raise NotImplementedError(f"{type(self).__name__} must define __len__()")

    @property
    def num_batches(self):
        """The number of batches in one epoch (Keras 3's name for len(self))."""
        return len(self)

    def on_epoch_begin(self):
        """Called before each epoch."""

    def on_epoch_end(self):
        """Called after each epoch (shuffle here)."""

    def __iter__(self):
        """The batches of one epoch, in order."""
        for index in range(len(self)):
            yield self[index]


Sequence = PyDataset

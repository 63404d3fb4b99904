"""Large matrix products of the layers that are not the LSTM (Dense, Conv1D), split over the library's threads.

While lstmcore trains or predicts, every BLAS is pinned to one thread (see
`_threads.py`: a threaded BLAS's spinning workers would take cores from the
LSTM kernels' OpenMP team).  A Dense or Conv1D product then runs on one
core.  `matmul` gives it the others back without waking the BLAS's own
threads: the rows of the left operand are cut into one block per thread and
each block's product runs on a thread of a small pool, calling the
single-threaded BLAS (NumPy releases the GIL around it).  The blocks write
disjoint rows of one output; each row is the same sum as in one product
(tests check agreement to float rounding).  Small products and one thread
take NumPy's `matmul` as it is.

A layer called outside fit/predict (`layer(x)`, `layer.forward`) pins the
BLAS for the length of its large products and splits them the same way:
OpenBLAS's own threads on DanQ's Conv1D product ((64,000 x 104) @ (104 x
320)) made the layer slower at 2 threads than at 1 (forward 81 against
67 ms, forward+backward 224 against 221 ms; split: 59 and 200 ms at 2
threads, benchmarks/results/bench_conv1d.md).
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import _threads

__all__ = ["matmul"]

SPLIT_FROM = 1 << 22      # multiply-adds below which one product on one thread is quicker than a split

_pool_lock = threading.Lock()
_pool = None
_pool_size = 0


def _executor(threads):
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size != threads:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="lstmcore-matmul")
            _pool_size = threads
        return _pool


def matmul(a, b, out=None):
    """`a @ b` (2-D operands) into `out` if given, split over the library's threads when it pays."""
    rows, inner = a.shape
    columns = b.shape[1]
    threads = _threads.get_num_threads()
    if threads < 2 or rows < 2 * threads or rows * inner * columns < SPLIT_FROM:
        return np.matmul(a, b, out=out)
    with _threads.blas_pinned():                 # already pinned inside fit/predict: then a no-op
        return _split_rows(a, b, out, threads)


def _split_rows(a, b, out, threads):
    """`a @ b` as one block of rows per thread, each a single-threaded BLAS call, into `out`."""
    rows, columns = a.shape[0], b.shape[1]
    if out is None:
        out = np.empty((rows, columns), dtype=np.result_type(a, b))
    bounds = np.linspace(0, rows, threads + 1).astype(int)
    blocks = [(start, stop) for start, stop in zip(bounds[:-1], bounds[1:]) if stop > start]
    futures = [_executor(threads).submit(np.matmul, a[start:stop], b, out=out[start:stop])
               for start, stop in blocks[1:]]
    np.matmul(a[blocks[0][0]:blocks[0][1]], b, out=out[blocks[0][0]:blocks[0][1]])
    for future in futures:
        future.result()
    return out

"""Large matrix products of the layers that are not the LSTM (Dense, Conv1D), on lstmcore's kernels.

float32 products go through the native kernels (`layer_product`: the packed micro-kernel for
x @ W and dz @ W^T, lstm_gemm_tn.h for the weight gradient x^T dz), in blocks fixed by the
problem and shared by the library's threads.  The BLAS sums in an order of its own kernel's,
which it picks by the CPU it recognises: scipy's and NumPy's OpenBLAS run their SkylakeX kernel on
AMD Zen 4 and their Haswell one on Zen 5, and the motif evaluation (a BiLSTM and Dense layers)
gave a leave-one-out median of 93.4 % on the one and 91.5 % on the other, until these products and
the layers' sums (layers/base.py's column_sums, activations.last_axis_sum) left the BLAS; .ci/run
checks it with OpenBLAS forced to another kernel.  On lstmcore's kernels
a Dense or Conv1D layer gives the same bits on every CPU, SIMD variant and thread count, as the
LSTM does (README, "One build for every CPU").  The exceptions are the kernels': the baseline
variant, and weight gradients of fewer than 4 rows or, off AMD with AVX-512, more than 1024
columns (lstm_gemm_tn.h), which go to the BLAS.

float64 (the gradient checks) and the baseline variant keep NumPy's `matmul`.  While lstmcore
trains or predicts, every BLAS is pinned to one thread (see `_threads.py`: a threaded BLAS's
spinning workers would take cores from the kernels' OpenMP team), so a large float64 product is
cut into one block of rows per thread, each a single-threaded BLAS call on a thread of a small
pool (NumPy releases the GIL around it).  OpenBLAS's own threads on DanQ's Conv1D product
((64,000 x 104) @ (104 x 320)) made the layer slower at 2 threads than at 1 (forward 81 against
67 ms, forward+backward 224 against 221 ms; split: 59 and 200 ms at 2 threads,
benchmarks/results/bench_conv1d.md).
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import _threads
from ._native import dispatch

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
    """`a @ b` (2-D operands) into `out` if given: float32 on lstmcore's kernels, float64 split
    over the library's threads when it pays."""
    rows, inner = a.shape
    columns = b.shape[1]
    threads = _threads.get_num_threads()
    if a.dtype == np.float32 and b.dtype == np.float32 and rows and inner and columns:
        kernels = dispatch.active()
        if kernels.LAYER_PRODUCTS:
            usable = out is not None and out.dtype == np.float32 and out.flags.c_contiguous
            target = out if usable else np.empty((rows, columns), np.float32)
            with _threads.blas_pinned():     # its fallbacks to sgemm (lstm_gemm_tn.h) on one thread
                kernels.layer_product(a, b, target, threads)
            if out is not None and target is not out:
                out[...] = target
            return target if out is None else out
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

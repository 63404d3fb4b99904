"""One thread setting for both the OpenMP loops and the BLAS.

The default is every core, or OMP_NUM_THREADS when it is set.
`set_num_threads(n)` limits the kernels' OpenMP loops and, through
threadpoolctl, the BLAS that scipy links, so the two never oversubscribe.
"""
from __future__ import annotations

import os

from threadpoolctl import threadpool_info, threadpool_limits

_num_threads = None
_blas_limit = None


def _default_threads():
    env = os.environ.get("OMP_NUM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def get_num_threads() -> int:
    """Number of threads the kernels and the BLAS use."""
    return _num_threads if _num_threads is not None else _default_threads()


def set_num_threads(n) -> None:
    """Use `n` threads for the OpenMP loops and the BLAS; None restores the default."""
    global _num_threads, _blas_limit
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ValueError(f"n must be a positive integer or None. Received: n={n!r}")
    _num_threads = n
    if _blas_limit is not None:
        _blas_limit.restore_original_limits()
        _blas_limit = None
    if n is not None:
        _blas_limit = threadpool_limits(limits=n, user_api="blas")


def blas_info():
    """The BLAS libraries loaded in this process, as threadpoolctl sees them."""
    return [info for info in threadpool_info() if info.get("user_api") == "blas"]

"""One thread setting for both the OpenMP loops and the BLAS.

The default is every core, or OMP_NUM_THREADS when it is set.

Inside the kernels the parallelism is OpenMP's: each thread runs its own
block of sequences (or its own block of a large product) and calls the BLAS
on one thread.  So the BLAS that the kernels call (scipy's, through
scipy.linalg.cython_blas) is pinned to one thread at import: a threaded BLAS
inside an OpenMP team would oversubscribe the cores, and its spinning
workers would fight OpenMP's.  Any other BLAS in the process (NumPy's, used
by the dense layers) is limited to `get_num_threads()` through threadpoolctl.
"""
from __future__ import annotations

import os

from threadpoolctl import ThreadpoolController

_num_threads = None
_controller = None


def _default_threads():
    env = os.environ.get("OMP_NUM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _blas_libraries():
    """(the kernels' BLAS, every other BLAS) as threadpoolctl controllers."""
    global _controller
    import scipy.linalg.cython_blas  # noqa: F401  (loads the BLAS the kernels call)

    if _controller is None:
        _controller = ThreadpoolController()
    blas = _controller.select(user_api="blas")
    scipy_libs = os.path.join(os.path.dirname(os.path.dirname(scipy.linalg.__file__)) + ".libs", "")
    kernel = [lib for lib in blas.lib_controllers if lib.filepath.startswith(scipy_libs)]
    if not kernel:  # scipy linked against a BLAS shared with NumPy: pin that one
        kernel = list(blas.lib_controllers)
    others = [lib for lib in blas.lib_controllers if lib not in kernel]
    return kernel, others


def _apply():
    kernel, others = _blas_libraries()
    for lib in kernel:
        lib.set_num_threads(1)
    for lib in others:
        lib.set_num_threads(get_num_threads())


def get_num_threads() -> int:
    """Number of threads the kernels (and NumPy's BLAS) use."""
    return _num_threads if _num_threads is not None else _default_threads()


def set_num_threads(n) -> None:
    """Use `n` threads in the kernels and NumPy's BLAS; None restores the default."""
    global _num_threads
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ValueError(f"n must be a positive integer or None. Received: n={n!r}")
    _num_threads = n
    _apply()


def blas_info():
    """The BLAS libraries loaded in this process, as threadpoolctl sees them."""
    _blas_libraries()
    return [info for info in _controller.info() if info.get("user_api") == "blas"]


_apply()

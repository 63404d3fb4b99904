"""One thread setting for both the OpenMP loops and the BLAS.

The default is every core, or OMP_NUM_THREADS when it is set;
`set_num_threads(n)` changes it for the kernels and for every BLAS loaded in
the process (NumPy's, and scipy's, which the kernels call), via threadpoolctl.

While lstmcore works (an `ops` call, `fit`, `predict`, ...) every BLAS is
pinned to one thread and the parallelism is OpenMP's, inside the kernels:
each thread runs its own block of sequences (or of units, or of a large
product) and calls the BLAS single-threaded.  A threaded BLAS would
oversubscribe the cores, and its workers keep spinning after each call (for
OpenBLAS, about 0.1 s), taking a core from the kernels' team: the DNA
tagger's fit() at 2 threads took 1.70 s an epoch with NumPy's BLAS threaded
and 0.86 s with it pinned.  After lstmcore's call each BLAS has the thread
count it had before.

Pinning runs around every kernel call, so it must cost next to nothing: the
BLAS's own get/set functions are looked up once per library (threadpoolctl
resolved them through a chain of Python calls each time, a few percent of a
small model's forward) and a library already on one thread is left alone.
"""
from __future__ import annotations

import functools
import os
import threading

from threadpoolctl import ThreadpoolController

_num_threads = None
_controller = None
_libraries = []
_pin_lock = threading.Lock()
_pin_depth = 0
_pinned_from = []          # (library, its thread count before the outermost pin)


class _BlasLibrary:
    """One BLAS's thread count, read and set through functions looked up once.

    OpenBLAS (pthreads) is called through its C functions directly, found by
    threadpoolctl's own symbol lookup (which knows the prefixes of the
    NumPy/SciPy builds); any other BLAS goes through threadpoolctl's methods.
    """

    def __init__(self, controller):
        self.controller = controller
        self.get_num_threads = controller.get_num_threads
        self.set_num_threads = controller.set_num_threads
        lookup = getattr(controller, "_get_symbol", None)
        if (controller.internal_api == "openblas" and lookup is not None
                and getattr(controller, "threading_layer", None) != "openmp"):
            getter = lookup("openblas_get_num_threads")
            setter = lookup("openblas_set_num_threads")
            if getter is not None and setter is not None:
                self.get_num_threads, self.set_num_threads = getter, setter


@functools.lru_cache(maxsize=1)
def _default_threads():
    """OMP_NUM_THREADS or the usable cores, read once (and again after `set_num_threads(None)`):
    every kernel call asks, and reading the environment and the affinity mask each time
    is a measurable share of a small model's forward."""
    env = os.environ.get("OMP_NUM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _blas_libraries(rescan=False):
    """Every BLAS in the process, as threadpoolctl controllers.

    Scanned once (and again by `set_num_threads`, for a BLAS loaded since):
    `blas_pinned` runs on every kernel call and must stay cheap.
    """
    global _controller, _libraries
    if _controller is None or rescan:
        import scipy.linalg.cython_blas  # noqa: F401  (loads the BLAS the kernels call)

        _controller = ThreadpoolController()
        _libraries = [_BlasLibrary(lib) for lib in _controller.select(user_api="blas").lib_controllers]
    return _libraries


def _set_blas_threads(n):
    for lib in _blas_libraries():
        lib.set_num_threads(n)


def get_num_threads() -> int:
    """Number of threads the kernels (and, outside lstmcore's calls, the BLAS) use."""
    return _num_threads if _num_threads is not None else _default_threads()


def set_num_threads(n) -> None:
    """Use `n` threads in the kernels and the BLAS; None restores the default."""
    global _num_threads, _pinned_from
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ValueError(f"n must be a positive integer or None. Received: n={n!r}")
    with _pin_lock:
        _num_threads = n
        if n is None:
            _default_threads.cache_clear()
        _blas_libraries(rescan=True)
        if _pin_depth == 0:
            _set_blas_threads(get_num_threads())
        else:                   # inside a pinned block: the new count applies when it ends
            _pinned_from = [(lib, get_num_threads()) for lib in _libraries]


class _Pinned:
    """The context `blas_pinned()` returns: a class, not a generator, to stay cheap."""

    __slots__ = ()

    def __enter__(self):
        global _pin_depth, _pinned_from
        with _pin_lock:
            if _pin_depth == 0:
                _pinned_from = [(lib, n) for lib in _blas_libraries()
                                if (n := lib.get_num_threads()) not in (1, None)]   # None: count unknown
                for lib, _ in _pinned_from:
                    lib.set_num_threads(1)
            _pin_depth += 1
        return self

    def __exit__(self, *exc_info):
        global _pin_depth, _pinned_from
        with _pin_lock:
            _pin_depth -= 1
            if _pin_depth == 0:
                for lib, threads in _pinned_from:
                    lib.set_num_threads(threads)
                _pinned_from = []
        return False


_PINNED = _Pinned()


def is_blas_pinned() -> bool:
    """Whether lstmcore is inside a call that pinned every BLAS to one thread."""
    return _pin_depth > 0


def blas_pinned():
    """Every BLAS on one thread for the length of the `with` block (re-entrant, thread-safe)."""
    return _PINNED


def with_blas_pinned(method):
    """Decorator: run `method` inside `blas_pinned()`."""
    @functools.wraps(method)
    def pinned(*args, **kwargs):
        with blas_pinned():
            return method(*args, **kwargs)
    return pinned


def blas_info():
    """The BLAS libraries loaded in this process, as threadpoolctl sees them."""
    _blas_libraries(rescan=True)
    return [info for info in _controller.info() if info.get("user_api") == "blas"]

"""`show_config()`: what this build of lstmcore runs on."""
from __future__ import annotations

import platform
import sys

from . import __version__
from ._native import lstm as _kernel
from ._malloc import malloc_tuned
from ._threads import blas_info, get_num_threads


def config_lines():
    """The facts `show_config` prints, as (name, value) pairs."""
    blas = blas_info()
    blas_text = ", ".join(
        f"{b.get('internal_api', '?')} {b.get('version', '?')} ({b.get('architecture', '?')}, "
        f"{b.get('num_threads', '?')} threads)" for b in blas) or "not loaded yet"
    return [
        ("lstmcore", __version__),
        ("python", sys.version.split()[0]),
        ("platform", platform.platform()),
        ("openmp", "on" if _kernel.openmp_enabled() else "OFF (serial build)"),
        ("simd", _kernel.simd_kernel()),
        ("blas", blas_text),
        ("kernel blas", "one thread inside lstmcore's calls; OpenMP splits the work"),
        ("threads", str(get_num_threads())),
        ("malloc", "glibc thresholds raised (buffers reused)" if malloc_tuned()
         else "left as it is"),
    ]


def show_config(file=None) -> None:
    """Print the version, OpenMP on or off, the BLAS in use and the thread count."""
    import scipy.linalg  # noqa: F401  (loads the BLAS so threadpoolctl can see it)

    for name, value in config_lines():
        print(f"{name:>9}: {value}", file=file or sys.stdout)

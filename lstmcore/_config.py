"""`show_config()`: what this build of lstmcore runs on."""
from __future__ import annotations

import platform
import sys

from . import __version__
from ._native import dispatch
from ._malloc import malloc_tuned
from ._threads import blas_info, get_num_threads


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo's, else the platform's), for benchmark and result headers."""
    fields = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            for line in info:
                key, _, value = line.partition(":")
                if not key.strip():
                    break  # the first processor's block is enough
                fields.setdefault(key.strip().lower(), value.strip())
    except OSError:
        pass
    name = fields.get("model name") or platform.processor() or platform.machine()
    if "cpu family" in fields and "model" in fields:  # a VM may hide the name ("AMD EPYC"), not these
        name += f" (family {fields['cpu family']}, model {fields['model']})"
    return name


def machine_summary() -> str:
    """One line naming the machine a figure was measured on: CPU model, cores, the features the kernel
    variants use, and the variant in use (the same table differs by up to 2x between CPUs)."""
    import os

    features = ", ".join(sorted(dispatch.cpu_features())) or "none of avx2/fma/avx512"
    return (f"{cpu_model()} ({platform.machine()}, {os.cpu_count()} cores; {features}); "
            f"lstmcore kernel variant {dispatch.active_name()}")


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
        ("cpu model", cpu_model()),
        ("openmp", "on" if dispatch.active().openmp_enabled() else "OFF (serial build)"),
        *dispatch.describe().items(),
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

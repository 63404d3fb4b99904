"""Which compiled variant of the kernels this process runs.

The kernels are compiled several times (setup.py's VARIANTS), each with its
own instruction-set flags, so one build runs on any CPU of its architecture
and still uses the wide instructions where the CPU has them.  The variant is
chosen once, at the first kernel call (or `show_config`): the one named by `LSTMCORE_KERNEL` if set, otherwise
the widest the CPU supports (a `native` build, made with
`LSTMCORE_ARCH_FLAGS`, first: its builder asked for it).  Asking for a variant
the CPU lacks, or that was not built, is an error that lists what there is.

Results of record must not depend on the variant: the variants differ in
float32 rounding only, and the tests run every kernel test once per variant
the machine supports (`lstmcore.testing.kernel_variants`).
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import threading
from types import ModuleType
from typing import Dict, FrozenSet, Iterator, List, Optional, Tuple

__all__ = ["VARIANTS", "KernelChoiceError", "built_variants", "cpu_features", "supported_variants",
           "active", "active_name", "using"]

# Preference order, widest first, and the CPU features (cpu_features.h) each needs.
VARIANTS: Tuple[Tuple[str, FrozenSet[str]], ...] = (
    ("native", frozenset()),
    ("avx512", frozenset({"avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq"})),
    ("avx2", frozenset({"avx2", "fma"})),
    ("baseline", frozenset()),
)
_REQUIRES = dict(VARIANTS)


class KernelChoiceError(RuntimeError):
    """LSTMCORE_KERNEL (or `using`) names a variant this build or this CPU cannot run."""


def _module_name(name: str) -> str:
    return f"{__package__}.kernels_{name}"


def built_variants() -> List[str]:
    """The variants this build holds, widest first."""
    return [name for name, _ in VARIANTS if importlib.util.find_spec(_module_name(name)) is not None]


def cpu_features() -> FrozenSet[str]:
    """The dispatch table's instruction sets that this CPU (and its OS) supports."""
    return importlib.import_module(_module_name("baseline")).cpu_features()


def supported_variants() -> List[str]:
    """The built variants this CPU runs, widest first."""
    have = cpu_features()
    return [name for name in built_variants() if _REQUIRES[name] <= have]


def _load(name: str) -> ModuleType:
    if name not in _REQUIRES:
        raise KernelChoiceError(f"unknown kernel variant {name!r}: the variants are "
                                f"{', '.join(n for n, _ in VARIANTS)}")
    built = built_variants()
    if name not in built:
        raise KernelChoiceError(f"the kernel variant {name!r} was not built: this build has "
                                f"{', '.join(built)}")
    missing = _REQUIRES[name] - cpu_features()
    if missing:
        raise KernelChoiceError(
            f"the kernel variant {name!r} needs {', '.join(sorted(missing))}, which this CPU lacks "
            f"(it has: {', '.join(sorted(cpu_features())) or 'none of the dispatch table'}); "
            f"variants it runs: {', '.join(supported_variants())}")
    return importlib.import_module(_module_name(name))


def _chosen() -> ModuleType:
    asked = os.environ.get("LSTMCORE_KERNEL", "").strip()
    if asked:
        try:
            return _load(asked)
        except KernelChoiceError as error:
            raise KernelChoiceError(f"LSTMCORE_KERNEL={asked}: {error}") from None
    return _load(supported_variants()[0])


_active: Optional[ModuleType] = None
_switch = threading.Lock()


def active() -> ModuleType:
    """The kernels module in use: `forward`, `backward`, `adam`, ...; chosen on the first call."""
    global _active
    if _active is None:
        with _switch:
            if _active is None:
                _active = _chosen()
    return _active


def active_name() -> str:
    return active().variant()


@contextlib.contextmanager
def using(name: str) -> Iterator[ModuleType]:
    """Run the enclosed code on variant `name` (for tests and benchmarks; not thread-safe with
    other threads that run kernels meanwhile)."""
    global _active
    module = _load(name)
    previous = active()
    with _switch:
        _active = module
    try:
        yield module
    finally:
        _active = previous


def describe() -> Dict[str, str]:
    """The facts `show_config` prints about the kernels."""
    return {"kernel": f"{active_name()} (built: {', '.join(built_variants())}; "
                      f"this CPU runs: {', '.join(supported_variants())})",
            "cpu": ", ".join(sorted(cpu_features())) or "none of avx2, fma, avx512*",
            "bfloat16 inference": _bfloat16_description(active()),
            "large products": ("lstmcore's kernels (wide inputs' projection and input gradient, weight "
                               "gradients; faster than sgemm on this CPU)"
                               if active().own_large_products() else "BLAS sgemm")}


def _bfloat16_description(module) -> str:
    """Which product the opt-in bfloat16 inference runs on."""
    if not module.bfloat16_native():
        return "emulated in float32 (opt-in; no faster on this CPU or variant)"
    if module.bfloat16_amx():
        return "AMX tiles (16 rows and more), AVX512-BF16 instructions (fewer)"
    return "AVX512-BF16 instructions"

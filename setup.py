"""Build the compiled LSTM kernels.

This file holds only the extension table and an OpenMP probe; the package
metadata lives in pyproject.toml, and nothing here imports lstmcore.

Environment:
  LSTMCORE_FAIL_NO_OPENMP=1  fail the build instead of building serially when
                             the compiler cannot compile, link and run OpenMP.
  LSTMCORE_ARCH_FLAGS        also build a `native` kernel variant with these flags
                             (e.g. "-march=native"), preferred at run time; the
                             portable variants are built either way.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

OPENMP_PROBE = textwrap.dedent(
    """
    #include <omp.h>
    #include <stdio.h>
    int main(void) {
        int n = 0;
        #pragma omp parallel reduction(+:n)
        n += 1;
        printf("%d\\n", n > 0);
        return n > 0 ? 0 : 1;
    }
    """
)


def _compiler():
    return os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or "cc"


def _compiles_and_runs(source, flags):
    """Compile, link and run `source` with `flags`; True when all three succeed."""
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "probe.c")
        exe = os.path.join(tmp, "probe")
        with open(src, "w") as f:
            f.write(source)
        try:
            subprocess.run([_compiler(), src, "-o", exe, *flags], check=True, capture_output=True)
            subprocess.run([exe], check=True, capture_output=True)
        except (OSError, subprocess.CalledProcessError):
            return False
    return True


def openmp_flags():
    """Return the OpenMP compile/link flags, or [] (with a loud warning) without OpenMP."""
    if _compiles_and_runs(OPENMP_PROBE, ["-fopenmp"]):
        return ["-fopenmp"]
    message = (
        "\n" + "*" * 72 + "\n"
        "lstmcore: the C compiler cannot build and run an OpenMP program.\n"
        "The kernels will be built SERIALLY: they will use one core only.\n"
        "Install an OpenMP runtime (e.g. libgomp) and rebuild for full speed.\n"
        + "*" * 72 + "\n"
    )
    if os.environ.get("LSTMCORE_FAIL_NO_OPENMP") == "1":
        sys.exit(message + "LSTMCORE_FAIL_NO_OPENMP=1: refusing to build without OpenMP.")
    print(message, file=sys.stderr)
    return []


X86_PROBE = "#if !defined(__x86_64__) && !defined(__i386__)\n#error not x86\n#endif\nint main(void) { return 0; }\n"

# The kernel variants: name, flags, whether it needs an x86 target.  Each is the
# same source compiled with its own flags into lstmcore._native.kernels_<name>;
# lstmcore/_native/dispatch.py loads the widest one the CPU runs.  No variant
# uses -march=native: a build must run on any CPU of its architecture.
VARIANTS = (
    ("baseline", [], False),
    ("avx2", ["-mavx2", "-mfma"], True),
    ("avx512", ["-mavx2", "-mfma", "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq",
                "-mprefer-vector-width=512"], True),
)


def _compiles(source, flags):
    """Compile `source` with `flags` to an object file (no linking or running: cross-compilers too)."""
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "probe.c")
        with open(src, "w") as f:
            f.write(source)
        try:
            subprocess.run([_compiler(), "-c", src, "-o", os.path.join(tmp, "probe.o"), *flags],
                           check=True, capture_output=True)
        except (OSError, subprocess.CalledProcessError):
            return False
    return True


def variants():
    """(name, flags) of every variant this compiler can build for its target.

    x86 variants only for an x86 target whose compiler takes their flags, so a
    compiler for aarch64 is never handed an x86 flag.  LSTMCORE_ARCH_FLAGS adds
    a `native` variant built with those flags, which the dispatch prefers.
    """
    x86 = _compiles(X86_PROBE, [])
    chosen = [(name, flags) for name, flags, needs_x86 in VARIANTS
              if not needs_x86 or (x86 and _compiles(X86_PROBE, flags))]
    custom = os.environ.get("LSTMCORE_ARCH_FLAGS", "").split()
    if custom:
        chosen.append(("native", custom))
    return chosen


omp = openmp_flags()
# -fno-trapping-math lets gcc if-convert (and so vectorise) the clamps in the cell.
common_args = ["-O3", "-fno-math-errno", "-fno-trapping-math", *omp]

extensions = [
    Extension(
        f"lstmcore._native.kernels_{name}",
        [f"lstmcore/_native/kernels_{name}.pyx"],
        include_dirs=[numpy.get_include(), "lstmcore/_native"],
        extra_compile_args=[*common_args, *flags],
        extra_link_args=omp,
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_9_API_VERSION"), ("LC_VARIANT", f'"{name}"')],
    )
    for name, flags in variants()
]

setup(
    # the variants compile side by side, one compiler per core
    options={"build_ext": {"parallel": os.cpu_count() or 1}},
    ext_modules=cythonize(
        extensions,
        compiler_directives={
            "language_level": 3,
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
    ),
)

"""Build the compiled LSTM kernels.

This file holds only the extension table and an OpenMP probe; the package
metadata lives in pyproject.toml, and nothing here imports lstmcore.

Environment:
  LSTMCORE_FAIL_NO_OPENMP=1  fail the build instead of building serially when
                             the compiler cannot compile, link and run OpenMP.
  LSTMCORE_ARCH_FLAGS        override the architecture flags (default
                             "-march=native" when the compiler accepts it).
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


def arch_flags():
    """-march=native when the compiler accepts it: the kernels are built where they run."""
    override = os.environ.get("LSTMCORE_ARCH_FLAGS")
    if override is not None:
        return override.split()
    probe = "int main(void) { return 0; }\n"
    return ["-march=native"] if _compiles_and_runs(probe, ["-march=native"]) else []


omp = openmp_flags()
# -fno-trapping-math lets gcc if-convert (and so vectorise) the clamps in the cell.
compile_args = ["-O3", "-fno-math-errno", "-fno-trapping-math", *arch_flags(), *omp]

extensions = [
    Extension(
        "lstmcore._native.lstm",
        ["lstmcore/_native/lstm.pyx"],
        include_dirs=[numpy.get_include(), "lstmcore/_native"],
        extra_compile_args=compile_args,
        extra_link_args=omp,
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_9_API_VERSION")],
    ),
    Extension(
        "lstmcore._native.optimizer_steps",
        ["lstmcore/_native/optimizer_steps.pyx"],
        include_dirs=[numpy.get_include()],
        extra_compile_args=compile_args,
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_9_API_VERSION")],
    ),
]

setup(
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

#!/usr/bin/env bash
# Checks, without an aarch64 machine, that the build suits one (issue 14): setup.py's variant
# probe, run with an aarch64 cross-compiler as CC, chooses the baseline only (no x86 flag reaches
# the compiler), and the baseline kernels' C (as Cython generates it) compiles for aarch64 with
# OpenMP, the x86 intrinsics guarded out.  Needs Debian's gcc-aarch64-linux-gnu; not part of .ci/run.
#   apt-get install -y gcc-aarch64-linux-gnu && bash .ci/cross_compile_aarch64.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CC=aarch64-linux-gnu-gcc
command -v "$CC" >/dev/null || { echo "no $CC: apt-get install gcc-aarch64-linux-gnu"; exit 2; }
out="$(mktemp -d)"
python3 -m venv "$out/venv"       # the build's own requirements, nothing from the caller's environment
"$out/venv/bin/pip" install -q cython numpy scipy setuptools
PATH="$out/venv/bin:$PATH"
python - "$CC" <<'PY'
import os, sys, types
os.environ["CC"] = sys.argv[1]
import setuptools
import Cython.Build
setuptools.setup = lambda **kwargs: None          # the extension table only: no build,
Cython.Build.cythonize = lambda extensions, **kwargs: extensions   # and nothing written into the tree
namespace = {"__name__": "setup_probe", "__file__": "setup.py"}
exec(compile(open("setup.py").read(), "setup.py", "exec"), namespace)
chosen = [name for name, _ in namespace["variants"]()]
print("variants for", sys.argv[1], "->", chosen)
assert chosen == ["baseline"], chosen
PY
python -m cython -3 -X boundscheck=False -X wraparound=False -X cdivision=True -X initializedcheck=False \
    lstmcore/_native/kernels_baseline.pyx -o "$out/kernels_baseline.c" -I lstmcore/_native >/dev/null
python_include="$(python -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
numpy_include="$(python -c 'import numpy; print(numpy.get_include())')"
"$CC" -c -O3 -fno-math-errno -fno-trapping-math -fopenmp -fPIC -Wall -Wno-unused-function \
    -DLC_VARIANT='"baseline"' -DNPY_NO_DEPRECATED_API=NPY_1_9_API_VERSION \
    -I "$python_include" -I "$numpy_include" -I lstmcore/_native \
    "$out/kernels_baseline.c" -o "$out/kernels_baseline.o" 2> "$out/warnings.txt" || { cat "$out/warnings.txt"; exit 1; }
file "$out/kernels_baseline.o"
if grep -q "immintrin\|__m256\|_mm_pause" <(aarch64-linux-gnu-objdump -d "$out/kernels_baseline.o" 2>/dev/null || true); then
    echo "x86 code in the aarch64 object"; exit 1
fi
echo "aarch64: baseline kernels compile ($(grep -c warning "$out/warnings.txt" || true) warnings)"

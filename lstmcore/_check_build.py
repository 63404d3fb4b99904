"""Say in plain words when the compiled kernels are missing."""

INSTRUCTIONS = """lstmcore's compiled kernels are not built in {path}.

lstmcore runs its LSTM in native code (Cython + OpenMP); it has no slow
pure-Python fallback.  Build it from the repository root with

    pip install -e .          (or: pip install .)

which needs a C compiler, Cython >= 3, NumPy >= 2 and SciPy.
The import failed with: {error}"""


def raise_build_error(error):
    import os

    path = os.path.dirname(os.path.abspath(__file__))
    raise ImportError(INSTRUCTIONS.format(path=path, error=error)) from error


try:
    from ._native import kernels_baseline  # noqa: F401  (every build has it)
except ImportError as exc:  # pragma: no cover - exercised only in an unbuilt tree
    raise_build_error(exc)

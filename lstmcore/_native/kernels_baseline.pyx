# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The LSTM and optimizer kernels compiled for portable code for any CPU of the architecture (x86-64's SSE2, aarch64's NEON).

One source, several compilations: setup.py builds this module with the
flags of its variant, and lstmcore/_native/dispatch.py loads the widest one
the CPU runs.  The code is in the included files.
"""
include "lstm_kernels.pxi"
include "optimizer_steps.pxi"

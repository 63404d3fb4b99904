# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The LSTM and optimizer kernels compiled for AVX2 and FMA (x86-64 from Haswell and Zen on).

One source, several compilations: setup.py builds this module with the
flags of its variant, and lstmcore/_native/dispatch.py loads the widest one
the CPU runs.  The code is in the included files.
"""
include "lstm_kernels.pxi"
include "optimizer_steps.pxi"

"""Compiled LSTM kernels (see lstm.pyx for the design note)."""

"""Compiled kernels: one source (lstm_kernels.pxi, whose top is the design note, and
optimizer_steps.pxi) built once per instruction-set variant as kernels_<variant>;
dispatch.py picks the variant a process runs."""

"""The recurrent product of one step: lstmcore's packed micro-kernel against BLAS sgemm, per shape.

Issue 21 asks whether OpenBLAS's own sgemm (AVX-512 kernels on such CPUs)
beats the micro-kernel at some product shape.  A step multiplies the batch's
h (M x H) by the recurrent kernel (H x 4H); the micro-kernel's operand is
packed once per call (not timed here: a call has many steps), sgemm packs
inside every call (timed: that is what it would cost per step).  One
thread, the medians of 7 timings of many calls each, in one process.

    python benchmarks/bench_products.py
    LSTMCORE_KERNEL=avx2 python benchmarks/bench_products.py --no-write

Writes benchmarks/results/bench_products.md unless --no-write.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

BATCHES = (1, 4, 16, 32, 64, 256)
UNITS = (50, 128, 256, 512)
RESULTS = Path(__file__).parent / "results"


def _sgemm_seconds(sgemm, a, b, repeats):
    """sgemm on the row-major arrays without a copy: c^T = b^T a^T in Fortran order, into one output."""
    c_t = np.empty((b.shape[1], a.shape[0]), np.float32, order="F")
    start = time.perf_counter()
    for _ in range(repeats):
        sgemm(1.0, b.T, a.T, beta=0.0, c=c_t, overwrite_c=1)
    return (time.perf_counter() - start) / repeats


def measure(rows, units, kernels):
    """(micro-kernel seconds, sgemm seconds) per product of (rows, units) @ (units, 4 units)."""
    from scipy.linalg.blas import sgemm

    rng = np.random.default_rng(0)
    a = rng.standard_normal((rows, units), dtype=np.float32)
    b = rng.standard_normal((units, 4 * units), dtype=np.float32)
    repeats = max(3, int(2e8 / (2 * rows * units * 4 * units)))
    ours = statistics.median(kernels._time_packed_product(a, b, repeats) for _ in range(7))
    blas = statistics.median(_sgemm_seconds(sgemm, a, b, repeats) for _ in range(7))
    return ours, blas


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    import lstmcore
    from lstmcore._native import dispatch

    threadpool_limits(1)
    kernels = dispatch.active()
    header = "| B (rows) | H | micro-kernel us | sgemm us | sgemm / micro-kernel | micro-kernel GFLOP/s |"
    rows = [header, "|---|---|---|---|---|---|"]
    for units in UNITS:
        for batch in BATCHES:
            ours, blas = measure(batch, units, kernels)
            flops = 2 * batch * units * 4 * units
            rows.append(f"| {batch} | {units} | {ours * 1e6:.2f} | {blas * 1e6:.2f} | **{blas / ours:.2f}** | "
                        f"{flops / ours / 1e9:.0f} |")
            print(rows[-1], flush=True)
    if not args.no_write:
        text = ["# bench_products: one step's recurrent product, micro-kernel vs sgemm (1 thread)", "",
                f"Command: `python benchmarks/bench_products.py {' '.join(argv or sys.argv[1:])}`", "",
                f"Machine: {lstmcore.machine_summary()}; {time.strftime('%Y-%m-%d')}", "",
                "sgemm / micro-kernel > 1: the micro-kernel is faster.", "", *rows, ""]
        path = RESULTS / "bench_products.md"
        path.write_text("\n".join(text))
        print(f"wrote {path}")


if __name__ == "__main__":
    main()

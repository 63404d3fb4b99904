"""lstmcore's own products against BLAS sgemm, per shape: the recurrent step and the weight gradients.

Issue 21 asks whether OpenBLAS's own sgemm (AVX-512 kernels on such CPUs)
beats the micro-kernel at some product shape.  A step multiplies the batch's
h (M x H) by the recurrent kernel (H x 4H); the micro-kernel's operand is
packed once per call (not timed here: a call has many steps), sgemm packs
inside every call (timed: that is what it would cost per step).

The second table is the input projection of wide inputs, x (rows x D) @ kernel (D x 4H), at
the shapes of a block of steps (inference: 8 steps of big's 64 rows; training: all 100) and of
other wide-input layers, and their input gradient in training, gate gradients (rows x 4H) @
kernel^T: the packed micro-kernel in its blocks of rows (lc_project_packed_f) against sgemm.
lstm_gemm.h takes the micro-kernel on the CPUs where this table says it wins (AMD Zen 4 and
Zen 5 so far) and sgemm elsewhere.

The third table is the weight gradients' product A^T B at the end of a
training call (d_rkernel: A the steps x batch rows of h, B those of the gate
gradients), at the benchmark configurations' shapes: lstm_gemm_tn.h where the
variant has it (its copies timed: each call makes them; past 1024 columns too,
which the kernels take only where the CPU's choice below is theirs), against
sgemm on the same row-major arrays without copies.  One thread, the medians of 7 timings
of many calls each, in one process.

    python benchmarks/bench_products.py
    LSTMCORE_KERNEL=avx2 python benchmarks/bench_products.py --no-write
    python benchmarks/bench_products.py --output benchmarks/results/bench_products_amd_zen5.md

Writes benchmarks/results/bench_products.md (or --output) unless --no-write.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

BATCHES = (1, 4, 16, 32, 64, 256)
# name: (K = steps x batch, M, N) of bench_lstm.py's configurations' weight-gradient products
WEIGHT_GRADIENTS = {
    "seed d_rkernel": (320, 50, 200),
    "dna d_rkernel": (12800, 128, 512),
    "long d_rkernel": (32000, 64, 256),
    "single d_rkernel": (1000, 128, 512),
    "dna256 d_rkernel": (51200, 128, 512),
    "big d_kernel (layer 1)": (6400, 128, 2048),
    "big d_rkernel": (6400, 512, 2048),
}
UNITS = (50, 128, 256, 512)
RESULTS = Path(__file__).parent / "results"


def _sgemm_seconds(sgemm, a, b, repeats):
    """sgemm on the row-major arrays without a copy: c^T = b^T a^T in Fortran order, into one output."""
    c_t = np.empty((b.shape[1], a.shape[0]), np.float32, order="F")
    start = time.perf_counter()
    for _ in range(repeats):
        sgemm(1.0, b.T, a.T, beta=0.0, c=c_t, overwrite_c=1)
    return (time.perf_counter() - start) / repeats


def _micro_and_sgemm(rows, depth, columns, kernels, flops_per_timing, projection=False):
    """(micro-kernel seconds, sgemm seconds) per (rows, depth) @ (depth, columns), the micro-kernel
    as the recurrence calls it or, with `projection`, in the input projection's blocks of rows."""
    from scipy.linalg.blas import sgemm

    rng = np.random.default_rng(0)
    a = rng.standard_normal((rows, depth), dtype=np.float32)
    b = rng.standard_normal((depth, columns), dtype=np.float32)
    repeats = max(3, int(flops_per_timing / (2 * rows * depth * columns)))
    ours = statistics.median(kernels._time_packed_product(a, b, repeats, projection) for _ in range(7))
    blas = statistics.median(_sgemm_seconds(sgemm, a, b, repeats) for _ in range(7))
    return ours, blas


def measure(rows, units, kernels):
    """(micro-kernel seconds, sgemm seconds) per product of (rows, units) @ (units, 4 units)."""
    return _micro_and_sgemm(rows, units, 4 * units, kernels, 2e8)


# name: (rows, D, 4H) of input projections
PROJECTIONS = {
    "big layer 1, inference block": (512, 128, 2048),
    "big layer 2, inference block": (512, 512, 2048),
    "big layer 2, training (100 steps)": (6400, 512, 2048),
    "Conv1D 320 filters -> LSTM 320, 32 x 8 steps": (256, 320, 1280),
    "64 features -> LSTM 128, 64 x 16 steps": (1024, 64, 512),
    "32 features -> LSTM 64, 8 x 64 steps": (512, 32, 256),
    "big layer 2, input gradient (training)": (6400, 2048, 512),
    "big layer 1, input gradient (training)": (6400, 2048, 128),
}


def measure_projection(rows, inputs, columns, kernels):
    """(packed micro-kernel seconds, sgemm seconds) per input projection (rows, inputs) @ (inputs, columns)."""
    return _micro_and_sgemm(rows, inputs, columns, kernels, 1e9, projection=True)


def _projection_rows(kernels):
    header = ("| projection | rows, D, 4H | micro-kernel us | sgemm us | sgemm / micro-kernel | "
              "micro-kernel GFLOP/s | sgemm GFLOP/s |")
    rows = [header, "|---|---|---|---|---|---|---|"]
    for name, (m, k, n) in PROJECTIONS.items():
        ours, blas = measure_projection(m, k, n, kernels)
        flops = 2 * m * k * n
        rows.append(f"| {name} | {m},{k},{n} | {ours * 1e6:.0f} | {blas * 1e6:.0f} | **{blas / ours:.2f}** | "
                    f"{flops / ours / 1e9:.0f} | {flops / blas / 1e9:.0f} |")
        print(rows[-1], flush=True)
    return rows


def measure_weight_gradient(depth, rows, columns, kernels):
    """(lstmcore seconds, sgemm seconds) per C (rows x columns) = A^T B, A (depth x rows), B (depth x columns)."""
    from scipy.linalg.blas import sgemm

    rng = np.random.default_rng(0)
    a = rng.standard_normal((depth, rows), dtype=np.float32)
    b = rng.standard_normal((depth, columns), dtype=np.float32)
    repeats = max(3, int(1e9 / (2 * depth * rows * columns)))
    kernels._set_large_products("own")    # lstm_gemm_tn.h past 1024 columns too, on any CPU
    try:
        ours = statistics.median(kernels._time_weight_gradient_product(a, b, repeats) for _ in range(7))
    finally:
        kernels._set_large_products("auto")
    c_t = np.empty((columns, rows), np.float32, order="F")

    def blas():
        start = time.perf_counter()
        for _ in range(repeats):   # C^T = B^T A: both operands Fortran views of the row-major arrays
            sgemm(1.0, b.T, a.T, beta=0.0, c=c_t, overwrite_c=1, trans_b=1)
        return (time.perf_counter() - start) / repeats

    return ours, statistics.median(blas() for _ in range(7))


def _weight_gradient_rows(kernels):
    header = ("| product | K, M, N | lstmcore's path | lstmcore us | sgemm us | sgemm / lstmcore | "
              "lstmcore GFLOP/s | sgemm GFLOP/s |")
    rows = [header, "|---|---|---|---|---|---|---|---|"]
    for name, (depth, m, n) in WEIGHT_GRADIENTS.items():
        ours, blas = measure_weight_gradient(depth, m, n, kernels)
        flops = 2 * depth * m * n
        path = "lstm_gemm_tn.h" if kernels.HAS_WEIGHT_GRADIENT_KERNEL and m >= 4 else "sgemm"
        rows.append(f"| {name} | {depth},{m},{n} | {path} | {ours * 1e6:.0f} | {blas * 1e6:.0f} | **{blas / ours:.2f}** | "
                    f"{flops / ours / 1e9:.0f} | {flops / blas / 1e9:.0f} |")
        print(rows[-1], flush=True)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--weight-gradients-only", action="store_true")
    parser.add_argument("--output", type=Path, default=RESULTS / "bench_products.md")
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    import lstmcore
    from lstmcore._native import dispatch

    threadpool_limits(1)
    kernels = dispatch.active()
    header = "| B (rows) | H | micro-kernel us | sgemm us | sgemm / micro-kernel | micro-kernel GFLOP/s |"
    rows = [header, "|---|---|---|---|---|---|"]
    for units in () if args.weight_gradients_only else UNITS:
        for batch in BATCHES:
            ours, blas = measure(batch, units, kernels)
            flops = 2 * batch * units * 4 * units
            rows.append(f"| {batch} | {units} | {ours * 1e6:.2f} | {blas * 1e6:.2f} | **{blas / ours:.2f}** | "
                        f"{flops / ours / 1e9:.0f} |")
            print(rows[-1], flush=True)
    projection_rows = [] if args.weight_gradients_only else _projection_rows(kernels)
    gradient_rows = _weight_gradient_rows(kernels)
    choice = "lstmcore's kernels" if kernels.own_large_products() else "sgemm"
    if not args.no_write:
        text = ["# bench_products: one step's recurrent product, micro-kernel vs sgemm (1 thread)", "",
                f"Command: `python benchmarks/bench_products.py {' '.join(argv or sys.argv[1:])}`", "",
                f"Machine: {lstmcore.machine_summary()}; {time.strftime('%Y-%m-%d')}", "",
                "sgemm / micro-kernel > 1: the micro-kernel is faster.", "", *rows, "",
                "## The wide inputs' projection and input gradient (lc_project_packed_f where the CPU is "
                "AMD with AVX-512, else sgemm)", "",
                f"This CPU's choice for the large products: {choice}.", "",
                *projection_rows, "",
                "## The weight gradients' product A^T B (lstm_gemm_tn.h; BLAS where the variant lacks it; "
                "past N = 1024 only where the CPU's choice is lstmcore's kernels)", "",
                f"lstmcore's weight-gradient kernel in this variant: {kernels.HAS_WEIGHT_GRADIENT_KERNEL}.", "",
                *gradient_rows, ""]
        args.output.write_text("\n".join(text))
        print(f"wrote {args.output}")


if __name__ == "__main__":
    main()

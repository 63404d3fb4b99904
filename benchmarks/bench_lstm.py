"""lstmcore's LSTM layer against torch.nn.LSTM, side by side, on the CPU.

Each (configuration, mode, threads, framework) cell runs in its own
subprocess (with --rounds N, N times, interleaved with the other cells, and
the median is reported), so that peak memory (ru_maxrss) belongs to that cell alone and
thread settings never leak between cells.  Times are medians of several
repeats after a warm-up; the ratio is torch time / lstmcore time (higher is
better for lstmcore).  The machine's matrix-product rate is measured in the
same run (the faster of the BLAS's sgemm and lstmcore's packed micro-kernel:
a BLAS that does not know the CPU runs narrower kernels than it has) and
each cell reports the fraction of it that its arithmetic reaches.

    python benchmarks/bench_lstm.py                  # every configuration, 1 and 2 threads
    python benchmarks/bench_lstm.py --configs seed dna --threads 1
    python benchmarks/bench_lstm.py --rounds 3             # what the committed table uses

Writes benchmarks/results/bench_lstm.md (the table and the command) unless --no-write.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

# name: (batch, steps, inputs, units)
CONFIGS = {
    "seed": (32, 10, 1, 50),
    "dna": (64, 200, 4, 128),
    "long": (4, 8000, 4, 64),
    "single": (1, 1000, 4, 128),
    "big": (64, 100, 128, 512),
    "dna256": (256, 200, 4, 128),   # thread scaling beyond 2 cores
}
# stacked layers (issue 7: big is two layers); the others are one
LAYERS = {"big": 2}
DEFAULT_CONFIGS = ["seed", "dna", "long", "single", "big"]
MODES = ("inference", "training")
RESULTS = Path(__file__).parent / "results"


def _flops(config, mode):
    """Multiply-adds x 2 of the GEMM work: forward once, training three times that."""
    batch, steps, inputs, units = CONFIGS[config]
    layer_inputs = [inputs] + [units] * (LAYERS.get(config, 1) - 1)
    forward = sum(2.0 * batch * steps * (d + units) * 4 * units for d in layer_inputs)
    return forward if mode == "inference" else 3.0 * forward


def _median_seconds(step, budget=1.5, min_repeats=5, max_repeats=200):
    """Median wall time of `step()` after a warm-up, repeating within a time budget."""
    step()
    start = time.perf_counter()
    step()
    once = max(time.perf_counter() - start, 1e-7)
    repeats = int(min(max_repeats, max(min_repeats, budget / once)))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times), repeats


def _inputs(config, dtype_module):
    import numpy as np

    batch, steps, inputs, units = CONFIGS[config]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, steps, inputs), dtype=np.float32)
    grad = rng.standard_normal((batch, steps, units), dtype=np.float32)
    return x, grad


def _weights(config):
    """Each layer's (kernel, recurrent kernel, bias) for lstmcore, N(0, 0.1), zero bias."""
    import numpy as np

    batch, steps, inputs, units = CONFIGS[config]
    rng = np.random.default_rng(1)
    return [((rng.standard_normal((d, 4 * units)) * 0.1).astype(np.float32),
             (rng.standard_normal((units, 4 * units)) * 0.1).astype(np.float32),
             np.zeros(4 * units, np.float32))
            for d in [inputs] + [units] * (LAYERS.get(config, 1) - 1)]


def _lstmcore_step(config, mode):
    import numpy as np

    import lstmcore
    from lstmcore import ops

    batch, steps, inputs, units = CONFIGS[config]
    weights = _weights(config)
    x, grad = _inputs(config, np)

    def inference():
        outputs = x
        for kernel, rkernel, bias in weights:
            outputs = ops.lstm_forward(outputs, kernel, rkernel, bias).outputs

    def training():
        outputs, caches = x, []
        for kernel, rkernel, bias in weights:
            result = ops.lstm_forward(outputs, kernel, rkernel, bias, training=True)
            outputs = result.outputs
            caches.append(result.cache)
        d_outputs = grad
        for cache in reversed(caches):
            # as the LSTM layer (and torch without h0): no gradient for the initial state
            d_outputs = ops.lstm_backward(cache, d_outputs, initial_state_gradients=False).d_x

    return inference if mode == "inference" else training, lstmcore


def _torch_step(config, mode):
    import numpy as np
    import torch

    batch, steps, inputs, units = CONFIGS[config]
    torch.manual_seed(1)
    lstm = torch.nn.LSTM(inputs, units, num_layers=LAYERS.get(config, 1), batch_first=True)
    x_np, grad_np = _inputs(config, np)
    x, grad = torch.from_numpy(x_np), torch.from_numpy(grad_np)

    def inference():
        with torch.no_grad():
            lstm(x)

    def training():
        lstm.zero_grad(set_to_none=True)
        out, _ = lstm(x)
        (out * grad).sum().backward()

    return inference if mode == "inference" else training, torch


def worker(spec):
    """Run one cell in this process and print its JSON result."""
    threads = spec["threads"]
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if spec["framework"] == "torch":
        step, module = _torch_step(spec["config"], spec["mode"])
        module.set_num_threads(threads)
    else:
        step, module = _lstmcore_step(spec["config"], spec["mode"])
        module.set_num_threads(threads)
    import_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    seconds, repeats = _median_seconds(step)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(dict(spec, seconds=seconds, repeats=repeats, peak_mib=peak / 1024,
                          work_mib=(peak - import_rss) / 1024, start_mib=base_rss / 1024)))


def sgemm_gflops(threads, n=1024):
    """The machine's sgemm rate through the BLAS that lstmcore calls (scipy's).

    The best of 25 products: a capacity of the machine, which a noisy
    neighbour lowers for a while but never raises.
    """
    return _best_rate_in_subprocess(threads, (
        "from scipy.linalg.blas import sgemm\n"
        f"a = np.asfortranarray(np.random.rand({n}, {n}).astype(np.float32)); b = a.copy(order='F')\n"
        "def seconds():\n"
        "    t = time.perf_counter(); sgemm(1.0, a, b); return time.perf_counter() - t\n"), n)


def micro_kernel_gflops(n=1024):
    """One core's rate on lstmcore's packed micro-kernel (b packed once, as a call packs its
    kernels), the best of 25 products of n x n.  On a CPU the BLAS does not know (scipy's
    OpenBLAS 0.3.30 runs its Haswell kernel on AMD Zen 5), this is the faster of the two."""
    return _best_rate_in_subprocess(1, (
        "from lstmcore._native import dispatch\n"
        f"a = np.random.rand({n}, {n}).astype(np.float32); b = a.copy()\n"
        "def seconds(): return dispatch.active()._time_packed_product(a, b, 3)\n"), n)


def _best_rate_in_subprocess(threads, setup, n):
    """GFLOP/s of the best of 25 timings `seconds()` (defined by `setup`: one n x n product's
    seconds), in a fresh process."""
    code = (
        "import time, numpy as np\n"
        "from threadpoolctl import threadpool_limits\n"
        + setup +
        f"threadpool_limits({threads})\n"
        "seconds()\n"
        f"print(2 * {n}**3 / min(seconds() for _ in range(25)) / 1e9)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=_env(threads))
    return float(out.stdout.strip())


def core_round_trip_ns():
    """Nanoseconds for a cache line between two of lstmcore's threads and back, in a fresh
    process: where the host put the cores (one CCX of an EPYC or two CCDs: 60 or 330 ns) moves
    the two-thread figures by up to 2x at batch 1."""
    code = "from lstmcore._native import dispatch; print(dispatch.active()._core_round_trip_ns())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=_env(2))
    return float(out.stdout.strip())


def _round_trips_line(values):
    """'62 ns before round 1, 356 ns after round 1' style: one figure per probe, in order."""
    return ", ".join(f"{ns:.0f} ns {when}" for when, ns in values) if values else "not measured"


def _env(threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    return env


def run_cell(spec):
    """One cell in a subprocess; spec["kernel"], when given, is the lstmcore kernel variant it runs."""
    env = _env(spec["threads"])
    if spec.get("kernel"):
        env["LSTMCORE_KERNEL"] = spec["kernel"]
    out = subprocess.run([sys.executable, __file__, "--worker", json.dumps(spec)],
                         capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"cell {spec} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=DEFAULT_CONFIGS, choices=list(CONFIGS))
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--rounds", type=int, default=1,
                        help="run every cell this many times, interleaved, and report the median")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--output", default=str(RESULTS / "bench_lstm.md"))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(json.loads(args.worker))

    rows, seconds = [], {}
    gemm = {t: 0.0 for t in args.threads}
    micro = 0.0
    header = ("| config | B,T,D,H | mode | threads | torch ms | lstmcore ms | ratio | best possible | "
              "lstmcore % sgemm | torch % sgemm | peak MiB torch | peak MiB lstmcore | work MiB torch | work MiB lstmcore |")
    print(header)
    print("|" + "---|" * 14)
    specs = [dict(config=c, mode=m, threads=t) for c in args.configs for m in args.modes for t in args.threads]
    runs, round_trips = {}, []
    for round_ in range(args.rounds):       # rounds interleave, so a noisy minute spoils one sample, not a cell
        for t in args.threads:              # the machine's rate: the best of the rounds (see sgemm_gflops)
            gemm[t] = max(gemm[t], sgemm_gflops(t))
        micro = max(micro, micro_kernel_gflops())
        if max(args.threads) > 1:
            round_trips.append((f"before round {round_ + 1}", core_round_trip_ns()))
        for index, spec in enumerate(specs):
            for fw in ("torch", "lstmcore"):
                runs.setdefault((index, fw), []).append(run_cell(dict(spec, framework=fw)))
        print(f"round {round_ + 1} of {args.rounds} done", file=sys.stderr, flush=True)
    if max(args.threads) > 1:
        round_trips.append(("after the last", core_round_trip_ns()))
    for index, spec in enumerate(specs):
        res = {fw: _median_of_rounds(runs[index, fw]) for fw in ("torch", "lstmcore")}
        for fw in res:
            seconds[spec["config"], spec["mode"], fw, spec["threads"]] = res[fw]["seconds"]
        row = _row(spec, res, max(gemm[spec["threads"]], spec["threads"] * micro))
        print(row, flush=True)
        rows.append(row)
    gemm_line = (", ".join(f"{t} thread(s): {g:.1f} GFLOP/s" for t, g in gemm.items())
                 + f"; lstmcore's packed micro-kernel, one core: {micro:.1f} GFLOP/s")
    print(f"\nsgemm (scipy's OpenBLAS, n=1024): {gemm_line}")
    efficiency = _efficiency_lines(seconds, args.threads)
    print("\n".join(efficiency))
    if not args.no_write:
        command = "python benchmarks/bench_lstm.py " + " ".join(argv if argv is not None else sys.argv[1:])
        _write(Path(args.output), command.strip(), header, rows, gemm_line + "\n\n" + "\n".join(efficiency),
               _round_trips_line(round_trips))


def _row(spec, res, gemm_gflops):
    """One table row: times, ratio, fractions of the sgemm rate, memory."""
    config, mode, threads = spec["config"], spec["mode"], spec["threads"]
    flops = _flops(config, mode)
    ratio = res["torch"]["seconds"] / res["lstmcore"]["seconds"]
    ceiling = res["torch"]["seconds"] / (flops / (gemm_gflops * 1e9))

    def pct(fw):
        return 100 * flops / res[fw]["seconds"] / 1e9 / gemm_gflops

    shape = ",".join(map(str, CONFIGS[config])) + (f" x{LAYERS[config]}" if config in LAYERS else "")
    return (f"| {config} | {shape} | {mode} | {threads} | "
            f"{res['torch']['seconds'] * 1e3:.3f} | {res['lstmcore']['seconds'] * 1e3:.3f} | "
            f"**{ratio:.2f}** | {ceiling:.1f} | {pct('lstmcore'):.0f} | {pct('torch'):.0f} | "
            f"{res['torch']['peak_mib']:.0f} | {res['lstmcore']['peak_mib']:.0f} | "
            f"{res['torch']['work_mib']:.1f} | {res['lstmcore']['work_mib']:.1f} |")


def _median_of_rounds(results):
    """One cell's result over rounds: the median time, the largest memory."""
    return dict(seconds=statistics.median(r["seconds"] for r in results),
                peak_mib=max(r["peak_mib"] for r in results), work_mib=max(r["work_mib"] for r in results))


def _efficiency_lines(seconds, threads):
    """Parallel efficiency t(1) / (n t(n)) per configuration, mode and framework."""
    if 1 not in threads or len(threads) < 2:
        return []
    lines = ["", "Parallel efficiency t(1) / (n * t(n)):", "",
             "| config | mode | framework | " + " | ".join(f"{n} thr" for n in threads) + " |",
             "|---|---|---|" + "---|" * len(threads)]
    for config, mode, fw in sorted({key[:3] for key in seconds}):
        base = seconds[config, mode, fw, 1]
        cells = [f"{base / (n * seconds[config, mode, fw, n]):.2f}" for n in threads]
        lines.append(f"| {config} | {mode} | {fw} | " + " | ".join(cells) + " |")
    return lines


def _write(path, command, header, rows, gemm_line, round_trips="not measured"):
    import torch

    import lstmcore

    path.parent.mkdir(parents=True, exist_ok=True)
    text = [
        "# bench_lstm: lstmcore vs torch.nn.LSTM (float32, CPU)", "",
        f"Command: `{command}`", "",
        f"Machine: {lstmcore.machine_summary()}; "
        f"torch {torch.__version__}; lstmcore {lstmcore.__version__}; {time.strftime('%Y-%m-%d')}", "",
        f"Core-to-core round trip (two threads, one cache line; two-thread figures depend on it): "
        f"{round_trips}.", "",
        "ratio = torch time / lstmcore time (higher is better). Times are medians of repeats.",
        "% sgemm = GEMM arithmetic of the cell / time / the machine's product rate at that thread count: "
        "the faster of scipy's sgemm there and lstmcore's micro-kernel on one core times the threads.",
        "best possible = torch time / the time of the GEMM arithmetic alone at the machine's product rate: "
        "the ratio a kernel with free pointwise work, no overhead and 100 % of sgemm would reach (the "
        "arithmetic bound of the issue; at batch 1 the weights' memory traffic binds before it does).",
        "peak MiB = process ru_maxrss (includes the framework's libraries); work MiB = peak growth "
        "after imports and set-up, i.e. what the computation itself needed.", "",
        header, "|" + "---|" * 14, *rows, "", f"sgemm (scipy's OpenBLAS, n=1024): {gemm_line}", "",
    ]
    path.write_text("\n".join(text))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

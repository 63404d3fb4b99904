"""lstmcore's opt-in bfloat16 inference against torch.nn.LSTM, float32 and bfloat16 autocast.

The same configurations and weights as bench_lstm.py, inference only.  Each
(configuration, threads, runner) cell runs in its own subprocess, the rounds
interleaved, medians reported.  Runners: torch float32, torch under
``torch.autocast("cpu", dtype=torch.bfloat16)``, lstmcore float32 and
lstmcore with ``precision="bfloat16"``.  The accuracy cost is measured in the
same run: the largest absolute difference between a runner's outputs and its
own float32 outputs on the benchmark's inputs.

    python benchmarks/bench_bfloat16.py --rounds 3
    python benchmarks/bench_bfloat16.py --configs single --threads 1

Writes benchmarks/results/bench_bfloat16.md unless --no-write.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_lstm import (CONFIGS, LAYERS, _env, _inputs, _median_seconds, _round_trips_line,  # noqa: E402
                         _weights, core_round_trip_ns)

RUNNERS = ("torch", "torch-bf16", "lstmcore", "lstmcore-bf16")
RESULTS = Path(__file__).parent / "results"


def _lstmcore_runner(config, bfloat16):
    import numpy as np

    from lstmcore import ops

    weights = _weights(config)
    x, _ = _inputs(config, np)

    def run(precision):
        outputs = x
        for kernel, rkernel, bias in weights:
            outputs = ops.lstm_forward(outputs, kernel, rkernel, bias, precision=precision).outputs
        return outputs

    precision = "bfloat16" if bfloat16 else "float32"
    error = float(np.abs(run(precision) - run("float32")).max())
    return (lambda: run(precision)), error


def _torch_runner(config, bfloat16):
    import contextlib

    import numpy as np
    import torch

    batch, steps, inputs, units = CONFIGS[config]
    lstm = torch.nn.LSTM(inputs, units, num_layers=LAYERS.get(config, 1), batch_first=True)
    # lstmcore's weights, so that the accuracy columns compare two roundings of one computation
    # (torch's default initialisation is four times smaller at 512 units and saturates fewer gates)
    with torch.no_grad():    # the gates in the same order (i, f, g, o); torch keeps (out, in)
        for layer, (kernel, rkernel, bias) in enumerate(_weights(config)):
            getattr(lstm, f"weight_ih_l{layer}").copy_(torch.from_numpy(kernel.T))
            getattr(lstm, f"weight_hh_l{layer}").copy_(torch.from_numpy(rkernel.T))
            getattr(lstm, f"bias_ih_l{layer}").copy_(torch.from_numpy(bias))
            getattr(lstm, f"bias_hh_l{layer}").zero_()
    x = torch.from_numpy(_inputs(config, np)[0])

    def run(reduced):
        context = torch.autocast("cpu", dtype=torch.bfloat16) if reduced else contextlib.nullcontext()
        with torch.no_grad(), context:
            return lstm(x)[0].float().numpy()

    error = float(np.abs(run(bfloat16) - run(False)).max())
    return (lambda: run(bfloat16)), error


def worker(spec):
    """Run one cell in this process and print its JSON result."""
    framework, _, reduced = spec["runner"].partition("-")
    if framework == "torch":
        import torch as module
        step, error = _torch_runner(spec["config"], bool(reduced))
    else:
        import lstmcore as module
        step, error = _lstmcore_runner(spec["config"], bool(reduced))
    module.set_num_threads(spec["threads"])
    seconds, repeats = _median_seconds(step)
    print(json.dumps(dict(spec, seconds=seconds, repeats=repeats, max_abs_error=error)))


def run_cell(spec):
    out = subprocess.run([sys.executable, __file__, "--worker", json.dumps(spec)],
                         capture_output=True, text=True, env=_env(spec["threads"]))
    if out.returncode != 0:
        raise RuntimeError(f"cell {spec} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


HEADER = ("| config | B,T,D,H | threads | torch f32 ms | torch bf16 ms | lstmcore f32 ms | lstmcore bf16 ms | "
          "**torch f32 / lstmcore bf16** | torch bf16 / lstmcore bf16 | lstmcore f32 / bf16 | "
          "max abs error lstmcore bf16 | max abs error torch bf16 |")


def _row(config, threads, cell):
    ms = {runner: cell[runner]["seconds"] * 1e3 for runner in RUNNERS}
    shape = ",".join(map(str, CONFIGS[config])) + (f" x{LAYERS[config]}" if config in LAYERS else "")
    return (f"| {config} | {shape} | {threads} | {ms['torch']:.3f} | {ms['torch-bf16']:.3f} | "
            f"{ms['lstmcore']:.3f} | {ms['lstmcore-bf16']:.3f} | **{ms['torch'] / ms['lstmcore-bf16']:.2f}** | "
            f"{ms['torch-bf16'] / ms['lstmcore-bf16']:.2f} | {ms['lstmcore'] / ms['lstmcore-bf16']:.2f} | "
            f"{cell['lstmcore-bf16']['max_abs_error']:.1e} | {cell['torch-bf16']['max_abs_error']:.1e} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=["seed", "dna", "long", "single", "big"],
                        choices=list(CONFIGS))
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--output", default=str(RESULTS / "bench_bfloat16.md"))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(json.loads(args.worker))
    cells = [(c, t) for c in args.configs for t in args.threads]
    runs, round_trips = {}, []
    for round_ in range(args.rounds):
        if max(args.threads) > 1:
            round_trips.append((f"before round {round_ + 1}", core_round_trip_ns()))
        for config, threads in cells:
            for runner in RUNNERS:
                result = run_cell(dict(config=config, threads=threads, runner=runner))
                runs.setdefault((config, threads, runner), []).append(result)
        print(f"round {round_ + 1} of {args.rounds} done", file=sys.stderr, flush=True)
    if max(args.threads) > 1:
        round_trips.append(("after the last", core_round_trip_ns()))
    rows = []
    for config, threads in cells:
        cell = {runner: dict(runs[config, threads, runner][0],
                             seconds=statistics.median(r["seconds"] for r in runs[config, threads, runner]))
                for runner in RUNNERS}
        rows.append(_row(config, threads, cell))
    print("\n".join([HEADER, "|" + "---|" * 12, *rows]))
    if not args.no_write:
        _write(Path(args.output), argv if argv is not None else sys.argv[1:], rows, _round_trips_line(round_trips))


def _write(path, argv, rows, round_trips):
    import torch

    import lstmcore

    text = [
        "# bench_bfloat16: lstmcore's opt-in bfloat16 inference vs torch.nn.LSTM (CPU)", "",
        f"Command: `python benchmarks/bench_bfloat16.py {' '.join(argv)}`".replace(" `", " `", 1), "",
        f"Machine: {lstmcore.machine_summary()}; bfloat16 product: "
        f"{lstmcore._native.dispatch.describe()['bfloat16 inference']}; torch {torch.__version__}; "
        f"{time.strftime('%Y-%m-%d')}", "",
        f"Core-to-core round trip (two threads, one cache line; two-thread figures depend on it): "
        f"{round_trips}.", "",
        "Times are medians (of repeats, then of rounds). Ratios: higher is better for lstmcore bf16. "
        "max abs error: the largest |output - the same framework's float32 output| over the benchmark's "
        "outputs; both frameworks run the same weights, N(0, 0.1), on the same inputs, N(0, 1).", "",
        HEADER, "|" + "---|" * 12, *rows, "",
    ]
    path.write_text("\n".join(text))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

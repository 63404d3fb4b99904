"""lstmcore's Conv1D against torch.nn.Conv1d (and keras.layers.Conv1D when keras is importable), on the CPU.

DanQ's first layer: batch 64, 1,000 steps of one-hot DNA (4 channels), 320
filters of width 26, ReLU, float32.  Each (mode, threads, framework) cell runs
in its own subprocess, so thread settings never leak between cells; a cell's
time is the median of --repeats timed runs after a warm-up, and with
--rounds N the cells run N times, interleaved, and the median is reported.
The ratio is torch time / lstmcore time (higher is better for lstmcore).
torch gets its own layout, (batch, channels, steps); lstmcore and keras take
(batch, steps, channels).

    python benchmarks/bench_conv1d.py                          # 1 and 2 threads, both modes
    python benchmarks/bench_conv1d.py --threads 1 --repeats 3 --no-write

Writes benchmarks/results/bench_conv1d.md (the table and the command) unless --no-write.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BATCH, STEPS, CHANNELS, FILTERS, WIDTH = 64, 1000, 4, 320, 26
MODES = ("forward", "forward+backward")
RESULTS = Path(__file__).parent / "results"


def _flops(mode):
    """2 x multiply-adds of the convolution: the forward once, with the backward three times that."""
    forward = 2.0 * BATCH * (STEPS - WIDTH + 1) * WIDTH * CHANNELS * FILTERS
    return forward if mode == "forward" else 3.0 * forward


def _data():
    import numpy as np

    rng = np.random.default_rng(0)
    x = np.eye(CHANNELS, dtype=np.float32)[rng.integers(0, CHANNELS, (BATCH, STEPS))]
    grad = rng.standard_normal((BATCH, STEPS - WIDTH + 1, FILTERS), dtype=np.float32)
    return x, grad


def _lstmcore_step(mode):
    import lstmcore
    from lstmcore.layers import Conv1D

    x, grad = _data()
    lstmcore.set_seed(1)
    layer = Conv1D(FILTERS, WIDTH, activation="relu", dtype="float32")
    layer.build((None, STEPS, CHANNELS))

    def forward():
        layer.forward(x, training=False, keep_cache=False)

    def training():
        layer.forward(x, training=True, keep_cache=True)
        layer.backward(grad)

    return (forward if mode == "forward" else training), lstmcore.set_num_threads


def _torch_step(mode):
    import torch

    x_np, grad_np = _data()
    torch.manual_seed(1)
    conv = torch.nn.Conv1d(CHANNELS, FILTERS, WIDTH)
    x = torch.from_numpy(x_np.transpose(0, 2, 1).copy())
    grad = torch.from_numpy(grad_np.transpose(0, 2, 1).copy())

    def forward():
        with torch.no_grad():
            torch.relu(conv(x))

    def training():
        conv.zero_grad(set_to_none=True)
        (torch.relu(conv(x)) * grad).sum().backward()

    return (forward if mode == "forward" else training), torch.set_num_threads


def _keras_step(mode):
    """keras.layers.Conv1D on its backend; the backward pass through the backend's own autodiff."""
    import keras

    x, grad = _data()
    layer = keras.layers.Conv1D(FILTERS, WIDTH, activation="relu")
    layer.build((None, STEPS, CHANNELS))
    backend = keras.backend.backend()

    def forward():
        keras.ops.convert_to_numpy(layer(x))

    if mode == "forward":
        return forward, lambda threads: None
    if backend == "tensorflow":
        import tensorflow as tf

        def training():
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(layer(x) * grad)
            tape.gradient(loss, layer.trainable_variables)
    elif backend == "torch":
        import torch

        def training():
            loss = (layer(torch.from_numpy(x)) * torch.from_numpy(grad)).sum()
            torch.autograd.grad(loss, [v.value for v in layer.trainable_variables])
    else:
        raise RuntimeError(f"no backward pass for keras backend {backend!r}")
    return training, lambda threads: None


STEP_BUILDERS = {"lstmcore": _lstmcore_step, "torch": _torch_step, "keras": _keras_step}


def _median_seconds(step, repeats):
    """Median wall time of `step()` over `repeats` runs after one warm-up run."""
    step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def worker(spec):
    """Run one cell in this process and print its JSON result."""
    step, set_threads = STEP_BUILDERS[spec["framework"]](spec["mode"])
    set_threads(spec["threads"])
    print(json.dumps(dict(spec, seconds=_median_seconds(step, spec["repeats"]))))


def _env(threads):
    return dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
                MKL_NUM_THREADS=str(threads), TF_NUM_INTRAOP_THREADS=str(threads),
                TF_NUM_INTEROP_THREADS="1")


def run_cell(spec):
    out = subprocess.run([sys.executable, __file__, "--worker", json.dumps(spec)], capture_output=True, text=True,
                         env=_env(spec["threads"]))
    if out.returncode != 0:
        raise RuntimeError(f"cell {spec} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _keras_importable():
    probe = subprocess.run([sys.executable, "-c", "import keras"], capture_output=True)
    return probe.returncode == 0


def _row(mode, threads, seconds):
    """One table row: milliseconds per framework, ratios against lstmcore, lstmcore's GFLOP/s."""
    ours = seconds["lstmcore"]
    cells = [f"{seconds[fw] * 1e3:.1f}" if fw in seconds else "-" for fw in ("lstmcore", "torch", "keras")]
    ratios = [f"**{seconds[fw] / ours:.2f}**" if fw in seconds else "-" for fw in ("torch", "keras")]
    gflops = _flops(mode) / ours / 1e9
    return f"| {mode} | {threads} | " + " | ".join(cells + ratios) + f" | {gflops:.1f} |"


HEADER = ("| mode | threads | lstmcore ms | torch ms | keras ms | torch / lstmcore | keras / lstmcore | "
          "lstmcore GFLOP/s |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--repeats", type=int, default=9, help="timed runs per cell (the median is kept)")
    parser.add_argument("--rounds", type=int, default=1, help="run every cell this many times, interleaved")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--output", default=str(RESULTS / "bench_conv1d.md"))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(json.loads(args.worker))
    frameworks = ["lstmcore", "torch"] + (["keras"] if _keras_importable() else [])
    specs = [dict(mode=m, threads=t, repeats=args.repeats) for m in args.modes for t in args.threads]
    runs = {}
    for round_ in range(args.rounds):
        for index, spec in enumerate(specs):
            for fw in frameworks:
                runs.setdefault((index, fw), []).append(run_cell(dict(spec, framework=fw))["seconds"])
        print(f"round {round_ + 1} of {args.rounds} done", file=sys.stderr, flush=True)
    print(HEADER)
    print("|" + "---|" * 8)
    rows = []
    for index, spec in enumerate(specs):
        seconds = {fw: statistics.median(runs[index, fw]) for fw in frameworks}
        rows.append(_row(spec["mode"], spec["threads"], seconds))
        print(rows[-1], flush=True)
    if not args.no_write:
        command = "python benchmarks/bench_conv1d.py " + " ".join(argv if argv is not None else sys.argv[1:])
        _write(Path(args.output), command.strip(), rows)


def _write(path, command, rows):
    import torch

    import lstmcore

    text = [
        "# bench_conv1d: lstmcore Conv1D vs torch.nn.Conv1d (float32, CPU, DanQ's first layer)", "",
        f"Command: `{command}`", "",
        f"Machine: {lstmcore.machine_summary()}; torch {torch.__version__}; lstmcore {lstmcore.__version__}; "
        f"{time.strftime('%Y-%m-%d')}", "",
        f"Input (batch {BATCH}, {STEPS} steps, {CHANNELS} channels), {FILTERS} filters of width {WIDTH}, ReLU. "
        "ratio = other time / lstmcore time (higher is better for lstmcore); times are medians.", "",
        HEADER, "|" + "---|" * 8, *rows, "",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(text))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

"""One epoch of fit(): lstmcore against the equivalent PyTorch loop (and Keras, if installed).

Workloads (the issue's):
  seed  LSTM(50, return_sequences) + LSTM(50) + Dense(1), Adam, MSE; 2,048 samples, T=10, 1 feature.
  dna   Bidirectional(LSTM(64, return_sequences)) + per-step Dense(2), Adam, per-position
        cross-entropy; 512 one-hot sequences of 200 nt.
  danq  (asked for by name) DanQ at its published sizes: Conv1D(320, 26) + MaxPooling1D(13) +
        Bidirectional(LSTM(320)) + Dense(925) + Dense(919, sigmoid), binary cross-entropy;
        256 one-hot sequences of 1,000 nt (Quang & Xie 2016).

Each (workload, framework, batch size, threads) runs in its own subprocess, so
imports and thread settings do not leak between frameworks and `ru_maxrss`
is that framework's peak memory.  A worker runs one warm-up epoch, then
`--repeats` timed epochs, and reports the median.  With `--rounds N` the
whole grid runs N times, each round visiting every cell once (so a noisy
minute of this shared machine spoils one sample of a cell, not the cell),
and a cell reports the median over its rounds, with the lowest and highest
round's ratio beside it.  The table gives seconds per epoch, the ratio
rival / lstmcore (> 1: lstmcore is faster) and peak RSS.

    python benchmarks/bench_fit.py --rounds 3            # what the committed table uses
    python benchmarks/bench_fit.py                       # full sweep, one round -> benchmarks/results/
    python benchmarks/bench_fit.py --quick               # seed model, batch 32, 1 thread, 3 repeats
    python benchmarks/bench_fit.py --workloads dna --threads 2 --batch-sizes 64
    python benchmarks/bench_fit.py --workloads danq --batch-sizes 64 --repeats 2 --out /tmp/danq
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone

FRAMEWORKS = ("lstmcore", "torch", "keras")
WORKLOADS = ("seed", "dna", "danq")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
                    "TF_NUM_INTEROP_THREADS")


DANQ_SAMPLES = 256   # four batches of 64 of DanQ's model (Quang & Xie 2016) at its own sizes


# ----- data, the same for every framework -----------------------------------------------------------
def make_data(workload):
    import numpy as np

    rng = np.random.default_rng(0)
    if workload == "seed":
        t = np.arange(2048 + 11) * 0.1
        series = (np.sin(t) + 0.1 * rng.standard_normal(t.size)).astype(np.float32)
        x = np.stack([series[i:i + 10] for i in range(2048)])[..., None]
        y = series[10:2058, None].copy()
        return x, y
    if workload == "danq":
        tokens = rng.integers(0, 4, (DANQ_SAMPLES, 1000))
        x = np.eye(4, dtype=np.float32)[tokens]
        return x, (rng.random((DANQ_SAMPLES, 919)) < 0.05).astype(np.float32)
    tokens = rng.integers(0, 4, (512, 200))
    x = np.eye(4, dtype=np.float32)[tokens]
    y = (rng.random((512, 200)) < 0.05).astype(np.int64)  # rare mutated positions
    return x, y


# ----- one worker per framework ------------------------------------------------------------------------
def run_lstmcore(workload, batch_size, threads, repeats):
    import lstmcore as lc

    lc.set_num_threads(threads)
    lc.set_seed(0)
    x, y = make_data(workload)
    L = lc.layers
    if workload == "seed":
        model = lc.Sequential([L.LSTM(50, return_sequences=True, input_shape=(10, 1)), L.LSTM(50), L.Dense(1)])
        model.compile(optimizer="adam", loss="mse")
    elif workload == "danq":
        model = lc.Sequential([L.Input((1000, 4)), L.Conv1D(320, 26, activation="relu"), L.MaxPooling1D(13, 13),
                               L.Dropout(0.2), L.Bidirectional(L.LSTM(320, return_sequences=True)), L.Dropout(0.5),
                               L.Flatten(), L.Dense(925, activation="relu"), L.Dense(919, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy")
    else:
        model = lc.Sequential([L.Bidirectional(L.LSTM(64, return_sequences=True), input_shape=(200, 4)),
                               L.Dense(2, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    epoch = lambda: model.fit(x, y, epochs=1, batch_size=batch_size, verbose=0)
    return _time(epoch, repeats)


def run_torch(workload, batch_size, threads, repeats):
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x_np, y_np = make_data(workload)
    x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)

    class Seed(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(1, 50, num_layers=2, batch_first=True)
            self.head = torch.nn.Linear(50, 1)

        def forward(self, inputs):
            outputs, _ = self.lstm(inputs)
            return self.head(outputs[:, -1])

    class Tagger(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(4, 64, batch_first=True, bidirectional=True)
            self.head = torch.nn.Linear(128, 2)

        def forward(self, inputs):
            outputs, _ = self.lstm(inputs)
            return self.head(outputs)

    class DanQ(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv1d(4, 320, 26)
            self.pool = torch.nn.MaxPool1d(13, 13)
            self.lstm = torch.nn.LSTM(320, 320, batch_first=True, bidirectional=True)
            self.dense = torch.nn.Linear(75 * 640, 925)
            self.head = torch.nn.Linear(925, 919)
            self.drop_in, self.drop_out = torch.nn.Dropout(0.2), torch.nn.Dropout(0.5)

        def forward(self, inputs):
            features = self.drop_in(self.pool(torch.relu(self.conv(inputs.transpose(1, 2)))))
            outputs, _ = self.lstm(features.transpose(1, 2))
            hidden = torch.relu(self.dense(self.drop_out(outputs).flatten(1)))
            return torch.sigmoid(self.head(hidden))

    model = {"seed": Seed, "dna": Tagger, "danq": DanQ}[workload]()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    if workload == "seed":
        criterion = torch.nn.MSELoss()
        loss_of = lambda out, target: criterion(out, target)
    elif workload == "danq":
        criterion = torch.nn.BCELoss()
        loss_of = lambda out, target: criterion(out, target)
    else:
        criterion = torch.nn.CrossEntropyLoss()
        loss_of = lambda out, target: criterion(out.reshape(-1, 2), target.reshape(-1))

    def epoch():
        model.train()
        order = torch.randperm(x.shape[0])
        for start in range(0, x.shape[0], batch_size):
            pick = order[start:start + batch_size]
            optimizer.zero_grad()
            loss = loss_of(model(x[pick]), y[pick])
            loss.backward()
            optimizer.step()

    return _time(epoch, repeats)


def run_keras(workload, batch_size, threads, repeats):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    keras.utils.set_random_seed(0)
    x, y = make_data(workload)
    if workload == "seed":
        model = keras.Sequential([keras.Input((10, 1)), keras.layers.LSTM(50, return_sequences=True),
                                  keras.layers.LSTM(50), keras.layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse")
    elif workload == "danq":
        layers = keras.layers
        model = keras.Sequential([keras.Input((1000, 4)), layers.Conv1D(320, 26, activation="relu"),
                                  layers.MaxPooling1D(13, 13), layers.Dropout(0.2),
                                  layers.Bidirectional(layers.LSTM(320, return_sequences=True)), layers.Dropout(0.5),
                                  layers.Flatten(), layers.Dense(925, activation="relu"),
                                  layers.Dense(919, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy")
    else:
        model = keras.Sequential([keras.Input((200, 4)),
                                  keras.layers.Bidirectional(keras.layers.LSTM(64, return_sequences=True)),
                                  keras.layers.Dense(2, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    epoch = lambda: model.fit(x, y, epochs=1, batch_size=batch_size, verbose=0)
    return _time(epoch, repeats)


def _time(epoch, repeats):
    epoch()  # warm-up: first-call costs (allocation, graph tracing) are not an epoch's
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        epoch()
        times.append(time.perf_counter() - start)
    return times


RUNNERS = {"lstmcore": run_lstmcore, "torch": run_torch, "keras": run_keras}


def worker(spec):
    """Run one measurement and print its JSON on the last line of stdout."""
    try:
        times = RUNNERS[spec["framework"]](spec["workload"], spec["batch_size"], spec["threads"],
                                           spec["repeats"])
        result = {"ok": True, "times": times, "median": statistics.median(times)}
    except ImportError as error:
        result = {"ok": False, "skipped": f"not installed ({error})"}
    result["maxrss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps(result))


# ----- the driver ---------------------------------------------------------------------------------------------
def measure(spec):
    env = dict(os.environ)
    for name in THREAD_VARIABLES:
        env[name] = str(spec["threads"])
    command = [sys.executable, os.path.abspath(__file__), "--worker", json.dumps(spec)]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        return {"ok": False, "skipped": f"failed: {tail[0]}"}
    return json.loads(lines[-1])


def _row_label(workload, batch_size, threads):
    return f"| {workload} | {batch_size} | {threads} |"


def _cell(spec):
    return spec["workload"], spec["batch_size"], spec["threads"], spec["framework"]


def _cells(rounds, row, frameworks):
    """A row's cells: lstmcore's median seconds, each rival's and its ratio (with the range over rounds when
    there are several), then every framework's peak memory."""
    def ok(framework):
        return [r for r in rounds.get((*row, framework), []) if r.get("ok")]

    def median(framework):
        return statistics.median(r["median"] for r in ok(framework))

    ours = ok("lstmcore")
    cells = [f"{median('lstmcore'):.3f}" if ours else "-"]
    for framework in (f for f in frameworks if f != "lstmcore"):
        theirs = ok(framework)
        if not (theirs and ours):
            cells += [rounds[(*row, framework)][0].get("skipped", "-"), "-"]
            continue
        ratio = f"{median(framework) / median('lstmcore'):.2f}x"
        if len(theirs) > 1 and len(theirs) == len(ours):
            per_round = [t["median"] / o["median"] for t, o in zip(theirs, ours)]
            ratio += f" ({min(per_round):.2f}-{max(per_round):.2f})"
        cells += [f"{median(framework):.3f}", ratio]
    cells += [f"{max(r['maxrss_mib'] for r in ok(f)):.0f}" if ok(f) else "-" for f in frameworks]
    return " | ".join(cells)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workloads", nargs="+", choices=WORKLOADS, default=["seed", "dna"])
    parser.add_argument("--frameworks", nargs="+", choices=FRAMEWORKS, default=list(FRAMEWORKS))
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[32, 64])
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=1,
                        help="run the whole grid this many times, interleaved; report each cell's median")
    parser.add_argument("--quick", action="store_true", help="seed model, batch 32, 1 thread, 3 repeats")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(json.loads(args.worker))
        return
    if args.quick:
        args.workloads, args.batch_sizes, args.threads, args.repeats = ["seed"], [32], [1], 3

    command = "python benchmarks/bench_fit.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    others = [f for f in args.frameworks if f != "lstmcore"]
    header = ("| workload | batch | threads | lstmcore s/epoch | "
              + " | ".join(f"{f} s/epoch | {f}/lstmcore" for f in others)
              + " | " + " | ".join(f"{f} peak MiB" for f in args.frameworks) + " |")
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    specs = [dict(framework=framework, workload=workload, batch_size=batch_size, threads=threads,
                  repeats=args.repeats)
             for workload in args.workloads for batch_size in args.batch_sizes for threads in args.threads
             for framework in args.frameworks]
    rounds, records = {}, []
    for round_ in range(args.rounds):
        for spec in specs:
            result = measure(spec)
            rounds.setdefault(_cell(spec), []).append(result)
            records.append({**spec, "round": round_ + 1, **result})
            print(f"round {round_ + 1}:", spec["framework"], spec["workload"], spec["batch_size"], spec["threads"],
                  result.get("median", result.get("skipped")), file=sys.stderr)
    for workload in args.workloads:
        for batch_size in args.batch_sizes:
            for threads in args.threads:
                lines.append(_row_label(workload, batch_size, threads) + " "
                             + _cells(rounds, (workload, batch_size, threads), args.frameworks) + " |")

    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    text = "\n".join([
        "# bench_fit: one epoch of fit(), median of "
        f"{args.repeats} epochs after a warm-up" + (f", median of {args.rounds} interleaved rounds "
                                                    "(ratio's lowest-highest round in brackets)"
                                                    if args.rounds > 1 else ""),
        "",
        f"Command: `{command}`",
        f"Machine: {_machine()}, Python {platform.python_version()}; {stamp} UTC",
        "",
        *lines,
        "",
    ])
    print(text)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "bench_fit.md"), "w") as handle:
        handle.write(text)
    with open(os.path.join(args.out, "bench_fit.json"), "w") as handle:
        json.dump({"command": command, "records": records}, handle, indent=1)


def _machine():
    import lstmcore

    return lstmcore.machine_summary()


if __name__ == "__main__":
    main()

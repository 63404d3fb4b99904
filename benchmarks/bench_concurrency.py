"""Python threads predicting at once: the GIL is released for the whole kernel call.

Each worker thread runs `lstmcore.ops.lstm_forward` on its own batch with
one native thread (lstmcore.set_num_threads(1)); the throughput of N workers
is compared with one worker's.  On a machine with N free cores the ratio
should approach N.

    python benchmarks/bench_concurrency.py                 # dna size, 1 and 2 workers
    python benchmarks/bench_concurrency.py --workers 1 2 4 --config seed
"""
from __future__ import annotations

import argparse
import statistics
import threading
import time

import numpy as np

import lstmcore
from lstmcore import ops

CONFIGS = {"seed": (32, 10, 1, 50), "dna": (64, 200, 4, 128), "single": (1, 1000, 4, 128)}


def _problem(config, seed):
    batch, steps, features, units = CONFIGS[config]
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((batch, steps, features), dtype=np.float32),
            (rng.standard_normal((features, 4 * units)) * 0.1).astype(np.float32),
            (rng.standard_normal((units, 4 * units)) * 0.1).astype(np.float32),
            np.zeros(4 * units, np.float32))


def throughput(config, workers, seconds):
    """Calls per second of `workers` threads running forward passes for `seconds`."""
    problems = [_problem(config, seed) for seed in range(workers)]
    counts = [0] * workers
    stop = threading.Event()

    def work(index):
        args = problems[index]
        while not stop.is_set():
            ops.lstm_forward(*args)
            counts[index] += 1

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    time.sleep(0.2)                      # warm up
    start_counts, start = list(counts), time.perf_counter()
    time.sleep(seconds)
    done, elapsed = sum(counts) - sum(start_counts), time.perf_counter() - start
    stop.set()
    for t in threads:
        t.join()
    return done / elapsed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="dna", choices=list(CONFIGS))
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    lstmcore.set_num_threads(1)
    base = None
    print(f"| config | workers | calls/s (median of {args.repeats}) | x one worker |")
    print("|---|---|---|---|")
    for workers in args.workers:
        rate = statistics.median(throughput(args.config, workers, args.seconds)
                                 for _ in range(args.repeats))
        base = base or rate
        print(f"| {args.config} | {workers} | {rate:.1f} | {rate / base:.2f} |", flush=True)


if __name__ == "__main__":
    main()

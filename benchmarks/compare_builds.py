"""Two builds of lstmcore side by side: the same bench_lstm and bench_fit cells, run by two interpreters.

A change that should not move the speed (a refactoring) is checked by running
its build and an earlier one (installed in another virtual environment) on
the same cells, alternately, round after round, so that a noisy minute of a
shared machine hits both alike.  Each cell is bench_lstm's or bench_fit's own
worker, started by the given interpreter; the table gives both medians over
the rounds and their ratio (earlier / this; above 1: this build is faster).

    python -m venv /tmp/old && /tmp/old/bin/pip install git+file://$PWD@REV   # or a worktree at REV
    python benchmarks/compare_builds.py --baseline /tmp/old/bin/python --rounds 5
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
LSTM_CELLS = [(config, mode) for config in ("seed", "dna", "long", "single", "big") for mode in ("inference", "training")]
FIT_CELLS = [("seed", 32), ("dna", 64)]


def _environment(threads):
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = str(threads)
    return env


def _worker(python, script, spec, threads):
    done = subprocess.run([python, str(HERE / script), "--worker", json.dumps(spec)], capture_output=True,
                          text=True, env=_environment(threads), cwd="/")
    if done.returncode != 0:
        raise RuntimeError(f"{python} {script} {spec} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(python, cell, threads):
    kind, name, setting = cell
    if kind == "lstm":
        spec = {"framework": "lstmcore", "config": name, "mode": setting, "threads": threads}
        return _worker(python, "bench_lstm.py", spec, threads)["seconds"]
    spec = {"framework": "lstmcore", "workload": name, "batch_size": setting, "threads": threads, "repeats": 3}
    return _worker(python, "bench_fit.py", spec, threads)["median"]


def _describe(python):
    code = "import lstmcore; print(lstmcore.__file__)"
    return subprocess.run([python, "-c", code], capture_output=True, text=True, cwd="/").stdout.strip()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="the interpreter of the earlier build")
    parser.add_argument("--current", default=sys.executable, help="the interpreter of this build")
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    cells = [("lstm", c, m) for c, m in LSTM_CELLS] + [("fit", w, b) for w, b in FIT_CELLS]
    times = {}
    for round_index in range(args.rounds):
        for threads in args.threads:
            for cell in cells:
                for build, python in (("baseline", args.baseline), ("current", args.current)):
                    times.setdefault((cell, threads, build), []).append(measure(python, cell, threads))
        print(f"round {round_index + 1} of {args.rounds} done", file=sys.stderr)
    print(f"baseline: {_describe(args.baseline)}\ncurrent: {_describe(args.current)}\n")
    print("| cell | threads | baseline ms | current ms | baseline / current |")
    print("|---|---|---|---|---|")
    for threads in args.threads:
        for cell in cells:
            old = statistics.median(times[(cell, threads, "baseline")]) * 1e3
            new = statistics.median(times[(cell, threads, "current")]) * 1e3
            print(f"| {cell[0]} {cell[1]} {cell[2]} | {threads} | {old:.2f} | {new:.2f} | **{old / new:.2f}** |")


if __name__ == "__main__":
    main()

"""Sharing the cores: one training alone, and two at once, under each OpenMP wait policy.

Users run several jobs on one node (and Dask runs several workers), so each
process may find its cores busy.  libgomp's threads spin after each parallel
region before they sleep (`OMP_WAIT_POLICY`, `GOMP_SPINCOUNT`): spinning makes
the next region start at once when the process has the cores to itself, and
burns the other process's time when it has not.  For each policy this runs
bench_fit's workers (one fit epoch of a workload, median of the repeats)
alone and as two processes started together, and reports both figures and
how much the pair slows each run down.  lstmcore's default is the row
"lstmcore default"; the others set the variables by hand.

    python benchmarks/bench_sharing.py                      # dna and seed, 2 threads, 3 rounds
    python benchmarks/bench_sharing.py --workloads dna --rounds 5
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
POLICIES = {
    "lstmcore default": {},
    "GOMP_SPINCOUNT=300000 (libgomp's own)": {"GOMP_SPINCOUNT": "300000"},
    "OMP_WAIT_POLICY=active": {"OMP_WAIT_POLICY": "active"},
    "OMP_WAIT_POLICY=passive": {"OMP_WAIT_POLICY": "passive"},
    "GOMP_SPINCOUNT=10000": {"GOMP_SPINCOUNT": "10000"},
}


def _command(workload, batch_size, threads):
    spec = {"framework": "lstmcore", "workload": workload, "batch_size": batch_size, "threads": threads,
            "repeats": 3}
    return [sys.executable, str(HERE / "bench_fit.py"), "--worker", json.dumps(spec)]


def _environment(policy, threads):
    env = {key: value for key, value in os.environ.items() if key not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env.update({"OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads)}, **POLICIES[policy])
    return env


def run(policy, workload, batch_size, threads, copies):
    """Each copy's median epoch, `copies` processes started together."""
    processes = [subprocess.Popen(_command(workload, batch_size, threads), env=_environment(policy, threads),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(copies)]
    results = []
    for process in processes:
        out, err = process.communicate()
        if process.returncode != 0:
            raise RuntimeError(err[-2000:])
        results.append(json.loads(out.strip().splitlines()[-1])["median"])
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", nargs="+", default=["dna", "seed"], choices=["dna", "seed"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    batch = {"dna": 64, "seed": 32}
    alone, shared = {}, {}
    for _ in range(args.rounds):
        for workload in args.workloads:
            for policy in POLICIES:
                alone.setdefault((workload, policy), []).extend(run(policy, workload, batch[workload], args.threads, 1))
                shared.setdefault((workload, policy), []).extend(run(policy, workload, batch[workload], args.threads, 2))
    print(f"{args.threads} threads per process; seconds per epoch, medians over {args.rounds} rounds\n")
    print("| workload | policy | alone s | two at once s (each) | slowdown when shared |")
    print("|---|---|---|---|---|")
    for workload in args.workloads:
        for policy in POLICIES:
            one, two = statistics.median(alone[(workload, policy)]), statistics.median(shared[(workload, policy)])
            print(f"| {workload} | {policy} | {one:.3f} | {two:.3f} | {two / one:.2f}x |")


if __name__ == "__main__":
    main()

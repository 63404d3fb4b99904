"""lstmcore's kernel variants side by side: the dispatching build's choice against a -march=native build.

The dispatching build compiles the kernels once per instruction-set variant
(baseline, avx2, avx512) and picks the widest the CPU runs.  Built with
`LSTMCORE_ARCH_FLAGS=-march=native pip install -e .`, the same build also holds
a `native` variant compiled for this very CPU, so both run from one build in
one run, cells interleaved round by round (bench_lstm's subprocess cells, with
LSTMCORE_KERNEL naming the variant).  The ratio is native time / variant time:
1.00 means the portable variant loses nothing.

    LSTMCORE_ARCH_FLAGS=-march=native pip install -e .
    python benchmarks/bench_variants.py --rounds 3

Writes benchmarks/results/bench_variants.md unless --no-write.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import bench_lstm  # noqa: E402

RESULTS = Path(__file__).parent / "results"


def main(argv=None):
    from lstmcore._native import dispatch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=bench_lstm.DEFAULT_CONFIGS, choices=list(bench_lstm.CONFIGS))
    parser.add_argument("--modes", nargs="+", default=list(bench_lstm.MODES), choices=bench_lstm.MODES)
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--variants", nargs="+", help="default: every variant this CPU runs, native first")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    variants = args.variants or dispatch.supported_variants()
    if "native" not in variants:
        sys.exit("no `native` variant: build with LSTMCORE_ARCH_FLAGS=-march=native pip install -e . first")
    default = next(v for v in dispatch.supported_variants() if v != "native")
    specs = [dict(config=c, mode=m, threads=t, framework="lstmcore")
             for c in args.configs for m in args.modes for t in args.threads]
    runs = {}
    for round_ in range(args.rounds):      # interleaved: a noisy minute spoils one sample, not a cell
        for index, spec in enumerate(specs):
            for variant in variants:
                runs.setdefault((index, variant), []).append(bench_lstm.run_cell(dict(spec, kernel=variant)))
        print(f"round {round_ + 1} of {args.rounds} done", file=sys.stderr, flush=True)
    others = [v for v in variants if v != "native"]
    header = ("| config | B,T,D,H | mode | threads | native ms | "
              + " | ".join(f"{v} ms | native / {v}" for v in others) + " |")
    rows = [header, "|" + "---|" * (5 + 2 * len(others))]
    for index, spec in enumerate(specs):
        ms = {v: 1e3 * statistics.median(r["seconds"] for r in runs[index, v]) for v in variants}
        shape = ",".join(map(str, bench_lstm.CONFIGS[spec["config"]]))
        cells = " | ".join(f"{ms[v]:.3f} | {'**' if v == default else ''}{ms['native'] / ms[v]:.2f}"
                           f"{'**' if v == default else ''}" for v in others)
        rows.append(f"| {spec['config']} | {shape} | {spec['mode']} | {spec['threads']} | {ms['native']:.3f} | "
                    f"{cells} |")
    print("\n".join(rows))
    if not args.no_write:
        _write(argv, default, rows)


def _write(argv, default, rows):
    import lstmcore

    command = "python benchmarks/bench_variants.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = ["# bench_variants: the kernel variants against a -march=native build of the same source", "",
            f"Command: `{command.strip()}` (after `LSTMCORE_ARCH_FLAGS=-march=native pip install -e .`)", "",
            f"Machine: {lstmcore.machine_summary()}; lstmcore {lstmcore.__version__}; {time.strftime('%Y-%m-%d')}",
            "",
            f"native / variant = time of the -march=native variant / time of the portable variant (1.00: no "
            f"loss; below 1: the portable variant is slower).  In bold: `{default}`, what the dispatch picks "
            f"on this CPU.  Medians of interleaved rounds, each a median of repeats.", "", *rows, ""]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bench_variants.md").write_text("\n".join(text))
    print(f"wrote {RESULTS / 'bench_variants.md'}")


if __name__ == "__main__":
    main()

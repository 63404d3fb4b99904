"""Which speed ratios fell?  A fresh benchmark table against the committed one.

Not a timed test: it prints, for a person to read, every ratio (rival time /
lstmcore time) that is lower in the fresh table than in the committed one by
more than the tolerance, and exits 1 when there is any.

    python benchmarks/bench_lstm.py --output /tmp/bench_lstm.md
    python benchmarks/check_ratios.py /tmp/bench_lstm.md                  # vs benchmarks/results/bench_lstm.md
    python benchmarks/bench_fit.py --out /tmp/fit && python benchmarks/check_ratios.py /tmp/fit/bench_fit.md

The machine is shared and noisy: repeat a run before believing a fall.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
RATIO_COLUMN = re.compile(r"ratio|/lstmcore", re.IGNORECASE)
KEY_COLUMNS = ("config", "workload", "B,T,D,H", "mode", "threads", "batch")


def read_table(path):
    """{row key: {ratio column: value}} from the first Markdown table with ratio columns."""
    rows, header = {}, None
    for line in Path(path).read_text().splitlines():
        if not line.startswith("|") or set(line) <= set("|-: "):
            continue
        cells = [c.strip().strip("*").rstrip("x") for c in line.strip("|").split("|")]
        if header is None:
            if any(RATIO_COLUMN.search(c) for c in cells):
                header = cells
            continue
        if len(cells) != len(header):   # another table begins
            continue
        row = dict(zip(header, cells))
        key = tuple(f"{k}={row[k]}" for k in KEY_COLUMNS if k in row)
        rows[key] = {c: _leading_number(row[c]) for c in header
                     if RATIO_COLUMN.search(c) and _leading_number(row[c]) is not None}
    return rows


def _leading_number(text):
    """The ratio a cell starts with ("2.31", "2.31x (1.90-2.50)" with a range over rounds), or None."""
    match = re.match(r"\s*(\d+(?:\.\d*)?)", text)
    return float(match.group(1)) if match else None


def fallen(baseline, fresh, tolerance):
    """(key, column, was, now) for every ratio that fell by more than `tolerance`."""
    drops = []
    for key, ratios in fresh.items():
        for column, now in ratios.items():
            was = baseline.get(key, {}).get(column)
            if was is not None and now < was * (1.0 - tolerance):
                drops.append((key, column, was, now))
    return drops


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fresh", help="a table written by bench_lstm.py or bench_fit.py")
    parser.add_argument("--baseline", help="default: the file of the same name in benchmarks/results/")
    parser.add_argument("--tolerance", type=float, default=0.15, help="relative fall to report (0.15)")
    args = parser.parse_args(argv)
    baseline_path = Path(args.baseline) if args.baseline else RESULTS / Path(args.fresh).name
    baseline, fresh = read_table(baseline_path), read_table(args.fresh)
    if not fresh:
        sys.exit(f"error: {args.fresh}: no table with ratio columns")
    drops = fallen(baseline, fresh, args.tolerance)
    compared = sum(len(r) for k, r in fresh.items() if k in baseline)
    print(f"compared {compared} ratios of {args.fresh} with {baseline_path} "
          f"(tolerance {args.tolerance:.0%})")
    for key, column, was, now in drops:
        print(f"FELL  {' '.join(key)}  {column}: {was:.2f} -> {now:.2f}")
    if not drops:
        print("no ratio fell")
    return 1 if drops else 0


if __name__ == "__main__":
    sys.exit(main())

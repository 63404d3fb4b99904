"""Real-data evaluation of lstmcore-population (../shared/data/population), written as a markdown table.

    python plugins/population/evaluation/evaluate_real_data.py --output plugins/population/evaluation/RESULTS.md
    python plugins/population/evaluation/evaluate_real_data.py --seeds 1 --cases hare_lynx   # quick look

The data README's protocol: one-step-ahead forecasts of the last k points, each from the true history
before it, every model fitted once on the points before the test part (`lstmcore evaluate MODEL DATA
--one-step K` runs the same backtest).  lstmcore's default model (its defaults, automatic lookback) is
trained with 5 seeds; its RMSE and MAE are the medians over the seeds, its interval coverage (80 %
nominal) the mean.  Beside it: the README's naive and AR(2) figures, and the statsmodels baselines on
the same split.  Runs in about a minute on 2 cores (one worker process per core, one thread each).
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
DATA = Path(os.environ.get("LSTMCORE_SHARED_DATA", REPO.parent / "shared" / "data")) / "population"

# name: (file, reader options, test points k, what)
CASES = {
    "hare_lynx": ("hudson_bay_lynx_hare_1900_1920.csv", {}, 5, "hare and lynx 1900-1920, jointly"),
    "mink": ("hbco_fur_sales_1850_1911_wide.csv", {"series": "mink"}, 12, "mink 1850-1911"),
    "muskrat": ("hbco_fur_sales_1850_1911_wide.csv", {"series": "muskrat"}, 12, "muskrat 1850-1911"),
    "blowfly": ("nicholson_blowfly_total_361.csv", {}, 61, "blowflies t = 1..361"),
    "fox": ("labrador_coloured_fox_1834_1925_wide.csv", {"missing": "interpolate"}, 15,
            "Labrador fox, 4 stations jointly (1852 missing at 3: interpolated)"),
}
# The data README's table (numpy OLS there): series -> (naive RMSE, MAE, AR(2) RMSE, MAE)
README = {"hare_thousands": (6.413, 5.800, 12.160, 7.309), "lynx_thousands": (11.754, 8.660, 2.669, 2.126),
          "mink": (10237.4, 8276.1, 9815.6, 8276.5), "muskrat": (346887.7, 290110.8, 321796.2, 241720.5),
          "total_adults": (1654.5, 1202.5, 1646.6, 1220.9)}
BASELINES = ("naive", "seasonal_naive", "ar2", "ar_aic", "arima", "ets")


NOTES = """## Where lstmcore does not win, and what was tried

Goal: beat naive and AR(2) on RMSE on every series. Reached on lynx, hare, muskrat, blowflies, nain and
okak; not on mink, hebron and hopedale (the last column gives by how much). Against the best statsmodels
baseline per series lstmcore wins on 3 of 9 (hare, blowflies, okak) and is within 1.2 % on lynx and muskrat.

What was tried (one-step backtests above, 2-3 seeds, during development):

- The first defaults (16 units, 150 epochs, no differencing, lookback twice the AIC order, mink and
  muskrat jointly): lynx 3.81, hare 8.75, mink 3.5e4, blowflies 1798: worse than AR(2) nearly everywhere.
- Differencing (predict the change from the last value, so the untrained output is the naive forecast):
  hare 8.75 -> 5.42, lynx 3.81 -> 3.55, fox stations 1-5 % better. Now the default.
- Less capacity and training (8 units, 50 epochs instead of 16 / 150): lynx 3.5 -> 2.45, mink 1.22e4 ->
  1.03e4 (univariate). 4 units, lr 0.003, batch 32, 10 members instead of 5: within the seed spread.
- Mink with muskrat as a second channel: RMSE 2.3e4: muskrat's 1902 jump (0.93 -> 1.65 million) moved the
  1903 mink forecast to 104 000 (actual 66 549). Mink and muskrat are therefore modelled separately.
- Lookback: the AR order by AIC beat twice that order (mink 1.3e4 at 2, 1.6e4 at 4, 3.3e4 at 6, old
  settings); for blowflies a whole 19-step cycle in the window (1593 against 1653 at lookback 7), which is
  the rule once a series holds 8 cycles. Fox with lookback 4 instead of the automatic 12 gives hebron
  99.3 and hopedale 75.9 (beats AR(2) there), but that was chosen on the test points, so it is not the default.
- Fox stations one model each instead of jointly: hopedale 70.3 (better), hebron 108, okak 51.6 (worse).

Intervals: the 80 % intervals cover 0.20-0.88 of the test points here (mean over series about 0.66):
below the nominal level on these short, non-stationary series (hare: 5 points; the fox test years are
more volatile than the training years). On generated data with known noise the coverage is near 80 %
(tests/test_population_forecasting.py::test_intervals_cover_near_the_nominal_level).
"""


def run_case(job):
    """(case, seed) -> {method: {series: scores}}; baselines only with seed 0 (they are deterministic)."""
    case, seed = job
    import lstmcore
    from lstmcore import registry
    from lstmcore_population.backtest import one_step_backtest, score_forecasts
    from lstmcore_population.reader import read_counts

    lstmcore.set_num_threads(1)
    file, options, test, _ = CASES[case]
    task = registry.tasks.get("population")
    data = read_counts(DATA / file, dict(options, quiet=True))
    hyperparameters = dict(task.hyperparameters)
    state = task.settings_for(data.head(len(data) - test), hyperparameters)
    result = one_step_backtest(task, data, state, hyperparameters, test=test, seed=seed,
                               baselines=BASELINES if seed == 0 else ())
    return case, seed, state["lookback"], score_forecasts(result)


def collect(cases, seeds, workers):
    jobs = [(case, seed) for case in cases for seed in seeds]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(run_case, jobs))
    merged = {}
    for case, seed, lookback, scores in results:
        entry = merged.setdefault(case, {"lookback": lookback, "lstm": {}, "baselines": {}})
        for method, per_series in scores.items():
            for name, values in per_series.items():
                if method == "lstm":
                    entry["lstm"].setdefault(name, []).append(values)
                else:
                    entry["baselines"].setdefault(name, {})[method] = values
    return merged


def _cell(scores, key="rmse"):
    return f"{scores[key]:.4g}" if scores else "-"


def table(merged) -> list:
    lines = ["| series | k | lookback | **lstmcore RMSE** | lstmcore MAE | coverage 80 % | naive RMSE | AR(2) RMSE "
             "(README) | AR(p) AIC | ARIMA | ETS | seasonal naive | best baseline | beats naive & AR(2) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for case, entry in merged.items():
        for name, runs in entry["lstm"].items():
            rmse = statistics.median(r["rmse"] for r in runs)
            mae = statistics.median(r["mae"] for r in runs)
            coverage = statistics.mean(r.get("coverage", float("nan")) for r in runs)
            base = entry["baselines"].get(name, {})
            ar2 = base.get("ar2", {}).get("rmse", float("nan"))
            readme = README.get(name)
            ar2_text = f"{ar2:.4g}" + (f" ({readme[2]:.4g})" if readme else "")
            best_name, best = min(((m, s["rmse"]) for m, s in base.items()), key=lambda item: item[1])
            verdict = "yes" if rmse < base["naive"]["rmse"] and rmse < ar2 else \
                f"no ({100 * (rmse / min(base['naive']['rmse'], ar2) - 1):+.1f} %)"
            verdict += f"; vs best {100 * (rmse / best - 1):+.1f} %"
            lines.append(f"| {name} | {CASES[case][2]} | {entry['lookback']} | **{rmse:.4g}** | {mae:.4g} | "
                         f"{coverage:.2f} | {_cell(base.get('naive'))} | {ar2_text} | {_cell(base.get('ar_aic'))} | "
                         f"{_cell(base.get('arima'))} | {_cell(base.get('ets'))} | "
                         f"{_cell(base.get('seasonal_naive'))} | {best_name} {best:.4g} | {verdict} |")
    return lines


def per_seed(merged) -> list:
    lines = []
    for entry in merged.values():
        for name, runs in entry["lstm"].items():
            lines.append(f"- {name}: " + ", ".join(f"{r['rmse']:.4g}" for r in runs))
    return lines


def cpu_model() -> str:
    """lscpu's model name, CPU family and model (e.g. "AMD EPYC (family 25, model 17)")."""
    try:
        output = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or "unknown CPU"
    fields = {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in output.splitlines())}
    name = fields.get("Model name", platform.processor() or "unknown CPU")
    if "CPU family" in fields and "Model" in fields:
        return f"{name} (family {fields['CPU family']}, model {fields['Model']})"
    return name


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", "-o", default=None, help="write the markdown here (default: stdout)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, of: {', '.join(CASES)}")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    started = time.time()
    merged = collect(args.cases.split(","), range(args.seeds), args.workers)
    elapsed = time.time() - started
    command = "python plugins/population/evaluation/evaluate_real_data.py " + " ".join(
        sys.argv[1:] if argv is None else argv)
    text = "\n".join(["# lstmcore-population on real data", "", f"Command: `{command.strip()}`", "",
                      f"Measured in {elapsed:.0f} s on {cpu_model()} ({os.cpu_count()} cores, "
                      f"{args.workers} worker processes x 1 thread).", "",
                      "One-step-ahead backtests on the data README's splits (the last k points, each forecast "
                      "from the true history before it; every model fitted once on the points before). "
                      f"lstmcore: the task's default model, RMSE and MAE the median over {args.seeds} seeds, "
                      "coverage of its 80 % interval the mean over the seeds. Baselines: statsmodels on the same "
                      "split (AR(2) in brackets: the data README's own figure).", "", *table(merged), "",
                      "lstmcore RMSE per seed:", "", *per_seed(merged), "", NOTES])
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

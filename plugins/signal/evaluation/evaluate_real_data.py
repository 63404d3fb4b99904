"""Real-data evaluation of lstmcore-signal on three UCR ECG problems (../shared/data/signal).

    python plugins/signal/evaluation/evaluate_real_data.py --output plugins/signal/evaluation/RESULTS.md

On the canonical train/test splits of ECG200, TwoLeadECG and ECGFiveDays:
the test accuracy of the task's default model (LSTM-FCN, the same default
hyper-parameters for all three data sets, no per-data-set tuning), median
over seeds 0-4, beside the published 1-NN Euclidean, 1-NN DTW, LSTM-FCN,
ALSTM-FCN and the Fawaz et al. FCN and ResNet means (read from the
baselines/ files, see the data README), with the training time per data set.

Sized for CI (2 cores, a few minutes): the default's 200 epochs at batch size
16 with a cosine-decayed learning rate, where Karim et al. trained for 2000
epochs; each fit runs in its own process on one thread, `--workers` at once.
`--seeds 0` and `--datasets` give a quicker partial run (the tests use them).

Each trained model also predicts the test set inside
`lstmcore.inference_precision("bfloat16")` (issue #21): that accuracy, the
largest absolute difference of the probabilities and the number of test
predictions whose class changed are reported beside the float32 figure of
record, which they do not touch (no retraining; one more prediction of the
test set per fit, a small part of the fit's time, so always on).
"""
from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[3]
SHARED = Path(os.environ.get("LSTMCORE_SHARED_DATA", REPO.parent / "shared" / "data"))
DATA = SHARED / "signal"
DATASETS = ("ECG200", "TwoLeadECG", "ECGFiveDays")
SEEDS = (0, 1, 2, 3, 4)


def split_paths(name: str):
    folder = DATA / "ucr_ecg" / name
    return folder / f"{name}_TRAIN.tsv", folder / f"{name}_TEST.tsv"


def fit_and_score(job) -> dict:
    """Train the default model on one data set's TRAIN file with one seed; test accuracy and seconds.

    Runs in a worker process on one thread.  `overrides` change hyper-parameters (for experiments;
    the committed table uses none).
    """
    name, seed, overrides = job
    import lstmcore
    from lstmcore import registry
    from lstmcore.tasks.contract import resolve_hyperparameters

    lstmcore.set_num_threads(1)
    task = registry.tasks.get("signal")
    hyperparameters = resolve_hyperparameters(task, overrides or {})
    train_path, test_path = split_paths(name)
    train = task.read([train_path], {}, labelled=True)
    state = task.fit_encoder(train, hyperparameters)
    encoded = task.encode(train, state, labelled=True)
    lstmcore.set_seed(seed)
    model = task.build_model(state, hyperparameters)
    epochs, batch_size = task.training_schedule(hyperparameters)
    started = time.perf_counter()
    task.fit(model, encoded, epochs=epochs, batch_size=batch_size, validation_split=0.0,
             hyperparameters=hyperparameters)
    seconds = time.perf_counter() - started
    test = task.encode(task.read([test_path], {}, labelled=True), state, labelled=True)
    full = np.asarray(task.predict(model, test, state))
    with lstmcore.inference_precision("bfloat16"):
        reduced = np.asarray(task.predict(model, test, state))
    return {"dataset": name, "seed": seed, "seconds": seconds, **precision_scores(test.y, full, reduced)}


def precision_scores(y, full, reduced) -> dict:
    """Float32 ("accuracy", the figure of record) and bfloat16 accuracy of the same model's predictions,
    the largest absolute probability difference, and how many predicted classes changed (of how many)."""
    return {"accuracy": float(np.mean(full.argmax(axis=1) == y)),
            "accuracy_bfloat16": float(np.mean(reduced.argmax(axis=1) == y)),
            "max_abs_difference": float(np.max(np.abs(full - reduced))),
            "changed": int(np.sum(full.argmax(axis=1) != reduced.argmax(axis=1))), "predictions": int(len(y))}


def run_all(datasets, seeds, workers: int, overrides=None):
    jobs = [(name, seed, overrides) for name in datasets for seed in seeds]
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(fit_and_score, jobs))


# --- the published numbers ------------------------------------------------------------------

def _archive_accuracies(name: str) -> dict:
    """1 - the archive's own error rates (DataSummary.csv): 1-NN ED, DTW with learned window, DTW full."""
    with open(DATA / "baselines" / "ucr2018_DataSummary.csv", newline="") as handle:
        for row in csv.reader(handle):
            if len(row) > 9 and row[2].strip() == name:
                learned = row[8].split("(")[0]
                return {"1-NN ED": 1 - float(row[7]), "1-NN DTW (learned w)": 1 - float(learned),
                        "1-NN DTW (full)": 1 - float(row[9])}
    raise KeyError(name)


def _karim_accuracies(name: str) -> dict:
    with open(DATA / "baselines" / "karim2018_lstmfcn_train_loss_old_datasets.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["Dataset"] == name:
                return {"LSTM-FCN": float(row["LSTM-FCN"]), "ALSTM-FCN": float(row["ALSTM-FCN"])}
    raise KeyError(name)


def _fawaz_means(name: str) -> dict:
    runs = {"fcn": [], "resnet": []}
    with gzip.open(DATA / "baselines" / "fawaz2019_dl4tsc_results-ucr-128.csv.gz", "rt", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["dataset_name"] == name and row["classifier_name"] in runs:
                runs[row["classifier_name"]].append(float(row["accuracy"]))
    return {"FCN (Fawaz, mean of 5)": float(np.mean(runs["fcn"])),
            "ResNet (Fawaz, mean of 5)": float(np.mean(runs["resnet"]))}


def published(name: str) -> dict:
    return {**_archive_accuracies(name), **_karim_accuracies(name), **_fawaz_means(name)}


# --- the table ----------------------------------------------------------------------------

def cpu_model() -> str:
    try:
        output = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown CPU (lscpu unavailable)"
    fields = {key.strip(): value.strip() for key, value in
              (line.split(":", 1) for line in output.splitlines() if ":" in line)}
    return (f"{fields.get('Model name', '?')} (family {fields.get('CPU family', '?')}, model "
            f"{fields.get('Model', '?')}; {fields.get('CPU(s)', '?')} CPUs)")


def summarise(results, datasets):
    rows = []
    for name in datasets:
        runs = sorted((r for r in results if r["dataset"] == name), key=lambda r: r["seed"])
        accuracies = [r["accuracy"] for r in runs]
        seconds = [r["seconds"] for r in runs]
        reduced = [r["accuracy_bfloat16"] for r in runs]
        rows.append({"dataset": name, "median": statistics.median(accuracies), "per_seed": accuracies,
                     "median_bfloat16": statistics.median(reduced), "per_seed_bfloat16": reduced,
                     "max_abs_difference": max(r["max_abs_difference"] for r in runs),
                     "changed": sum(r["changed"] for r in runs), "predictions": sum(r["predictions"] for r in runs),
                     "seeds": [r["seed"] for r in runs],
                     "seconds_median": statistics.median(seconds), "seconds_total": sum(seconds),
                     "published": published(name)})
    return rows


def goal_lines(rows) -> list:
    """The issue's goal, per data set: at least 1-NN DTW (learned window), and how far from LSTM-FCN."""
    lines = ["Goal: at least 1-NN DTW on every set, aiming at Karim et al.'s LSTM-FCN.", ""]
    for row in rows:
        dtw, karim = row["published"]["1-NN DTW (learned w)"], row["published"]["LSTM-FCN"]
        verdict = "yes" if row["median"] >= dtw else "NO"
        lines.append(f"- {row['dataset']}: {row['median']:.4f} against 1-NN DTW {dtw:.4f} ({verdict}); "
                     f"{row['median'] - karim:+.4f} against LSTM-FCN's {karim:.4f}")
    return lines + [""]


def bfloat16_kernel() -> str:
    """What `lstmcore.show_config()` says of bfloat16 inference here (native instructions or emulated)."""
    import lstmcore

    text = io.StringIO()
    lstmcore.show_config(file=text)
    return next((line.split(":", 1)[1].strip() for line in text.getvalue().splitlines()
                 if line.strip().startswith("bfloat16 inference:")), "not reported by show_config")


def bfloat16_lines(rows) -> list:
    """The bfloat16 table: per data set, the float32 and bfloat16 test accuracy of the same trained models,
    the largest absolute probability difference and the test predictions whose class changed."""
    import lstmcore

    lines = ["bfloat16 inference: the same trained models predicted the test set again inside "
             "`lstmcore.inference_precision(\"bfloat16\")` (the LSTM layer's recurrent product with the "
             "recurrent kernel and h rounded to bfloat16, float32 sums and state); no retraining. "
             f"Machine: {lstmcore.machine_summary()}; bfloat16 inference: {bfloat16_kernel()}.", "",
             "| dataset | float32 (median) | **bfloat16 (median)** | float32 per seed | bfloat16 per seed | "
             "largest abs. probability difference | test predictions whose class changed, all seeds |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['dataset']} | {row['median']:.4f} | **{row['median_bfloat16']:.4f}** | "
                     + ", ".join(f"{a:.4f}" for a in row["per_seed"]) + " | "
                     + ", ".join(f"{a:.4f}" for a in row["per_seed_bfloat16"])
                     + f" | {row['max_abs_difference']:.2e} | {row['changed']} / {row['predictions']} |")
    return lines + [""]


def markdown(rows, command: str, elapsed: float, workers: int, load: float = float("nan")) -> str:
    import lstmcore
    from lstmcore import registry

    columns = list(rows[0]["published"])
    lines = ["# lstmcore-signal on real data (UCR ECG sets, canonical splits)", "",
             f"Command: `{command}`", "",
             f"Measured on {cpu_model()}, {workers} worker processes of 1 thread each, {elapsed:.0f} s in all; "
             f"lstmcore {lstmcore.__version__}. Load average when it started: {load:.1f} (the machine is "
             "shared: on a busy one the training times stretch, the accuracies do not move).", "",
             "lstmcore: the `signal` task's default LSTM-FCN (the same default hyper-parameters for all three "
             "sets, below), test accuracy, median over seeds "
             f"{', '.join(str(s) for s in rows[0]['seeds'])}. Published: test accuracy "
             "(1-NN: 1 - the archive's error rates; LSTM-FCN and ALSTM-FCN: Karim et al. 2018; FCN and ResNet: "
             "Fawaz et al. 2019, mean of 5 runs).", "",
             "| dataset | **lstmcore LSTM-FCN (median)** | per seed | " + " | ".join(columns)
             + " | training s per fit (median) | training s, all seeds |",
             "|---" * (5 + len(columns)) + "|"]
    for row in rows:
        cells = [row["dataset"], f"**{row['median']:.4f}**", ", ".join(f"{a:.4f}" for a in row["per_seed"])]
        cells += [f"{row['published'][c]:.4f}" for c in columns]
        cells += [f"{row['seconds_median']:.1f}", f"{row['seconds_total']:.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    defaults = registry.tasks.get("signal").hyperparameters
    lines += [""] + bfloat16_lines(rows) + goal_lines(rows)
    lines += ["Default hyper-parameters (`lstmcore info MODEL` shows them for a trained model):", "",
              "```json", json.dumps(dict(defaults), sort_keys=True), "```", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", required=True, help="the markdown file to write")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--config", default=None, help="JSON hyper-parameter overrides (experiments only)")
    args = parser.parse_args(argv)
    overrides = json.loads(Path(args.config).read_text()) if args.config else None
    load = os.getloadavg()[0]
    started = time.perf_counter()
    results = run_all(args.datasets, args.seeds, args.workers, overrides)
    elapsed = time.perf_counter() - started
    command = "python plugins/signal/evaluation/evaluate_real_data.py " + " ".join(argv or sys.argv[1:])
    text = markdown(summarise(results, args.datasets), command, elapsed, args.workers, load)
    from lstmcore.io.atomic import atomic_open

    with atomic_open(args.output, "w", encoding="utf-8") as handle:
        handle.write(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Does the motif task's default model learn a planted motif at the lengths users have?  (issue #22)

    OMP_NUM_THREADS=1 python plugins/motif/evaluation/evaluate_lengths.py --lengths 200 1000 \\
        --data-seeds 0 1 2 --train-seeds 0 1 --output plugins/motif/evaluation/LENGTHS.md

For each length and data seed: 4,000 random sequences of exactly that length,
every second one with CACGTG planted at a random position (no other CACGTG
anywhere), and an independent held-out set of 1,000 from the same generator.
For each training seed, the task's defaults as `lstmcore train motif DATA
--validation-split 0.1 --seed S` would use them (architecture chosen by
length, early stopping, the not-learning check): the held-out AUROC of the
motif class, the epochs run, the seconds per epoch, and whether the fit was
stopped as not learning.  One training at a time, on one thread.

`--append` adds rows to an existing table's measurements (kept as JSON in
`LENGTHS.json` beside the output), so a long grid can be run in pieces;
`--table-only` rewrites the table from them.  LENGTHS.md was made by the
commands in REPRODUCE, in that order.
"""
from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

SITE = "CACGTG"
TRAIN_COUNT, HELD_OUT_COUNT, VALIDATION_SPLIT = 4000, 1000, 0.1
SCRIPT = "OMP_NUM_THREADS=1 python plugins/motif/evaluation/evaluate_lengths.py"
EXTRA = "--append --data-seeds 0 --train-seeds 0"
REPRODUCE = [f"{SCRIPT} --lengths 1000 200 --data-seeds 0 1 2 --train-seeds 0 1",
             f"""{SCRIPT} {EXTRA} --lengths 200 --config '{{"architecture": "bilstm"}}'""",
             f"""{SCRIPT} {EXTRA} --lengths 1000 --config '{{"learning_rate": 0.01}}'"""]


def planted_records(length: int, data_seed: int):
    """(training records, held-out records) of `length` nt with SITE planted in every second one."""
    from lstmcore import toolkit as tk

    rng = np.random.default_rng([length, data_seed])
    parts = []
    for prefix, count in (("train", TRAIN_COUNT), ("heldout", HELD_OUT_COUNT)):
        rows = tk.planted_sequences(rng, count, [SITE], lengths=(length, length + 1), prefix=prefix)
        parts.append([tk.SequenceRecord(i, s, i, "generated", label) for i, s, label in rows])
    return parts


def train_and_score(length: int, data_seed: int, train_seed: int,
                    overrides: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """One default training (as `lstmcore train` runs it) and its held-out AUROC and timings."""
    import lstmcore
    from lstmcore import registry
    from lstmcore import toolkit as tk

    task = registry.tasks.get("motif")
    train_records, held_out_records = planted_records(length, data_seed)
    hyperparameters = dict(task.hyperparameters, **(overrides or {}))
    lstmcore.set_seed(train_seed)
    state = task.fit_encoder(train_records, hyperparameters)
    encoded = task.encode(train_records, state, labelled=True)
    model = task.build_model(state, hyperparameters)
    epochs, batch_size = task.training_schedule(hyperparameters)
    started = time.perf_counter()
    history = task.fit(model, encoded, epochs=epochs, batch_size=batch_size, validation_split=VALIDATION_SPLIT,
                       hyperparameters=hyperparameters)
    seconds = time.perf_counter() - started
    held_out = task.encode(held_out_records, state, labelled=True)
    motif = state["classes"].index("motif")
    scores = task.predict(model, held_out, state)[:, motif]
    positive = held_out.y == motif
    run = len(history.history["loss"])
    return {"length": length, "data_seed": data_seed, "train_seed": train_seed,
            "architecture": state["architecture"], "auroc": tk.binary_auroc(scores[positive], scores[~positive]),
            "epochs_run": run, "epochs_max": epochs, "seconds": seconds, "seconds_per_epoch": seconds / run,
            "best_val_accuracy": max(history.history.get("val_accuracy", [float("nan")])),
            "not_learning": getattr(history, "not_learning", None), "overrides": overrides or {}}


def cpu_model() -> str:
    """lscpu's model name, cores and the figures that set the speed."""
    try:
        lines = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or platform.machine()
    fields = dict(line.split(":", 1) for line in lines if ":" in line)
    keep = ("Model name", "CPU family", "Model", "CPU(s)", "Thread(s) per core")
    return ", ".join(f"{key}: {fields[key].strip()}" for key in keep if key in fields)


def markdown(rows: List[Dict[str, Any]], cpu: str) -> str:
    """LENGTHS.md: the grid, one row per training, and a summary per length."""
    lines = ["# lstmcore-motif: planted motif at the lengths users have (issue #22)", "",
             "Commands (in this order; rows with settings in brackets are the extra runs):", "",
             *[f"    {command}" for command in REPRODUCE], "",
             f"CPU: {cpu}; OMP_NUM_THREADS=1, one training at a time, on a machine shared with other work "
             "(load average between 2 and 6 on its 2 cores while this ran), so the seconds per epoch are upper bounds.", "",
             f"Data: {TRAIN_COUNT} random sequences of one length, {SITE} planted at a random position in every "
             f"second one (class `motif`, no other {SITE}), trained with the task's defaults and "
             f"--validation-split {VALIDATION_SPLIT}; AUROC on an independent held-out set of {HELD_OUT_COUNT} "
             "from the same generator.", "",
             "| length | data seed | training seed | architecture | held-out AUROC | epochs run / max | "
             "s per epoch | not-learning stop |", "|---|---|---|---|---|---|---|---|"]
    for row in sorted(rows, key=lambda r: (r["length"], r["data_seed"], r["train_seed"], str(r["overrides"]))):
        settings = f" ({json.dumps(row['overrides'])})" if row["overrides"] else ""
        lines.append(f"| {row['length']} | {row['data_seed']} | {row['train_seed']} | {row['architecture']}{settings} "
                     f"| {row['auroc']:.4f} | {row['epochs_run']} / {row['epochs_max']} | "
                     f"{row['seconds_per_epoch']:.1f} | {'yes' if row['not_learning'] else 'no'} |")
    lines += ["", "Summary (default settings only):", ""]
    for length in sorted({r["length"] for r in rows}):
        chosen = [r for r in rows if r["length"] == length and not r["overrides"]]
        if chosen:
            aurocs = [r["auroc"] for r in chosen]
            lines.append(f"- {length} nt: {len(chosen)} trainings, held-out AUROC min {min(aurocs):.4f}, "
                         f"median {float(np.median(aurocs)):.4f}; >= 0.95 in {sum(a >= 0.95 for a in aurocs)} "
                         f"of {len(aurocs)}; {float(np.median([r['seconds_per_epoch'] for r in chosen])):.1f} s "
                         "per epoch (median)")
    lines += ["", "Not measured here: lengths between the promoters' 57 nt (where \"auto\" keeps the BiLSTM, "
              "evaluation/RESULTS.md) and 200 nt; `long_length` 150 lies between the two measured points."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--data-seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--train-seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--config", default=None, help="JSON object of hyper-parameters overriding the defaults")
    parser.add_argument("--output", type=Path, default=Path(__file__).with_name("LENGTHS.md"))
    parser.add_argument("--append", action="store_true", help="keep the rows already measured (LENGTHS.json)")
    parser.add_argument("--table-only", action="store_true", help="rewrite the table from LENGTHS.json; train nothing")
    args = parser.parse_args(argv)
    import lstmcore

    lstmcore.set_num_threads(1)
    store = args.output.with_suffix(".json")
    rows = json.loads(store.read_text()) if (args.append or args.table_only) and store.exists() else []
    overrides = json.loads(args.config) if args.config else None
    for length in [] if args.table_only else args.lengths:
        for data_seed in args.data_seeds:
            for train_seed in args.train_seeds:
                row = train_and_score(length, data_seed, train_seed, overrides)
                print(json.dumps(row), file=sys.stderr, flush=True)
                rows.append(row)
                store.write_text(json.dumps(rows, indent=1))
    args.output.write_text(markdown(rows, cpu_model()), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Generated predator-prey counts for `lstmcore demo population`: a noisy discrete Lotka-Volterra.

    prey[t+1]     = prey[t] exp(r (1 - prey[t] / K) - a pred[t] + e1)
    predator[t+1] = pred[t] exp(b a prey[t] - m + e2),         e ~ Normal(0, noise^2)

(a Ricker prey with a Nicholson-Bailey-like predator, the form used for hare and lynx), observed as
Poisson counts, with a few gaps (empty cells) in the training file.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from lstmcore.toolkit import ExampleData

__all__ = ["lotka_volterra", "write_demo_data"]


def lotka_volterra(steps: int, seed: int = 0, noise: float = 0.05) -> np.ndarray:
    """(steps, 2) Poisson counts of prey and predator."""
    rng = np.random.default_rng(seed)
    r, capacity, attack, efficiency, mortality = 1.0, 400.0, 0.015, 0.1, 0.45
    prey, predator = 200.0, 30.0
    expected = []
    for _ in range(steps):
        expected.append((prey, predator))
        shocks = rng.normal(0.0, noise, 2)
        prey, predator = (prey * np.exp(r * (1 - prey / capacity) - attack * predator + shocks[0]),
                          predator * np.exp(efficiency * attack * prey - mortality + shocks[1]))
    return rng.poisson(np.asarray(expected)).astype(np.float64)


def _write(path: Path, years: np.ndarray, counts: np.ndarray, gaps=()) -> Path:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("year,prey,predator\n")
        for row, (year, (prey, predator)) in enumerate(zip(years, counts)):
            cells = ["" if (row, column) in gaps else str(int(value))
                     for column, value in enumerate((prey, predator))]
            handle.write(f"{int(year)},{cells[0]},{cells[1]}\n")
    return path


def write_demo_data(folder: Path, seed: int = 0) -> ExampleData:
    """train.csv (years 1900-1979, three gaps), evaluate.csv and predict.csv (the whole 1900-1999)."""
    folder.mkdir(parents=True, exist_ok=True)
    counts = lotka_volterra(100, seed)
    years = np.arange(1900, 2000)
    train = _write(folder / "train.csv", years[:80], counts[:80], gaps={(20, 0), (41, 1), (57, 0)})
    full = _write(folder / "evaluate.csv", years, counts)
    return ExampleData(folder, [train], [full], [full], {"missing": "interpolate"},
                       "a noisy discrete Lotka-Volterra prey and predator, Poisson counts, 3 gaps in training")

"""Helpers the lstmcore-population tests import (a module name of their own, so no other conftest shadows it)."""
import os
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[3]
SHARED_DATA = Path(os.environ.get("LSTMCORE_SHARED_DATA", REPO.parent / "shared" / "data")) / "population"

# Small ensembles and short training keep every test fast; the behaviour tested does not depend on size.
QUICK = {"members": 2, "epochs": 30}


def write_table(path: Path, header, rows, delimiter=",") -> Path:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(delimiter.join(header) + "\n")
        for row in rows:
            handle.write(delimiter.join("" if v is None else str(v) for v in row) + "\n")
    return path


def sine_trend(steps: int, seed: int = 0, noise: float = 0.0) -> np.ndarray:
    """Positive counts: 200 + 2 t + 60 sin(2 pi t / 12), times exp(noise) if any."""
    t = np.arange(steps)
    level = 200 + 2.0 * t + 60 * np.sin(2 * np.pi * t / 12)
    return level * np.exp(np.random.default_rng(seed).normal(0, noise, steps)) if noise else level

"""Generated example data for `lstmcore demo signal`: action-potential-like spikes of three shapes.

- "fast": one narrow spike (sharp upstroke, quick repolarisation, a small
  after-hyperpolarisation), as a neuron's;
- "plateau": one broad spike that holds near its peak before repolarising,
  as a cardiomyocyte's;
- "burst": three narrow spikes in quick succession.

Each trace has 90-130 samples (so the demo also runs the core's lengths), a
random onset, amplitude and baseline, and measurement noise.  They are written
in the UEA/UCR `.ts` format (`@equalLength false`); nothing is downloaded.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from lstmcore.toolkit import ExampleData

__all__ = ["CLASSES", "spike_trace", "write_demo_data", "write_ts"]

CLASSES = ("fast", "plateau", "burst")
_PARTS = (("train", 90), ("evaluate", 45), ("predict", 15))


def _spike(t: np.ndarray, onset: float, width: float, plateau: float = 0.0) -> np.ndarray:
    """A spike starting at `onset`: a steep rise, `plateau` steps held, an exponential fall and undershoot."""
    s = t - onset
    rise = 1.0 / (1.0 + np.exp(-s / 0.6))
    fall = np.where(s > plateau, np.exp(-np.maximum(s - plateau, 0.0) / width), 1.0)
    undershoot = -0.15 * np.where(s > plateau + 2 * width, np.exp(-(s - plateau - 2 * width) / (4 * width)), 0.0)
    return rise * fall + undershoot * rise


def spike_trace(kind: str, length: int, rng: np.random.Generator) -> np.ndarray:
    """One noisy trace of class `kind` (membrane-potential-like units)."""
    t = np.arange(length, dtype=np.float64)
    onset = rng.uniform(0.15, 0.45) * length
    if kind == "fast":
        shape = _spike(t, onset, width=rng.uniform(2.0, 3.0))
    elif kind == "plateau":
        shape = _spike(t, onset, width=rng.uniform(3.0, 5.0), plateau=rng.uniform(15.0, 25.0))
    else:
        gap = rng.uniform(6.0, 9.0)
        shape = sum(_spike(t, onset + k * gap, width=rng.uniform(1.5, 2.5)) for k in range(3))
    amplitude, baseline = rng.uniform(70.0, 100.0), rng.uniform(-75.0, -60.0)
    return baseline + amplitude * shape + rng.normal(0.0, 2.0, size=length)


def write_ts(path: Path, traces, labels=None, name: str = "spikes") -> Path:
    """A univariate .ts file of unequal-length traces (labels last on each line when given)."""
    lines = [f"@problemName {name}", "@timeStamps false", "@missing false", "@univariate true",
             "@equalLength false"]
    lines.append(f"@classLabel true {' '.join(CLASSES)}" if labels is not None else "@classLabel false")
    lines.append("@data")
    for i, trace in enumerate(traces):
        values = ",".join(f"{v:.4f}" for v in trace)
        lines.append(f"{values}:{labels[i]}" if labels is not None else values)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_demo_data(folder: Path, seed: int = 0) -> ExampleData:
    rng = np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for part, count in _PARTS:
        kinds = [CLASSES[i % len(CLASSES)] for i in range(count)]
        traces = [spike_trace(kind, int(rng.integers(90, 131)), rng) for kind in kinds]
        paths[part] = write_ts(folder / f"{part}.ts", traces, None if part == "predict" else kinds)
    return ExampleData(folder, [paths["train"]], [paths["evaluate"]], [paths["predict"]], {},
                       "action-potential-like spikes of three shapes (fast, plateau, burst), 90-130 samples")

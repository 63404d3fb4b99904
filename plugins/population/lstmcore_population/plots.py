"""PNG per series (`lstmcore predict ... --plot`): history, the training backtest's one-step forecasts,
the future forecast and its interval.  Needs matplotlib (`pip install 'lstmcore-population[plot]'`)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from lstmcore.toolkit import UserInputError

__all__ = ["plot_forecasts"]


def plot_paths(output, series) -> list:
    """OUTPUT_STEM.SERIES.png per series; FORECAST.SERIES.png in the current folder when the table goes to
    standard output (`-o -`) or nowhere."""
    from lstmcore.io.outputs import is_stdout

    stem = Path(output).with_suffix("") if output and not is_stdout(output) else Path("forecast")
    return [Path(f"{stem}.{name}.png") for name in series]


def plot_forecasts(data, outputs: np.ndarray, future: list, state: dict, output) -> list:
    """Write OUTPUT_STEM.SERIES.png for every series (each checked before the first is drawn: never an input,
    never a folder or a special file); returns the paths."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UserInputError("--plot needs matplotlib: pip install 'lstmcore-population[plot]'") from None
    from lstmcore.io.atomic import atomic_path
    from lstmcore.io.outputs import check_output

    planned = plot_paths(output, state["series"])
    for path in planned:
        check_output(path, [data.path, output], allow_stdout=False)
    one_step = (state.get("training_backtest") or {}).get("one_step") or {}
    paths = []
    for s, name in enumerate(state["series"]):
        figure, axes = plt.subplots(figsize=(8, 3.5))
        axes.plot(data.times, data.values[:, s], color="black", marker=".", label="history")
        if one_step.get("times"):
            axes.plot(one_step["times"], np.asarray(one_step["forecast"])[:, s], color="tab:orange",
                      linestyle="--", label="backtest (one step)")
        axes.plot(future, outputs[:, s, 0], color="tab:blue", marker="o", label="forecast")
        axes.fill_between(future, outputs[:, s, 1], outputs[:, s, 2], color="tab:blue", alpha=0.25,
                          label=f"{state['interval']['level']:.0%} interval")
        axes.set_title(name)
        axes.set_ylabel("count")
        axes.tick_params(axis="x", labelrotation=45)
        axes.xaxis.set_major_locator(plt.MaxNLocator(10))
        axes.legend(fontsize="small")
        figure.tight_layout()
        path = planned[s]
        with atomic_path(path) as temporary:
            figure.savefig(temporary, format="png", dpi=100)
        plt.close(figure)
        paths.append(path)
    return paths

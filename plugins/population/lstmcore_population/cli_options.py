"""The population task's own command-line options, per command."""
from __future__ import annotations

from lstmcore.toolkit import positive_int

from .missing import MISSING_CHOICES

__all__ = ["add_population_arguments"]


def add_population_arguments(parser, command: str) -> None:
    """train: --lookback --horizon --missing --time-column --series --exog; predict: --horizon --missing
    --time-column --plot; evaluate: --folds --horizon --one-step --season --missing --time-column."""
    if command not in ("train", "predict", "evaluate"):
        return
    default = "interpolate" if command == "train" else "the model's choice"
    parser.add_argument("--missing", choices=MISSING_CHOICES, default=None,
                        help=f"what to do with an empty, NA or '-' count: fill it by linear interpolation, "
                             f"mask it (an observed-flag channel; never a target), or stop (exit 2) "
                             f"(default: {default})")
    parser.add_argument("--time-column", default=None, metavar="NAME",
                        help="the time column (default: the first of year, date, time, t, week, month; "
                             "else the first column)")
    parser.add_argument("--horizon", type=positive_int, default=None, metavar="H",
                        help={"train": "steps forecast at once (default: length / 12, 1 to 5)",
                              "predict": "steps to forecast (default: the model's horizon; longer ones "
                                         "continue recursively)",
                              "evaluate": "steps per backtest fold (default: the model's horizon)"}[command])
    if command == "train":
        parser.add_argument("--lookback", type=positive_int, default=None, metavar="L",
                            help="past points the model sees (default: twice the AR order AIC picks, 3 to 24)")
        parser.add_argument("--series", default=None, metavar="A,B",
                            help="the count columns to model (default: every column but time and --exog)")
        parser.add_argument("--exog", default=None, metavar="X,Y",
                            help="exogenous columns (temperature, effort): inputs, not forecast")
    if command == "predict":
        parser.add_argument("--plot", action="store_true",
                            help="also write a PNG per series (history, backtest forecasts, forecast, interval) "
                                 "beside the output, OUT.SERIES.png (forecast.SERIES.png here with -o -; "
                                 "needs the [plot] extra: matplotlib)")
    if command == "evaluate":
        parser.add_argument("--folds", type=positive_int, default=5,
                            help="rolling-origin folds, each retraining on the past (default 5)")
        parser.add_argument("--one-step", type=positive_int, default=None, metavar="K",
                            help="instead: train once on all but the last K points, then forecast each of "
                                 "them one step ahead from the true history before it")
        parser.add_argument("--season", type=positive_int, default=None,
                            help="season of the seasonal naive baseline (default: found from the "
                                 "autocorrelation)")

"""The core's subcommands: train, predict, evaluate, demo, plugins, show-config.

Each is a `lstmcore.commands.Command` (arguments + run) registered by the
core plugin; the work itself is in lstmcore.workflows, so these functions
only translate between argparse and Python and print results.  Results go to
stdout, progress bars and messages to stderr.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import registry
from .commands import Command, positive_int

__all__ = ["CORE_COMMANDS"]


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1). Received: {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1). Received: {text!r}")
    return value


def _add_threads(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threads", type=positive_int, default=None,
                        help="threads for the LSTM kernels and BLAS (default: all cores)")


def _add_expected_task(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", default=None, help="fail unless MODEL was trained for this task")


def _task_options(args: argparse.Namespace) -> dict:
    """Everything on the namespace, for the task's own options (e.g. --labels)."""
    return {key: value for key, value in vars(args).items() if key != "task_object"}


def _stderr(args, message: str) -> None:
    if not args.quiet:
        print(message, file=sys.stderr)


# --- train -------------------------------------------------------------------------------

def _train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("task", metavar="TASK", help="the task to train (see `lstmcore plugins`)")
    parser.add_argument("data", metavar="DATA", nargs="+", help="training data files")
    parser.add_argument("-o", "--output", required=True, metavar="MODEL", help="the model file to write")
    parser.add_argument("--epochs", type=positive_int, default=None,
                        help="default: the task's (10 for most)")
    parser.add_argument("--batch-size", type=positive_int, default=None,
                        help="default: the task's (32 for most)")
    parser.add_argument("--validation-split", type=_fraction, default=0.0)
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--config", metavar="JSON", default=None,
                        help="a JSON file of hyper-parameters overriding the task's defaults")
    _add_threads(parser)


def _train(args: argparse.Namespace) -> int:
    from .tasks import read_config_file
    from .workflows import train

    overrides = read_config_file(args.config) if args.config else {}
    result = train(args.task_object, args.data, args.output, options=_task_options(args),
                   hyperparameters=overrides, config_source=args.config, epochs=args.epochs,
                   batch_size=args.batch_size, validation_split=args.validation_split, seed=args.seed,
                   threads=args.threads, progress=not args.quiet)
    print(f"model: {result.path}")
    return 0


# --- predict -----------------------------------------------------------------------------

def _predict_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL", help="a model file written by `lstmcore train`")
    parser.add_argument("data", metavar="DATA", nargs="+", help="data files to predict")
    parser.add_argument("-o", "--output", required=True, metavar="OUT",
                        help="the prediction table to write (.tsv, or .csv)")
    _add_expected_task(parser)
    _add_threads(parser)


def _predict(args: argparse.Namespace) -> int:
    from .workflows import predict

    count = predict(args.model, args.data, args.output, options=_task_options(args), expect_task=args.task,
                    threads=args.threads, progress=not args.quiet)
    print(f"predictions: {args.output} ({count} rows)")
    return 0


# --- evaluate ----------------------------------------------------------------------------

def _evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL", help="a model file written by `lstmcore train`")
    parser.add_argument("data", metavar="DATA", nargs="+", help="labelled data files")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    _add_expected_task(parser)
    _add_threads(parser)


def _evaluate(args: argparse.Namespace) -> int:
    from .workflows import evaluate

    metrics = evaluate(args.model, args.data, options=_task_options(args), expect_task=args.task,
                       threads=args.threads)
    if args.json:
        print(json.dumps(metrics, sort_keys=True))
    else:
        _print_table(["metric", "value"], [[name, f"{value:.6g}"] for name, value in metrics.items()])
    return 0


def _model_task(args: argparse.Namespace):
    """The task a model file was trained for, so its own options join the parser."""
    from .task_models import read_task_name

    name = read_task_name(args.model, expect_task=getattr(args, "task", None))
    return registry.tasks.get(name)


# --- demo --------------------------------------------------------------------------------

def _demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("task", metavar="TASK", help="the task whose demo to run")
    parser.add_argument("--out", metavar="DIR", default=None,
                        help="the folder for data and results (default: ./lstmcore-demo-TASK)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=positive_int, default=None, help="default: the task's demo epochs")
    _add_threads(parser)


def _demo(args: argparse.Namespace) -> int:
    from .workflows import demo

    folder = Path(args.out or f"lstmcore-demo-{args.task}")
    result = demo(args.task_object, folder, seed=args.seed, epochs=args.epochs, threads=args.threads,
                  progress=not args.quiet)
    for part, paths in result.data.items():
        print(f"{part} data: {', '.join(str(p) for p in paths)}")
    print(f"model: {result.model}")
    print(f"metrics: {result.metrics_file}")
    print(f"predictions: {result.predictions}")
    for name, path in result.outputs.items():
        print(f"{name}: {path}")
    _print_table(["metric", "value"], [[name, f"{value:.6g}"] for name, value in result.metrics.items()])
    return 0


# --- plugins and show-config -------------------------------------------------------------

def _plugins_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _plugins(args: argparse.Namespace) -> int:
    from .plugins import plugin_reports

    reports = plugin_reports()
    if args.json:
        print(json.dumps({"plugins": [r.as_dict() for r in reports]}, sort_keys=True))
        return 0
    for report in reports:
        print(_describe_plugin(report))
    return 0


def _describe_plugin(report) -> str:
    title = f"{report.name} {report.version or ''}".rstrip()
    where = f"({report.source}: {report.module})" if report.module else f"({report.source})"
    lines = [f"{title} {where}"]
    if report.disabled:
        lines.append("  disabled")
    if report.error:
        lines.append(f"  FAILED: {report.error}")
    if report.hooks:
        lines.append(f"  hooks: {', '.join(report.hooks)}")
    for kind, names in sorted(report.registered.items()):
        lines.append(f"  {kind}: {', '.join(names)}")
    return "\n".join(lines)


def _show_config(args: argparse.Namespace) -> int:
    from . import show_config
    from .plugins import plugin_reports

    show_config()
    loaded = [r.name for r in plugin_reports() if not r.error and not r.disabled]
    print(f"{'plugins':>9}: {', '.join(loaded)}")
    return 0


def _print_table(header, rows) -> None:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())


def _train_task(args):
    return registry.tasks.get(args.task)


CORE_COMMANDS = {
    "train": Command("train a task's default model on data files", _train_arguments, _train, _train_task),
    "predict": Command("predict with a trained model; writes a table", _predict_arguments, _predict,
                       _model_task),
    "evaluate": Command("print a trained model's metrics on labelled data", _evaluate_arguments, _evaluate,
                        _model_task),
    "demo": Command("generate a task's example data, then train, evaluate and predict on it",
                    _demo_arguments, _demo, _train_task),
    "plugins": Command("list plugins: name, version, hooks and what each registered", _plugins_arguments,
                       _plugins),
    "show-config": Command("show the build, threads and plugins", lambda parser: None, _show_config),
}

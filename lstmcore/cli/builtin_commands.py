"""The core's subcommands: train, predict, evaluate, demo, info, plugins, show-config.

Each is a `lstmcore.cli.Command` (arguments + run) registered by the
core plugin; the work itself is in lstmcore.tasks.workflows, so these functions
only translate between argparse and Python and print results.  Results go to
stdout, progress bars and messages to stderr.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .. import registry
from ..precision import PRECISIONS, inference_precision
from .command import Command, positive_int, seed

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
    """Everything on the namespace, for the task's own options (e.g. --labels); not what the command line
    keeps for itself (the task object, a model file's contents)."""
    return {key: value for key, value in vars(args).items() if key not in ("task_object", "model_contents")}


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
    parser.add_argument("--seed", type=seed, default=0, help="random seed (default 0)")
    parser.add_argument("--config", metavar="JSON", default=None,
                        help="a JSON file of hyper-parameters overriding the task's defaults (or the JSON "
                             "object itself, e.g. '{\"units\": 64}')")
    _add_threads(parser)


def _train(args: argparse.Namespace) -> int:
    from ..tasks.contract import config_source_name, read_config_file
    from ..tasks.workflows import train

    overrides = read_config_file(args.config) if args.config else {}
    result = train(args.task_object, args.data, args.output, options=_task_options(args),
                   hyperparameters=overrides, config_source=config_source_name(args.config), epochs=args.epochs,
                   batch_size=args.batch_size, validation_split=args.validation_split, seed=args.seed,
                   threads=args.threads, progress=not args.quiet)
    print(f"model: {result.path}")
    return 0


# --- predict -----------------------------------------------------------------------------

def _model_and_data_arguments(parser: argparse.ArgumentParser, data_help: str) -> None:
    """MODEL DATA... and --task / --threads / --precision: what predict and evaluate share."""
    parser.add_argument("model", metavar="MODEL", help="a model file written by `lstmcore train`")
    parser.add_argument("data", metavar="DATA", nargs="+", help=data_help)
    _add_expected_task(parser)
    _add_threads(parser)
    parser.add_argument("--precision", choices=PRECISIONS, default="float32",
                        help="bfloat16: the LSTM layers' recurrent products in bfloat16, faster where the CPU "
                             "has AVX512-BF16, outputs within about 1e-3 (docs/precision.md); default float32")


def _predict_arguments(parser: argparse.ArgumentParser) -> None:
    _model_and_data_arguments(parser, "data files to predict")
    parser.add_argument("-o", "--output", required=True, metavar="OUT",
                        help="the prediction table to write (.tsv, or .csv; '-' for standard output)")


def _predict(args: argparse.Namespace) -> int:
    from ..tasks.workflows import predict

    with inference_precision(args.precision):
        count = predict(_model_source(args), args.data, args.output, options=_task_options(args),
                        expect_task=args.task, threads=args.threads, progress=not args.quiet)
    to_stdout = args.output == "-"  # the table is on stdout: the summary goes beside the progress, on stderr
    print(f"predictions: {'standard output' if to_stdout else args.output} ({count} rows)",
          file=sys.stderr if to_stdout else sys.stdout)
    return 0


# --- evaluate ----------------------------------------------------------------------------

def _evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    _model_and_data_arguments(parser, "labelled data files")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def _evaluate(args: argparse.Namespace) -> int:
    from ..tasks.workflows import evaluate

    with inference_precision(args.precision):
        metrics = evaluate(_model_source(args), args.data, options=_task_options(args), expect_task=args.task,
                           threads=args.threads)
    if args.json:
        print(json.dumps(metrics, sort_keys=True))
    else:
        _print_table(["metric", "value"], [[name, f"{value:.6g}"] for name, value in metrics.items()])
    return 0


def _model_task(args: argparse.Namespace):
    """The task a model file was trained for, so its own options join the parser.

    The file is read here, once, and its contents kept on the namespace
    (`model_contents`) for the command to load the model from: standard input
    (`-`) or a FIFO can be read only once.
    """
    from ..io.inputs import check_stdin_once
    from ..saving.task_models import read_model_file, read_task_name

    check_stdin_once([args.model, *(getattr(args, "data", None) or [])])
    args.model_contents = read_model_file(args.model)
    name = read_task_name(args.model_contents, expect_task=getattr(args, "task", None))
    return registry.tasks.get(name)


def _model_source(args: argparse.Namespace):
    """The model file's contents when `_model_task` read them already (handed over: the namespace keeps no
    copy of the tensors once the model is built from them), else its path."""
    return vars(args).pop("model_contents", None) or args.model


# --- demo --------------------------------------------------------------------------------

def _demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("task", metavar="TASK", help="the task whose demo to run")
    parser.add_argument("--out", metavar="DIR", default=None,
                        help="the folder for data and results (default: ./lstmcore-demo-TASK)")
    parser.add_argument("--seed", type=seed, default=0, help="random seed (default 0)")
    parser.add_argument("--epochs", type=positive_int, default=None, help="default: the task's demo epochs")
    _add_threads(parser)


def _demo(args: argparse.Namespace) -> int:
    from ..tasks.workflows import demo

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
    for line in result.summary:
        print(line)
    return 0


# --- info --------------------------------------------------------------------------------

def _info_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL", help="a model file (written by `lstmcore train` or model.save)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")


def _info(args: argparse.Namespace) -> int:
    from ..saving.task_models import describe_model_file

    description = describe_model_file(args.model)
    if args.json:
        print(json.dumps(description, sort_keys=True))
    else:
        print("\n".join(_info_lines(description)))
    return 0


def _info_lines(description: dict) -> list:
    """`lstmcore info` as text: what the model is for, what it learnt, how it is built and trained."""
    lines = [f"file: {description['file']}", f"task: {_describe_task(description)}",
             f"written by: lstmcore {description['lstmcore_version']} "
             f"(model file format {description['format_version']})"]
    if description["state"]:
        lines.append("state (what the encoder learnt from the training data):")
        lines.extend(f"  {key}: {_describe_value(value)}" for key, value in description["state"].items())
    lines.extend(_architecture_lines(description["architecture"]))
    if description["hyperparameters"]:
        lines.append("hyper-parameters:")
        lines.extend(f"  {key}: {_describe_value(value)}" for key, value in description["hyperparameters"].items())
    lines.append(f"training: {_describe_training(description['compile'], description['training'])}")
    lines.append(f"training data: {_describe_training_data(description['training_data'])}")
    return lines


def _describe_task(description: dict) -> str:
    if description["task"] is None:
        return "none (saved with model.save in Python, not `lstmcore train`)"
    provider = description.get("provider") or {}
    source = " ".join(str(part) for part in (provider.get("distribution"), provider.get("version")) if part)
    return f"{description['task']} (provided by {source})" if source else str(description["task"])


def _architecture_lines(architecture: dict) -> list:
    """A short summary, layer by layer: name (type), settings, output shape, parameters."""
    input_shape = _describe_shape(architecture["input_shape"])
    lines = [f"architecture: input {input_shape}, {architecture['params']:,} parameters"]
    rows = [[str(index), f"{layer['name']} ({layer['type']})", _describe_shape(layer["output_shape"]),
             f"{layer['params']:,}", ", ".join(f"{k}={_describe_value(v)}" for k, v in layer["settings"].items())]
            for index, layer in enumerate(architecture["layers"])]
    lines.extend(f"  {line}" for line in _table_lines(["#", "layer (type)", "output shape", "params", "settings"],
                                                       rows))
    return lines


def _describe_training(compile_spec, schedule) -> str:
    parts = []
    if compile_spec:
        parts.append(f"optimizer {compile_spec['optimizer']}{_describe_rate(compile_spec.get('learning_rate'))}")
        parts.append(f"loss {compile_spec['loss']}")
    if schedule:
        parts.append(f"epochs {schedule.get('epochs')}, batch size {schedule.get('batch_size')}, "
                     f"validation split {schedule.get('validation_split')}, seed {schedule.get('seed')}")
    else:
        parts.append("epochs not recorded")
    return "; ".join(parts)


def _describe_rate(rate) -> str:
    """" (learning rate 0.01)", " (learning rate schedule CosineDecay)", or "" when it is not recorded."""
    if isinstance(rate, (int, float)) and not isinstance(rate, bool):
        return f" (learning rate {rate:g})"
    if isinstance(rate, dict) and rate.get("class_name"):
        return f" (learning rate schedule {rate['class_name']})"
    return ""


def _describe_training_data(record) -> str:
    if not record:
        return "not recorded"
    files = ", ".join(record.get("files") or []) or "files not recorded"
    count = record.get("examples")
    return f"{files} ({count:,} examples)" if isinstance(count, int) else files


def _describe_shape(shape) -> str:
    if shape is None:
        return "?"
    if shape and isinstance(shape[0], list):
        return ", ".join(_describe_shape(part) for part in shape)
    return "(" + ", ".join("None" if n is None else str(n) for n in shape) + ")"


def _describe_value(value, limit: int = 12) -> str:
    """A state or hyper-parameter value on one line: lists joined, long lists cut, {"name": ...} dicts named."""
    if isinstance(value, dict):
        rest = ", ".join(f"{k}={_describe_value(v, limit)}" for k, v in value.items() if k != "name")
        if "name" in value:
            return f"{value['name']} ({rest})" if rest else str(value["name"])
        return rest or "{}"
    if isinstance(value, (list, tuple)):
        shown = ", ".join(_describe_value(v, limit) for v in value[:limit])
        return shown + (f", ... ({len(value)} in all)" if len(value) > limit else "")
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, str) and len(value) > 80:   # a reference genome kept in a model's state
        return f"{value[:40]}... ({len(value):,} characters)"
    return str(value)


# --- plugins and show-config -------------------------------------------------------------

def _plugins_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _plugins(args: argparse.Namespace) -> int:
    from ..plugins import plugin_reports

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
    from .. import show_config
    from ..plugins import plugin_reports

    show_config()
    loaded = [r.name for r in plugin_reports() if not r.error and not r.disabled]
    print(f"{'plugins':>9}: {', '.join(loaded)}")
    return 0


def _print_table(header, rows) -> None:
    for line in _table_lines(header, rows):
        print(line)


def _table_lines(header, rows) -> list:
    """Columns padded to their widest cell, two spaces apart."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    return ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip()
            for row in [header, *rows]]


def _train_task(args):
    return registry.tasks.get(args.task)


CORE_COMMANDS = {
    "train": Command("train a task's default model on data files", _train_arguments, _train, _train_task,
                     example="train {task} promoters.fasta -o promoters.lstm"),
    "predict": Command("predict with a trained model; writes a table", _predict_arguments, _predict,
                       _model_task, example="predict promoters.lstm new.fasta -o calls.tsv"),
    "evaluate": Command("print a trained model's metrics on labelled data", _evaluate_arguments, _evaluate,
                        _model_task, example="evaluate promoters.lstm test.fasta --json"),
    "demo": Command("generate a task's example data, then train, evaluate and predict on it",
                    _demo_arguments, _demo, _train_task, example="demo {task} --out {task}-demo"),
    "info": Command("describe a model file: task, classes, architecture, hyper-parameters, training data",
                    _info_arguments, _info, example="info promoters.lstm\ninfo promoters.lstm --json"),
    "plugins": Command("list plugins: name, version, hooks and what each registered", _plugins_arguments,
                       _plugins, example="plugins --json"),
    "show-config": Command("show the build, threads and plugins", lambda parser: None, _show_config,
                           example="show-config"),
}

"""A command line that explains itself: help that lists tasks, task options and examples; `lstmcore info MODEL`;
and task models that `lstmcore.load_model` rebuilds without the user importing their plugin."""
import json
import os
import re
import subprocess
import sys
import textwrap

import pytest
import safetensors.numpy

import lstmcore
from lstmcore import layers as L
from lstmcore import registry
from lstmcore.cli import main
from lstmcore.commands import Command
from lstmcore.tasks.sequence_classification import SequenceClassificationTask
from lstmcore.saving.task_models import save_task_model
from lstmcore.testing import registered_plugin

TASK_COMMANDS = ["train", "evaluate", "predict", "demo"]
LABELS_HELP_START = "  --labels SOURCE"


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    """Help wrapped at 200 columns, so that one task's summary is one line whatever the real terminal."""
    monkeypatch.setenv("COLUMNS", "200")


def run(argv, capsys):
    """Run the command in-process; return (exit status, stdout, stderr)."""
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def help_text(argv, capsys):
    code, out, err = run(argv, capsys)
    assert code == 0 and err == "", err
    return out


def assert_one_line_error(code, err, *fragments):
    lines = err.strip().split("\n")
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    for fragment in fragments:
        assert str(fragment) in lines[0], lines[0]


def task_rows():
    """The lines `installed tasks` should show: each task's name, padded, then its summary."""
    tasks = [(name, task.summary) for name, task, _ in registry.tasks.items()]
    width = max(len(name) for name, _ in tasks)
    return [f"  {name.ljust(width)}  {summary}" for name, summary in tasks]


def section(text, heading):
    """The lines of the help section that starts with `heading`, up to the next blank line."""
    lines = text.splitlines()
    start = lines.index(heading)
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start + 1:end]


def needs_motif():
    if "motif" not in registry.tasks:
        pytest.skip("the lstmcore-motif plugin is not installed")


@pytest.fixture(scope="module")
def demo_model(tmp_path_factory):
    """A sequence-classification model trained for 1 epoch on the task's demo data (600 records)."""
    folder = tmp_path_factory.mktemp("info")
    data = registry.tasks.get("sequence-classification").make_example_data(folder / "data", seed=0)
    config = folder / "small.json"
    config.write_text(json.dumps({"units": 4}))
    model = folder / "model.lstm"
    assert main(["train", "sequence-classification", str(data.train[0]), "-o", str(model), "--config", str(config),
                 "--epochs", "1", "--batch-size", "64", "--threads", "1", "-q"]) == 0
    return model, data


# --- help ---------------------------------------------------------------------------------

def test_main_help_lists_the_tasks_and_ends_with_examples(capsys):
    out = help_text(["--help"], capsys)
    assert section(out, "installed tasks (`lstmcore plugins` shows which plugin provides each):") == task_rows()
    assert ["info", "describe a model file: task, classes, architecture, hyper-parameters, training data"] in [
        table_cells(line) for line in out.splitlines()]
    examples = section(out, "examples:")
    assert examples[-1] == "  lstmcore info promoters.lstm"
    assert out.rstrip("\n").splitlines()[-1] == "  lstmcore info promoters.lstm"


@pytest.mark.parametrize("command", TASK_COMMANDS)
def test_help_of_a_task_command_lists_the_installed_tasks(capsys, command):
    out = help_text([command, "--help"], capsys)
    assert section(out, "installed tasks (`lstmcore plugins` shows which plugin provides each):") == task_rows()


@pytest.mark.parametrize("argv", [["--help"], *[[name, "--help"] for name in
                                                ("train", "evaluate", "predict", "demo", "info", "plugins",
                                                 "show-config")],
                                  ["train", "sequence-classification", "--help"], ["-h", "train"]])
def test_every_help_ends_with_an_example(capsys, argv):
    lines = help_text(argv, capsys).rstrip("\n").splitlines()
    assert lines[-1].startswith("  lstmcore "), lines[-1]
    assert lines[-2] in ("example:", "examples:") or lines[-2].startswith("  lstmcore "), lines[-2]


def test_example_lines_of_the_core_commands(capsys):
    assert help_text(["train", "sequence-classification", "--help"], capsys).rstrip().endswith(
        "example:\n  lstmcore train sequence-classification promoters.fasta -o promoters.lstm")
    assert help_text(["info", "--help"], capsys).rstrip().endswith(
        "examples:\n  lstmcore info promoters.lstm\n  lstmcore info promoters.lstm --json")
    assert help_text(["predict", "--help"], capsys).rstrip().endswith(
        "example:\n  lstmcore predict promoters.lstm new.fasta -o calls.tsv")


def test_train_task_help_shows_the_task_and_its_options(capsys):
    out = help_text(["train", "sequence-classification", "--help"], capsys)
    options = out.splitlines()
    assert any(line.startswith(LABELS_HELP_START) for line in options), out
    task = registry.tasks.get("sequence-classification")
    assert f"task sequence-classification: {task.summary}" in options
    assert "installed tasks" not in out and "options of task" not in out


def test_train_help_without_a_task_lists_each_tasks_options(capsys):
    out = help_text(["train", "--help"], capsys)
    labels = section(out, "options of task sequence-classification:")
    assert labels[0].startswith(LABELS_HELP_START) and "'header'" in " ".join(labels)


def test_evaluate_help_lists_every_tasks_options(capsys):
    out = help_text(["evaluate", "--help"], capsys)
    assert ("each task adds its own options to `lstmcore evaluate`; name the task (or a model file of it) "
            "before --help to see only its own") in out.splitlines()
    assert section(out, "options of task sequence-classification:")[0].startswith(LABELS_HELP_START)
    # the options themselves stay out of evaluate's own (several tasks may define the same option)
    own = section(out, "options:")
    assert not any(line.startswith(LABELS_HELP_START) for line in own)


def test_motif_options_appear_in_evaluate_help(capsys):
    needs_motif()
    out = help_text(["evaluate", "--help"], capsys)
    motif = section(out, "options of task motif:")
    assert motif[0].startswith(LABELS_HELP_START)
    cv = [line for line in motif if line.startswith("  --cv K|loo")]
    assert cv and "cross-validate instead" in cv[0]
    assert any(line.startswith("  --cv-seed CV_SEED") for line in motif)
    train = help_text(["train", "motif", "--help"], capsys)
    assert any(line.startswith(LABELS_HELP_START) for line in train.splitlines())
    assert "--cv" not in train  # an evaluate option only


def test_evaluate_help_with_a_model_shows_that_models_task_options(demo_model, capsys):
    model, _ = demo_model
    out = help_text(["evaluate", model, "--help"], capsys)
    assert any(line.startswith(LABELS_HELP_START) for line in section(out, "options:"))
    assert "options of task" not in out and "installed tasks" not in out
    assert out.splitlines()[-4].startswith("task sequence-classification: ")


@pytest.mark.parametrize("argv", [["evaluate", "no-such-model.lstm", "--help"], ["train", "no-such-task", "--help"],
                                  ["predict", "--help", "-o"]])
def test_help_is_the_general_one_when_the_task_cannot_be_found(capsys, argv):
    out = help_text(argv, capsys)
    assert section(out, "installed tasks (`lstmcore plugins` shows which plugin provides each):") == task_rows()


class PredictOptionTask(SequenceClassificationTask):
    """A test task with an option of its own for predict (neither core task has one)."""

    name = "window-test"
    summary = "a test task with a --window option"

    def add_arguments(self, parser, command):
        super().add_arguments(parser, command)
        if command == "predict":
            parser.add_argument("--window", type=int, default=3, help="steps per window (default 3)")


class PredictOptionPlugin:
    @lstmcore.hookimpl
    def register_tasks(self, register):
        register("window-test", PredictOptionTask())

    @lstmcore.hookimpl
    def register_commands(self, register):
        register("hello", Command("say hello", lambda parser: None, lambda args: 0, example="hello"))


def test_a_plugins_task_options_and_command_example_in_help(capsys):
    with registered_plugin(PredictOptionPlugin(), "window-plugin"):
        predict = help_text(["predict", "--help"], capsys)
        hello = help_text(["hello", "--help"], capsys)
        main_help = help_text(["--help"], capsys)
    assert section(predict, "options of task window-test:") == ["  --window WINDOW  steps per window (default 3)"]
    assert "options of task sequence-classification:" not in predict  # it adds nothing to predict
    assert "  window-test              a test task with a --window option" in section(
        predict, "installed tasks (`lstmcore plugins` shows which plugin provides each):")
    assert hello.rstrip().endswith("example:\n  lstmcore hello")
    assert "say hello [plugin window-plugin]" in main_help


def test_help_through_python_dash_m():
    result = subprocess.run([sys.executable, "-m", "lstmcore", "train", "--help"], capture_output=True, text=True,
                            env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 0 and result.stderr == ""
    assert "options of task sequence-classification:" in result.stdout
    assert result.stdout.rstrip().splitlines()[-1].startswith("  lstmcore train ")


# --- the model file records its training data ------------------------------------------------

def test_train_records_the_training_files_and_example_count(demo_model):
    model, data = demo_model
    extra = lstmcore.saving.read_metadata(model)["extra"]
    assert extra["training_data"] == {"files": ["train.fasta"], "examples": 600}
    assert extra["training"] == {"epochs": 1, "batch_size": 64, "validation_split": 0.0, "seed": 0}
    assert extra["provider"] == {"plugin": "lstmcore", "distribution": "lstmcore", "version": lstmcore.__version__}


# --- lstmcore info -------------------------------------------------------------------------

def table_cells(line):
    """The cells of one row of a table whose columns are two or more spaces apart."""
    return re.split(r" {2,}", line.strip())


def test_info_prints_task_state_architecture_hyperparameters_version_and_data(demo_model, capsys):
    model, _ = demo_model
    code, out, err = run(["info", model], capsys)
    assert code == 0, err
    version = lstmcore.__version__
    lines = out.splitlines()
    assert lines[:7] == [
        f"file: {model}",
        f"task: sequence-classification (provided by lstmcore {version})",
        f"written by: lstmcore {version} (model file format 1)",
        "state (what the encoder learnt from the training data):",
        "  classes: background, motif",
        "  encoder: dna (gaps=error)",
        "architecture: input (None, None, 4), 306 parameters",
    ]
    names = [spec["config"]["name"] for spec in lstmcore.saving.read_metadata(model)["model"]["config"]["layers"]]
    assert [table_cells(line) for line in lines[7:10]] == [
        ["#", "layer (type)", "output shape", "params", "settings"],
        ["0", f"{names[0]} (Bidirectional(LSTM))", "(None, 8)", "288",
         "units=4, activation=tanh, return_sequences=false, merge_mode=concat"],
        ["1", f"{names[1]} (Dense)", "(None, 2)", "18", "units=2, activation=softmax"],
    ]
    assert lines[10:] == [
        "hyper-parameters:",
        "  alphabet: auto",
        "  gaps: error",
        "  units: 4",
        "  dropout: 0.0",
        "  learning_rate: 0.01",
        "  optimizer: adam",
        "training: optimizer adam (learning rate 0.01); loss sparse_categorical_crossentropy; "
        "epochs 1, batch size 64, validation split 0.0, seed 0",
        "training data: train.fasta (600 examples)",
    ]


def test_info_json_holds_the_same(demo_model, capsys):
    model, _ = demo_model
    code, out, err = run(["info", model, "--json"], capsys)
    assert code == 0 and len(out.strip().splitlines()) == 1
    info = json.loads(out)
    assert info["task"] == "sequence-classification" and info["lstmcore_version"] == lstmcore.__version__
    assert info["state"] == {"classes": ["background", "motif"], "encoder": {"name": "dna", "gaps": "error"}}
    assert info["hyperparameters"]["units"] == 4
    assert info["training_data"] == {"files": ["train.fasta"], "examples": 600}
    layers = info["architecture"]["layers"]
    assert [(layer["type"], layer["output_shape"], layer["params"]) for layer in layers] == [
        ("Bidirectional(LSTM)", [None, 8], 288), ("Dense", [None, 2], 18)]
    assert info["architecture"]["params"] == 306 and info["architecture"]["input_shape"] == [None, None, 4]
    assert info["compile"]["loss"] == "sparse_categorical_crossentropy"


def test_info_on_a_motif_model(tmp_path, capsys):
    needs_motif()
    data = registry.tasks.get("motif").make_example_data(tmp_path / "data", seed=0)
    config = tmp_path / "small.json"
    config.write_text(json.dumps({"units": 4}))
    model = tmp_path / "motif.lstm"
    assert run(["train", "motif", data.train[0], "-o", model, "--config", config, "--epochs", "1", "--threads", "1",
                "-q"], capsys)[0] == 0
    code, out, err = run(["info", model], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[1].startswith("task: motif (provided by lstmcore-motif ")
    assert "  classes: background, motif" in lines and "  reverse_complement: true" in lines
    assert any("(MaskedGlobalPooling)" in line for line in lines)
    assert "  pooling: max" in lines
    assert lines[-2].startswith("training: optimizer adam (learning rate schedule CosineDecay); "
                                "loss sparse_categorical_crossentropy; epochs 1, batch size 8, ")
    examples = json.loads(run(["info", model, "--json"], capsys)[1])["training_data"]["examples"]
    assert lines[-1] == f"training data: {data.train[0].name} ({examples:,} examples)"


def test_info_on_a_file_written_before_training_data_was_recorded(demo_model, tmp_path, capsys):
    model, _ = demo_model
    older = tmp_path / "older.lstm"
    save_task_model(lstmcore.load_model(model), older, "sequence-classification",
                    {"classes": ["a", "b"], "encoder": {"name": "dna", "gaps": "error"}}, {"units": 4})
    code, out, err = run(["info", older], capsys)
    assert code == 0, err
    assert out.splitlines()[-1] == "training data: not recorded"
    assert out.splitlines()[-2].endswith("; epochs not recorded")


def test_info_on_a_model_saved_in_python(tmp_path, capsys):
    plain = tmp_path / "plain.lstm"
    model = lstmcore.Sequential([lstmcore.layers.LSTM(3, input_shape=(None, 2)), lstmcore.layers.Dense(1)])
    model.save(plain)
    code, out, err = run(["info", plain], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[1] == "task: none (saved with model.save in Python, not `lstmcore train`)"
    assert "architecture: input (None, None, 2), 76 parameters" in lines
    assert lines[-1] == "training data: not recorded"


@pytest.mark.parametrize("case", ["garbage", "truncated", "empty", "missing", "folder", "weights-only"])
def test_info_on_a_bad_file_is_one_line_and_exit_2(demo_model, tmp_path, capsys, case):
    model, _ = demo_model
    bad = tmp_path / f"{case}.lstm"
    expected = "not a valid lstmcore model file"
    if case == "garbage":
        bad.write_bytes(os.urandom(64))
    elif case == "truncated":
        bad.write_bytes(model.read_bytes()[:300])
    elif case == "empty":
        bad.write_bytes(b"")
    elif case == "missing":
        expected = "no such model file"
    elif case == "folder":
        bad.mkdir()
        expected = "is a folder"
    else:
        lstmcore.load_model(model).save_weights(bad)
        expected = "holds weights only"
    code, out, err = run(["info", bad], capsys)
    assert out == ""
    assert_one_line_error(code, err, f"error: {bad}: ", expected)


# --- load_model finds the plugin that wrote the file --------------------------------------

LAYER_PLUGIN = '''
"""A test plugin whose task's model uses a layer class of its own."""
import lstmcore
from lstmcore.layers import Dense, register_layer
from lstmcore.tasks.sequence_classification import SequenceClassificationTask


@register_layer
class PluginDense(Dense):
    """A Dense under another name: only this plugin makes it loadable."""


class PluginLayerTask(SequenceClassificationTask):
    name = "plugin-layer-task"

    def build_model(self, state, hyperparameters):
        from lstmcore import layers
        from lstmcore.encoders import encoder_from_config

        channels = encoder_from_config(state["encoder"]).channels
        model = lstmcore.Sequential([
            layers.Bidirectional(layers.LSTM(int(hyperparameters["units"])), input_shape=(None, channels)),
            PluginDense(len(state["classes"]), activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return model


@lstmcore.hookimpl
def register_tasks(register):
    register(PluginLayerTask.name, PluginLayerTask())
'''


def install_layer_plugin(site):
    """A plugin distribution as pip would leave it: the module and a dist-info with its entry point."""
    info = site / "lstmcore_layer_plugin-0.3.dist-info"
    info.mkdir(parents=True)
    (site / "lstmcore_layer_plugin.py").write_text(LAYER_PLUGIN)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: lstmcore-layer-plugin\nVersion: 0.3\n")
    (info / "entry_points.txt").write_text("[lstmcore]\nplugin-layer-task = lstmcore_layer_plugin\n")


def python(code, *args, site=None):
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["OMP_NUM_THREADS"] = "1"
    if site is not None:
        env["PYTHONPATH"] = str(site)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def plugin_layer_model(tmp_path_factory, demo_model):
    """A model of a plugin's task whose output layer is the plugin's own class, trained in a subprocess."""
    folder = tmp_path_factory.mktemp("plugin-layer")
    install_layer_plugin(folder / "site")
    model = folder / "plugin.lstm"
    result = python("""
        import sys
        from lstmcore.cli import main
        sys.exit(main(["train", "plugin-layer-task", sys.argv[1], "-o", sys.argv[2], "--epochs", "1", "-q",
                       "--config", sys.argv[3]]))
        """, demo_model[1].train[0], model, demo_model[0].parent / "small.json", site=folder / "site")
    assert result.returncode == 0, result.stderr
    return model, folder / "site"


def test_load_model_of_a_task_model_in_a_fresh_process(demo_model):
    model, _ = demo_model
    result = python("""
        import sys
        import lstmcore
        model = lstmcore.load_model(sys.argv[1])
        print(model.extra_metadata["task"], [type(layer).__name__ for layer in model.layers])
        """, model)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "sequence-classification ['Bidirectional', 'Dense']"


def test_load_model_loads_the_plugin_that_defines_a_layer(plugin_layer_model):
    model, site = plugin_layer_model
    result = python("""
        import sys
        import lstmcore
        before = "lstmcore_layer_plugin" in sys.modules
        model = lstmcore.load_model(sys.argv[1])
        print(before, type(model.layers[-1]).__name__, "lstmcore_layer_plugin" in sys.modules)
        """, model, site=site)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False PluginDense True"


def test_without_the_plugin_the_error_names_the_task_and_what_to_install(plugin_layer_model):
    model, _ = plugin_layer_model
    result = python("""
        import sys
        import lstmcore
        try:
            lstmcore.load_model(sys.argv[1])
        except lstmcore.saving.ModelFileError as error:
            print(error.reason)
        """, model)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "it uses the layer class 'PluginDense', which no loaded plugin registers; the file was written by task "
        "'plugin-layer-task': install its plugin: pip install lstmcore-layer-plugin")


def test_without_the_plugin_the_cli_says_what_to_install(plugin_layer_model, demo_model, tmp_path, capsys):
    model, _ = plugin_layer_model
    code, out, err = run(["predict", model, demo_model[1].predict[0], "-o", tmp_path / "p.tsv"], capsys)
    assert_one_line_error(code, err, f"{model}: is a model of task 'plugin-layer-task', which no installed plugin "
                                     "provides", "; install its plugin: pip install lstmcore-layer-plugin")
    code, out, err = run(["info", model], capsys)  # info needs no plugin: the header says it all
    assert code == 0, err
    assert "task: plugin-layer-task (provided by lstmcore-layer-plugin 0.3)" in out.splitlines()
    assert any("(PluginDense)" in line for line in out.splitlines())


# --- a layer class that is not registered: load the plugins, then say what to install -----

def _with_changed_header(source, target, change):
    """Copy the model file `source` to `target`, its lstmcore header passed through `change(header)`."""
    header = lstmcore.saving.read_metadata(source)
    change(header)
    safetensors.numpy.save_file(safetensors.numpy.load_file(str(source)), str(target),
                                metadata={"lstmcore": json.dumps(header)})
    return target


def _model_with_layer_class(tmp_path, class_name, extra=None):
    """A small saved model whose Dense layer is recorded under `class_name`, with `extra` as its task record."""
    model = lstmcore.Sequential([L.LSTM(3, input_shape=(None, 2)), L.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.save(tmp_path / "source.lstm")

    def rename(header):
        header["model"]["config"]["layers"][1]["class_name"] = class_name
        header["extra"] = extra

    return _with_changed_header(tmp_path / "source.lstm", tmp_path / "renamed.lstm", rename)


def test_unknown_layer_class_without_a_task_says_how_to_make_it_known(tmp_path):
    path = _model_with_layer_class(tmp_path, "NoSuchLayer")
    with pytest.raises(lstmcore.saving.ModelFileError) as caught:
        lstmcore.load_model(path)
    assert caught.value.reason == ("it uses the layer class 'NoSuchLayer', which no loaded plugin registers; "
                                   "import the module that defines it (lstmcore.layers.register_layer) or pass "
                                   "custom_objects")
    assert type(lstmcore.load_model(path, custom_objects={"NoSuchLayer": L.Dense}).layers[1]).__name__ == "Dense"


def test_unknown_layer_class_of_a_task_model_names_the_task_and_its_distribution(tmp_path):
    record = {"task_format": 1, "task": "ghost", "state": {}, "hyperparameters": {},
              "provider": {"plugin": "ghost", "distribution": "lstmcore-ghost", "version": "1.0"}}
    path = _model_with_layer_class(tmp_path, "GhostLayer", record)
    with pytest.raises(lstmcore.saving.ModelFileError) as caught:
        lstmcore.load_model(path)
    assert caught.value.reason == ("it uses the layer class 'GhostLayer', which no loaded plugin registers; the file "
                                   "was written by task 'ghost': install its plugin: pip install lstmcore-ghost")
    record.pop("provider")  # an older file: no distribution recorded, no entry point named 'ghost'
    path = _model_with_layer_class(tmp_path, "GhostLayer", record)
    with pytest.raises(lstmcore.saving.ModelFileError,
                       match="written by task 'ghost'; install the plugin that provides that task$"):
        lstmcore.load_model(path)


def test_unknown_layer_class_loads_the_plugins_and_tries_again(tmp_path, monkeypatch):
    from lstmcore import plugins

    class LateDense(L.Dense):
        """Registered only when the plugins load, like a plugin's own layer."""

    loads = []

    def load_plugins():
        loads.append(True)
        monkeypatch.setitem(L._LAYER_CLASSES, "LateDense", LateDense)

    monkeypatch.setattr(plugins, "load_plugins", load_plugins)
    model = lstmcore.load_model(_model_with_layer_class(tmp_path, "LateDense"))
    assert loads == [True] and type(model.layers[1]) is LateDense
    lstmcore.load_model(tmp_path / "source.lstm")  # every class known: the plugins are not asked again
    assert loads == [True]


def test_info_shortens_a_long_text_in_the_state():
    from lstmcore.cli.builtin_commands import _describe_value

    assert _describe_value("ACGT" * 1000) == "ACGTACGTACGTACGTACGTACGTACGTACGTACGTACGT... (4,000 characters)"
    assert _describe_value("short") == "short"

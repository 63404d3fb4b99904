"""The lstmcore command end to end on generated data, and one-line errors for a user's mistakes."""
import json
import os
import subprocess
from pathlib import Path
import sys

import numpy as np
import pytest

import lstmcore
from lstmcore import registry
from lstmcore.cli import main
from lstmcore.tasks.sequence_classification import SequenceClassificationTask, write_fasta
from lstmcore.tasks import Task
from lstmcore.testing import registered_plugin


def run(argv, capsys):
    """Run the command in-process; return (exit status, stdout, stderr)."""
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code, err, *fragments):
    lines = [line.split("\r")[-1] for line in err.strip().split("\n")]  # as a terminal shows it
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert str(fragment) in lines[0], lines[0]


def labelled_records(count=24, seed=1):
    rng = np.random.default_rng(seed)
    return [(f"s{i}", "".join(rng.choice(list("ACGT"), size=int(rng.integers(8, 13)))), "ab"[i % 2])
            for i in range(count)]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A small labelled FASTA file and a model trained on it through the CLI (1 epoch)."""
    folder = tmp_path_factory.mktemp("cli")
    data = folder / "train.fasta"
    write_fasta(data, labelled_records())
    model = folder / "model.lstm"
    assert main(["train", "sequence-classification", str(data), "-o", str(model), "--epochs", "1",
                 "--batch-size", "8", "-q"]) == 0
    return folder, data, model


# --- end to end ---------------------------------------------------------------------------

def test_train_writes_a_model_that_knows_its_task(trained):
    folder, data, model = trained
    info = lstmcore.saving.read_metadata(model)
    assert info["extra"]["task"] == "sequence-classification"
    assert info["extra"]["state"]["classes"] == ["a", "b"]
    assert info["extra"]["state"]["encoder"] == {"name": "dna", "gaps": "error"}
    assert info["extra"]["training_data"] == {"files": ["train.fasta"], "examples": 24}
    assert info["extra"]["training"] == {"epochs": 1, "batch_size": 8, "validation_split": 0.0, "seed": 0}


def test_evaluate_json_prints_one_object(trained, capsys):
    folder, data, model = trained
    code, out, err = run(["evaluate", model, data, "--json"], capsys)
    assert code == 0
    metrics = json.loads(out)
    assert set(metrics) >= {"accuracy", "balanced_accuracy", "auroc", "log_loss"} and metrics["n"] == 24.0


def test_evaluate_prints_a_table(trained, capsys):
    folder, data, model = trained
    code, out, err = run(["evaluate", model, data], capsys)
    assert code == 0 and out.splitlines()[0].split() == ["metric", "value"]


def test_predict_writes_one_row_per_record(trained, tmp_path, capsys):
    folder, data, model = trained
    unlabelled = tmp_path / "new.fa.gz"
    import gzip
    with gzip.open(unlabelled, "wt") as handle:
        handle.write(">x1\nACGTACGTAA\n>x2\nttgacaNNRY\n")
    out_path = tmp_path / "calls.csv"
    code, out, err = run(["predict", model, unlabelled, "-o", out_path], capsys)
    assert code == 0, err
    lines = out_path.read_text().splitlines()
    assert lines[0] == "id,predicted,p_a,p_b"
    assert [line.split(",")[0] for line in lines[1:]] == ["x1", "x2"]
    assert all(abs(float(r.split(",")[2]) + float(r.split(",")[3]) - 1) < 1e-4 for r in lines[1:])


def test_train_accepts_labels_table_and_config(trained, tmp_path, capsys):
    folder, data, model = trained
    records = labelled_records()
    unlabelled = tmp_path / "plain.fasta"
    write_fasta(unlabelled, [(rid, seq, None) for rid, seq, _ in records])
    labels = tmp_path / "labels.tsv"
    labels.write_text("id\tlabel\n" + "".join(f"{rid}\t{lab}\n" for rid, _, lab in records))
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"units": 4, "alphabet": "dna"}))
    code, out, err = run(["train", "sequence-classification", unlabelled, "--labels", labels, "--config", config,
                          "-o", tmp_path / "m.lstm", "--epochs", "1", "-q"], capsys)
    assert code == 0, err
    assert lstmcore.saving.read_metadata(tmp_path / "m.lstm")["extra"]["hyperparameters"]["units"] == 4


def test_demo_generates_data_trains_evaluates_and_predicts(tmp_path, capsys):
    code, out, err = run(["demo", "sequence-classification", "--out", tmp_path / "demo", "-q"], capsys)
    assert code == 0, err
    for name in ("model.lstm", "metrics.json", "predictions.tsv", "data/train.fasta"):
        assert (tmp_path / "demo" / name).exists()
        assert str(tmp_path / "demo" / name) in out
    assert json.loads((tmp_path / "demo" / "metrics.json").read_text())["accuracy"] > 0.9


def test_module_entry_point_version_and_help():
    result = subprocess.run([sys.executable, "-m", "lstmcore", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == f"lstmcore {lstmcore.__version__}"


def test_show_config_and_plugins(capsys):
    code, out, err = run(["show-config"], capsys)
    assert code == 0 and "plugins" in out
    code, out, err = run(["plugins"], capsys)
    assert code == 0 and "tasks: sequence-classification" in out
    assert "  commands: train, predict, evaluate, demo, info, plugins, show-config" in out.splitlines()


# --- a user's mistakes: exit 2, one line naming file and record --------------------------

@pytest.mark.parametrize("content, fragments", [
    (b"", ["is empty"]),
    (b"just some text\n>s1 label=a\nACGT\n", ["is not FASTA", "line 1"]),
    (b">s1 label=a\nAC\x00\x01GT\n", ["s1", "binary"]),
    (b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x00", ["binary"]),
    (b">s1 label=a\nACGTACGTACGT\n>s2 label=b\nACJTACGTACGT\n", ["record s2", "unknown letter 'J' at position 3"]),
    (b">s1 label=a\nACGT\n>s1 label=b\nACGT\n", ["record s1", "duplicate record id"]),
    (b">s1 label=a\nACGT\n>s2\nACGT\n", ["record s2", "no 'label=CLASS'"]),
    (b">s1 label=a\nACGT\n>s2 label=a\nACGT\n", ["two or more classes"]),
    (b">s1 label=a\n\n>s2 label=b\nACGT\n", ["record s1", "has no sequence"]),
], ids=["empty-file", "not-fasta", "binary-in-record", "binary-file", "unknown-letter", "duplicate-ids",
        "missing-header-label", "one-class", "empty-sequence"])
def test_bad_fasta_for_train(tmp_path, capsys, content, fragments):
    path = tmp_path / "input.fasta"
    path.write_bytes(content)
    code, out, err = run(["train", "sequence-classification", path, "-o", tmp_path / "m.lstm", "-q"], capsys)
    assert_one_line_error(code, err, path, *fragments)
    assert not (tmp_path / "m.lstm").exists()


def test_labels_without_records_and_records_without_labels(tmp_path, capsys):
    fasta = tmp_path / "x.fasta"
    write_fasta(fasta, [("s1", "ACGT", None), ("s2", "ACGA", None)])
    extra = tmp_path / "extra.tsv"
    extra.write_text("id\tlabel\ns1\ta\ns2\tb\nzz9\ta\n")
    code, out, err = run(["train", "sequence-classification", fasta, "--labels", extra, "-o", tmp_path / "m"], capsys)
    assert_one_line_error(code, err, extra, "record zz9", "no record")
    missing = tmp_path / "missing.tsv"
    missing.write_text("id\tlabel\ns1\ta\n")
    code, out, err = run(["train", "sequence-classification", fasta, "--labels", missing, "-o", tmp_path / "m"],
                         capsys)
    assert_one_line_error(code, err, fasta, "record s2", "has no label")


def test_label_table_with_missing_column(tmp_path, capsys):
    fasta = tmp_path / "x.fasta"
    write_fasta(fasta, [("s1", "ACGT", None), ("s2", "ACGA", None)])
    table = tmp_path / "labels.tsv"
    table.write_text("id\tclass\ns1\ta\ns2\tb\n")
    code, out, err = run(["train", "sequence-classification", fasta, "--labels", table, "-o", tmp_path / "m"],
                         capsys)
    assert_one_line_error(code, err, table, "missing column 'label'")


class TableTask(Task):
    """A test-only task that reads a numeric CSV, to put the table reader behind the CLI."""

    name = "table-test"

    def read(self, paths, options, *, labelled):
        from lstmcore.io.tables import read_table
        table = read_table(paths[0])
        return table.numeric("x"), table.numeric("y")


class TablePlugin:
    @lstmcore.hookimpl
    def register_tasks(self, register):
        register("table-test", TableTask())


@pytest.mark.parametrize("content, fragments", [
    ("t,x,y\n1,0.5,1\n2,nan,2\n", ["record 2", "column 'x'", "nan"]),
    ("t,x,y\n1,0.5,1\n2,0.7,\n", ["record 2", "column 'y'"]),
    ("t,x\n1,0.5\n", ["missing column 'y'"]),
    ("t,x,y\n1,0.5,1\n2,abc,1\n", ["record 2", "'abc', not a number"]),
    ("t,x,y\n1,0.5\n", ["record 1", "has 2 fields"]),
], ids=["nan", "empty-cell", "missing-column", "text-in-number-column", "ragged-row"])
def test_bad_table_through_the_cli(tmp_path, capsys, content, fragments):
    path = tmp_path / "counts.csv"
    path.write_text(content)
    with registered_plugin(TablePlugin(), "table-test-plugin"):
        code, out, err = run(["train", "table-test", path, "-o", tmp_path / "m.lstm"], capsys)
    assert_one_line_error(code, err, path, *fragments)


def test_corrupt_model_file(trained, tmp_path, capsys):
    folder, data, model = trained
    for name, content in (("garbage.lstm", os.urandom(64)), ("truncated.lstm", model.read_bytes()[:200]),
                          ("empty.lstm", b"")):
        bad = tmp_path / name
        bad.write_bytes(content)
        code, out, err = run(["predict", bad, data, "-o", tmp_path / "out.tsv"], capsys)
        assert_one_line_error(code, err, bad, "not a valid lstmcore model file")
    assert not (tmp_path / "out.tsv").exists()


def test_model_of_another_task(trained, tmp_path, capsys):
    folder, data, model = trained

    class OtherTask(SequenceClassificationTask):
        name = "other-task"

    class OtherPlugin:
        @lstmcore.hookimpl
        def register_tasks(self, register):
            register("other-task", OtherTask())

    with registered_plugin(OtherPlugin(), "other-plugin"):
        code, out, err = run(["predict", model, data, "--task", "other-task", "-o", tmp_path / "o.tsv"], capsys)
        assert_one_line_error(code, err, model, "model of task 'sequence-classification', not of task 'other-task'")
        assert "no installed task is called" not in err
        code, out, err = run(["predict", model, data, "--task", "bogus", "-o", tmp_path / "o.tsv"], capsys)
        assert_one_line_error(code, err, model, "not of task 'bogus' (and no installed task is called 'bogus': ")
        other_model = tmp_path / "other.lstm"
        assert run(["train", "other-task", data, "-o", other_model, "--epochs", "1", "-q"], capsys)[0] == 0
    code, out, err = run(["evaluate", other_model, data], capsys)
    assert_one_line_error(code, err, other_model, "task 'other-task', which no installed plugin provides")


def test_model_saved_without_a_task(trained, tmp_path, capsys):
    folder, data, model = trained
    plain = tmp_path / "plain.lstm"
    python_model = lstmcore.Sequential([lstmcore.layers.LSTM(2, input_shape=(None, 4))])
    python_model.compile(optimizer="adam", loss="mse")
    python_model.save(plain)
    code, out, err = run(["predict", plain, data, "-o", tmp_path / "o.tsv"], capsys)
    assert_one_line_error(code, err, plain, "saved without a task")


def test_protein_letters_in_a_dna_model(trained, tmp_path, capsys):
    folder, data, model = trained
    protein = tmp_path / "protein.fasta"
    protein.write_text(">p1\nACGT\n>p2\nMKVLEF\n")
    code, out, err = run(["predict", model, protein, "-o", tmp_path / "o.tsv"], capsys)
    assert_one_line_error(code, err, protein, "record p2", "unknown letter 'L' at position 4 for DNA")


@pytest.mark.parametrize("output", ["no-such-folder/out.tsv", "."], ids=["missing-folder", "a-folder"])
def test_unwritable_output_path(trained, tmp_path, capsys, output):
    folder, data, model = trained
    target = tmp_path / output
    code, out, err = run(["predict", model, data, "-o", target], capsys)
    assert_one_line_error(code, err, target, "cannot write the output")
    code, out, err = run(["train", "sequence-classification", data, "-o", target, "--epochs", "1", "-q"], capsys)
    assert_one_line_error(code, err, target, "cannot write the output")


def test_failed_prediction_leaves_no_half_written_file(trained, tmp_path, capsys, monkeypatch):
    folder, data, model = trained
    monkeypatch.setattr(registry.tasks.get("sequence-classification"), "chunk_size", 2)
    bad_late = tmp_path / "late.fasta"
    bad_late.write_text("".join(f">r{i}\nACGTAC\n" for i in range(6)) + ">r6\nACGU\n")
    out_path = tmp_path / "calls.tsv"
    out_path.write_text("old results\n")
    code, out, err = run(["predict", model, bad_late, "-o", out_path, "-q"], capsys)
    assert_one_line_error(code, err, bad_late, "record r6", "'U'")
    assert out_path.read_text() == "old results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calls.tsv", "late.fasta"]


def test_unknown_task_and_bad_config(trained, tmp_path, capsys):
    folder, data, model = trained
    code, out, err = run(["train", "no-such-task", data, "-o", tmp_path / "m"], capsys)
    assert_one_line_error(code, err, "no-such-task", "sequence-classification")
    config = tmp_path / "c.json"
    config.write_text('{"unitz": 3}')
    code, out, err = run(["train", "sequence-classification", data, "--config", config, "-o", tmp_path / "m"],
                         capsys)
    assert_one_line_error(code, err, config, "record unitz", "unknown hyper-parameter")
    config.write_text('{"units": 0}')
    code, out, err = run(["train", "sequence-classification", data, "--config", config, "-o", tmp_path / "m"],
                         capsys)
    assert_one_line_error(code, err, config, "do not make a valid model", "units")
    config.write_text("{not json")
    code, out, err = run(["train", "sequence-classification", data, "--config", config, "-o", tmp_path / "m"],
                         capsys)
    assert_one_line_error(code, err, config, "not valid JSON")


def test_debug_environment_shows_the_traceback(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LSTMCORE_DEBUG", "1")
    empty = tmp_path / "e.fa"
    empty.write_text("")
    code, out, err = run(["train", "sequence-classification", empty, "-o", tmp_path / "m"], capsys)
    assert code == 2 and "Traceback" in err and err.strip().splitlines()[-1].startswith("error: ")


def test_one_file_per_class(tmp_path, capsys):
    rng = np.random.default_rng(3)
    for name in ("enhancer", "background"):
        write_fasta(tmp_path / f"{name}.fa", [(f"{name}{i}", "".join(rng.choice(list("ACGT"), size=10)), None)
                                              for i in range(6)])
    code, out, err = run(["train", "sequence-classification", tmp_path / "enhancer.fa", tmp_path / "background.fa",
                          "--labels", "file", "-o", tmp_path / "m.lstm", "--epochs", "1", "-q"], capsys)
    assert code == 0, err
    state = lstmcore.saving.read_metadata(tmp_path / "m.lstm")["extra"]["state"]
    assert state["classes"] == ["background", "enhancer"]


def test_prediction_in_chunks_equals_prediction_at_once(trained, tmp_path, capsys, monkeypatch):
    folder, data, model = trained
    assert run(["predict", model, data, "-o", tmp_path / "whole.tsv", "-q"], capsys)[0] == 0
    monkeypatch.setattr(registry.tasks.get("sequence-classification"), "chunk_size", 5)
    assert run(["predict", model, data, "-o", tmp_path / "chunks.tsv", "-q"], capsys)[0] == 0
    whole = [line.split("\t") for line in (tmp_path / "whole.tsv").read_text().splitlines()]
    chunks = [line.split("\t") for line in (tmp_path / "chunks.tsv").read_text().splitlines()]
    assert [row[:2] for row in whole] == [row[:2] for row in chunks] and len(whole) == 25
    assert np.allclose(np.array([r[2:] for r in whole[1:]], float), np.array([r[2:] for r in chunks[1:]], float),
                       atol=1e-5)


def test_broken_and_duplicate_plugins_through_the_cli(tmp_path, capsys, monkeypatch):
    import importlib.metadata
    from lstmcore import plugins
    from lstmcore.testing import fresh_plugin_manager

    (tmp_path / "broken_cli_plugin.py").write_text("raise ImportError('needs libfoo')\n")
    (tmp_path / "dup_cli_plugin.py").write_text(
        "import lstmcore\n\n@lstmcore.hookimpl\ndef register_losses(register):\n    register('mse', object())\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    points = [importlib.metadata.EntryPoint("broken", "broken_cli_plugin", "lstmcore")]
    monkeypatch.setattr(plugins, "_entry_points", lambda: points)
    with fresh_plugin_manager(autoload=False):
        plugins.reset(autoload=True)  # loaded inside main(), as on the command line
        code, out, err = run(["plugins"], capsys)
    assert code == 0 and "FAILED: cannot be imported: ImportError: needs libfoo" in out
    assert err.strip() == "warning: plugin 'broken' was not loaded: cannot be imported: ImportError: needs libfoo"
    points[:] = [importlib.metadata.EntryPoint("dup", "dup_cli_plugin", "lstmcore")]
    with fresh_plugin_manager(autoload=False):
        plugins.reset(autoload=True)
        code, out, err = run(["plugins"], capsys)
    assert_one_line_error(code, err, "loss 'mse' is registered twice: by plugin 'lstmcore' and by plugin 'dup'")


def test_console_script_is_installed():
    import shutil

    script = shutil.which("lstmcore")
    if script is None:
        pytest.skip("lstmcore is not pip-installed here")
    result = subprocess.run([script, "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("lstmcore ")


PROMOTERS = Path(__file__).resolve().parents[2] / "shared" / "data" / "motif" / "ecoli_promoters"


@pytest.mark.skipif(not PROMOTERS.is_dir(), reason="../shared/data is not here")
@pytest.mark.parametrize("labels", ["header", str(PROMOTERS / "labels.tsv")], ids=["header-labels", "tsv-labels"])
def test_real_promoters_train_and_evaluate(tmp_path, capsys, labels):
    model = tmp_path / "promoters.lstm"
    code, out, err = run(["train", "sequence-classification", PROMOTERS / "promoters.fasta", "--labels", labels,
                          "-o", model, "--epochs", "1", "--threads", "1", "-q"], capsys)
    assert code == 0, err
    assert lstmcore.saving.read_metadata(model)["extra"]["state"]["classes"] == ["non_promoter", "promoter"]
    code, out, err = run(["evaluate", model, PROMOTERS / "promoters.fasta", "--labels", labels, "--json"], capsys)
    assert code == 0 and json.loads(out)["n"] == 106.0


def test_predict_and_evaluate_in_bfloat16_move_probabilities_slightly(trained, tmp_path, capsys):
    folder, data, model = trained
    tables = {}
    for precision in ("float32", "bfloat16"):
        out_path = tmp_path / f"{precision}.tsv"
        code, out, err = run(["predict", model, data, "-o", out_path, "--precision", precision, "-q"], capsys)
        assert code == 0, err
        tables[precision] = np.loadtxt(out_path, delimiter="\t", skiprows=1, usecols=(2, 3))
    difference = np.abs(tables["float32"] - tables["bfloat16"]).max()
    assert 0 < difference < 1e-2
    code, out, err = run(["evaluate", model, data, "--json", "--precision", "bfloat16"], capsys)
    assert code == 0 and json.loads(out)["n"] == 24.0


def test_an_unknown_precision_is_a_usage_error(trained, tmp_path, capsys):
    folder, data, model = trained
    code, out, err = run(["predict", model, data, "-o", tmp_path / "p.tsv", "--precision", "half"], capsys)
    assert code == 2 and "invalid choice: 'half'" in err and not (tmp_path / "p.tsv").exists()

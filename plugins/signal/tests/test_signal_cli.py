"""The signal task through `lstmcore`: train / evaluate / predict / demo, and bad input as one line naming
the file and row, with exit status 2."""
import json

import numpy as np
import pytest

from lstmcore.cli import main

FAST = json.dumps({"filters": [8, 16, 8], "epochs": 30, "batch_size": 8, "learning_rate": 0.01})


def run(argv, capsys):
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def ucr_rows(rng, n, length=24):
    """Two classes a UCR file could hold: a bump early (1) or late (2) in the trace."""
    rows = []
    for i in range(n):
        label = 1 + i % 2
        t = np.arange(length)
        centre = length * (0.3 if label == 1 else 0.7)
        values = np.exp(-0.5 * ((t - centre) / 2.0) ** 2) + rng.normal(0, 0.05, length)
        rows.append("\t".join([str(label)] + [f"{v:.5f}" for v in values]))
    return "\n".join(rows) + "\n"


def test_train_evaluate_predict_on_ucr_files(tmp_path, capsys, write):
    rng = np.random.default_rng(0)
    train, test = write("T_TRAIN.tsv", ucr_rows(rng, 24)), write("T_TEST.tsv", ucr_rows(rng, 16))
    config, model = write("c.json", FAST), tmp_path / "m.lstm"
    status, out, err = run(["-q", "train", "signal", str(train), "-o", str(model), "--config", str(config),
                            "--threads", "1"], capsys)
    assert status == 0, err
    cm = tmp_path / "cm.tsv"
    status, out, err = run(["evaluate", str(model), str(test), "--json", "--confusion-matrix", str(cm),
                            "--plot"], capsys)
    metrics = json.loads(out)
    assert status == 0 and metrics["accuracy"] >= 0.9 and metrics["n"] == 16
    for key in ("balanced_accuracy", "macro_f1", "auroc", "precision[1]", "recall[2]", "confusion[1->2]"):
        assert key in metrics
    table = cm.read_text().splitlines()
    assert table[0].split("\t") == ["true\\predicted", "1", "2"] and len(table) == 3
    assert sum(int(v) for line in table[1:] for v in line.split("\t")[1:]) == 16
    assert (tmp_path / "cm.png").read_bytes()[:4] == b"\x89PNG"
    predictions = tmp_path / "p.tsv"
    assert run(["-q", "predict", str(model), str(test), "-o", str(predictions)], capsys)[0] == 0
    rows = predictions.read_text().splitlines()
    assert rows[0].split("\t") == ["id", "predicted", "p_1", "p_2"] and len(rows) == 17
    first = rows[1].split("\t")
    assert first[0] == "row1" and first[1] in ("1", "2") and abs(float(first[2]) + float(first[3]) - 1) < 1e-4


def test_predict_a_table_without_label_column(tmp_path, capsys, write):
    rng = np.random.default_rng(1)
    train = write("T.tsv", ucr_rows(rng, 12))
    model = tmp_path / "m.lstm"
    assert run(["-q", "train", "signal", str(train), "-o", str(model), "--config", str(write("c.json", FAST)),
                "--epochs", "2"], capsys)[0] == 0
    unlabelled = write("new.tsv", "\n".join("\t".join(row.split("\t")[1:]) for row in
                                             ucr_rows(rng, 3).splitlines()) + "\n")
    predictions = tmp_path / "p.tsv"
    status, _, err = run(["-q", "predict", str(model), str(unlabelled), "--label-column", "none", "-o",
                          str(predictions)], capsys)
    assert status == 0, err
    assert len(predictions.read_text().splitlines()) == 4


def test_demo_runs_end_to_end(tmp_path, capsys):
    status, out, _ = run(["-q", "demo", "signal", "--out", str(tmp_path), "--threads", "1"], capsys)
    assert status == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["accuracy"] >= 0.9
    header = (tmp_path / "predictions.tsv").read_text().splitlines()[0].split("\t")
    assert header == ["id", "predicted", "p_burst", "p_fast", "p_plateau"]


TS_HEADER = "@problemName x\n@univariate true\n@classLabel true a b\n@data\n"


@pytest.mark.parametrize("case,name,text,record,problem", [
    ("text-label", "bad.tsv", "1\t0.1\t0.2\nlabel\t0.3\t0.4\n", "row 2", "is not a number"),
    ("header-row", "bad.tsv", "label\tt1\tt2\n1\t0.3\t0.4\n", "row 1", "a UCR file has no header row"),
    ("text-sample", "bad.csv", "1,0.1,0.2\n2,0.3,abc\n", "row 2", "column 3: 'abc' is not a number"),
    ("ragged-rows", "bad.tsv", "1\t0.1\t0.2\t0.3\n2\t0.3\t0.4\n", "row 2", "has 3 columns but the first row has 4"),
    ("single-class", "bad.tsv", "1\t0.1\t0.2\n1\t0.3\t0.4\n", None, "holds only one class ('1')"),
    ("nan-missing-error", "bad.tsv", "1\t0.1\t0.2\t0.3\n2\t0.3\tNaN\t0.5\n", "row 2", "missing value (NaN) at step 2"),
    ("ts-undeclared-class", "bad.ts", TS_HEADER + "1,2,3:a\n1,2,3:c\n", "line 6", "class 'c' is not among"),
    ("ts-channels", "bad.ts", TS_HEADER + "1,2,3:a\n1,2,3:4,5,6:b\n", "line 6", "header declares 1"),
    ("ts-no-labels", "bad.ts", "@classLabel false\n@data\n1,2,3\n", None, "has no class labels"),
    ("binary", "bad.tsv", "1\t2\n\x00\x01\x02\n", "line 2", "is a binary file"),
], ids=["text-label", "header-row", "text-sample", "ragged-rows", "single-class", "nan-missing-error",
        "ts-undeclared-class", "ts-channels", "ts-no-labels", "binary"])
def test_bad_input_exits_2_with_one_line_naming_file_and_row(tmp_path, capsys, write, case, name, text, record,
                                                            problem):
    data = write(name, text)
    argv = ["train", "signal", str(data), "-o", str(tmp_path / "m.lstm")]
    if case == "nan-missing-error":
        argv += ["--missing", "error"]
    status, _, err = run(argv, capsys)
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {data}: ")
    assert problem in lines[0]
    if record:
        assert f"record {record}: " in lines[0]
    assert not (tmp_path / "m.lstm").exists()


def test_missing_values_train_with_interpolate(tmp_path, capsys, write):
    rng = np.random.default_rng(2)
    rows = ucr_rows(rng, 10).splitlines()
    cells = rows[3].split("\t")
    cells[5] = "NaN"
    rows[3] = "\t".join(cells)
    data = write("gaps.tsv", "\n".join(rows) + "\n")
    status, _, err = run(["-q", "train", "signal", str(data), "-o", str(tmp_path / "m.lstm"), "--missing",
                          "interpolate", "--config", str(write("c.json", FAST)), "--epochs", "1"], capsys)
    assert status == 0, err


def test_plot_without_a_table_is_refused(tmp_path, capsys, write):
    rng = np.random.default_rng(3)
    data = write("T.tsv", ucr_rows(rng, 6))
    model = tmp_path / "m.lstm"
    assert run(["-q", "train", "signal", str(data), "-o", str(model), "--config", str(write("c.json", FAST)),
                "--epochs", "1"], capsys)[0] == 0
    status, _, err = run(["evaluate", str(model), str(data), "--plot"], capsys)
    assert status == 2 and "give --confusion-matrix" in err and len(err.strip().splitlines()) == 1


def test_every_format_trains_and_predicts_through_the_cli(tmp_path, capsys, write):
    """NPZ with three channels (MLSTM-FCN), a multivariate .ts file, and a labels table of CSV traces."""

    rng = np.random.default_rng(4)
    x = rng.normal(size=(8, 20, 3))
    np.savez(tmp_path / "three.npz", X=x, y=np.array([0, 1] * 4))
    lines = ["@problemName two", "@univariate false", "@dimensions 2", "@equalLength false",
             "@classLabel true up down", "@data"]
    lines += [",".join(["1"] * (10 + i)) + ":" + ",".join(["2"] * (10 + i)) + (":up" if i % 2 else ":down")
              for i in range(6)]
    two = write("two.ts", "\n".join(lines) + "\n")
    for i in range(4):
        write(f"cells/c{i}.csv", "\n".join(f"{v:.3f}" for v in rng.normal(size=15)) + "\n")
    index = write("cells/labels.tsv", "file\tlabel\n" + "".join(f"c{i}.csv\t{'ab'[i % 2]}\n" for i in range(4)))
    config = write("c.json", json.dumps({"filters": [4, 4, 4], "batch_size": 4}))
    for data in (tmp_path / "three.npz", two, index):
        model, out = tmp_path / f"{data.stem}.lstm", tmp_path / f"{data.stem}.tsv"
        status, _, err = run(["-q", "train", "signal", str(data), "-o", str(model), "--config", str(config),
                              "--epochs", "1"], capsys)
        assert status == 0, err
        status, _, err = run(["-q", "predict", str(model), str(data), "-o", str(out)], capsys)
        assert status == 0, err
        assert len(out.read_text().splitlines()) == {"three": 9, "two": 7, "labels": 5}[data.stem]


def test_evaluate_cross_validates_on_request(tmp_path, capsys, write):
    rng = np.random.default_rng(5)
    data = write("T.tsv", ucr_rows(rng, 8))
    model = tmp_path / "m.lstm"
    config = write("c.json", json.dumps({"filters": [4, 4, 4], "epochs": 1, "batch_size": 4}))
    assert run(["-q", "train", "signal", str(data), "-o", str(model), "--config", str(config)], capsys)[0] == 0
    status, out, err = run(["-q", "evaluate", str(model), str(data), "--cv", "2", "--json"], capsys)
    assert status == 0, err
    assert json.loads(out)["n"] == 8


def test_a_folder_of_traces_is_one_input(tmp_path, capsys, write):
    rng = np.random.default_rng(3)
    names = []
    for i, row in enumerate(ucr_rows(rng, 16).splitlines()):
        label, *values = row.split("\t")
        write(f"cells/c{i}.csv", "voltage\n" + "\n".join(values) + "\n")
        names.append(f"c{i}.csv\t{'early' if label == '1' else 'late'}")
    write("cells/labels.tsv", "file\tlabel\n" + "\n".join(names) + "\n")
    config, model = write("c.json", FAST), tmp_path / "m.lstm"
    status, out, err = run(["-q", "train", "signal", str(tmp_path / "cells"), "-o", str(model), "--config",
                            str(config), "--threads", "1"], capsys)
    assert status == 0, err
    status, out, err = run(["evaluate", str(model), str(tmp_path / "cells"), "--json"], capsys)
    assert status == 0 and json.loads(out)["accuracy"] >= 0.75


def test_a_confusion_matrix_never_replaces_an_input_nor_goes_to_standard_output(tmp_path, capsys, write):
    """Issue 20: `--confusion-matrix -` would mix with the metrics on standard output, and the data file itself
    must never be replaced: each is one line, and the data is unchanged."""
    rng = np.random.default_rng(5)
    data = write("T.tsv", ucr_rows(rng, 6))
    model = tmp_path / "m.lstm"
    assert run(["-q", "train", "signal", str(data), "-o", str(model), "--config", str(write("c.json", FAST)),
                "--epochs", "1"], capsys)[0] == 0
    before = data.read_bytes()
    status, out, err = run(["evaluate", str(model), str(data), "--confusion-matrix", "-"], capsys)
    assert status == 2 and err == "error: -: this output cannot go to standard output ('-'): name a file\n"
    status, out, err = run(["evaluate", str(model), str(data), "--confusion-matrix", str(data)], capsys)
    assert status == 2 and err.startswith(f"error: {data}: the output is the input") and err.count("\n") == 1
    assert data.read_bytes() == before and not (tmp_path / "-").exists()

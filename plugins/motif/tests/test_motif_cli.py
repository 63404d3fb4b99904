"""The motif task and command end to end through `lstmcore`, and bad input as one line with exit status 2."""
import gzip
import json

import pytest

from lstmcore.cli import main

from motif_testdata import run


def write(path, text):
    path.write_text(text)
    return path


def test_demo_trains_finds_and_writes_the_planted_motif(tmp_path, capsys):
    status, out, _ = run(["-q", "demo", "motif", "--out", str(tmp_path), "--threads", "1"], capsys)
    assert status == 0
    assert "jaspar:" in out and "meme:" in out
    assert out.splitlines()[-1].startswith("planted motif CACGTG: found as motif 1 (CACGTG), Pearson r ")
    table = (tmp_path / "motifs" / "motifs.tsv").read_text().splitlines()
    top = table[1].split("\t")
    assert top[1] == "CACGTG" and float(top[5]) > 0.95
    assert (tmp_path / "motifs" / "motifs.jaspar").exists() and (tmp_path / "motifs" / "motif_1.sites").exists()


def test_train_evaluate_predict_and_motif_commands(tmp_path, capsys, motif_task):
    data = motif_task.make_example_data(tmp_path / "data", seed=1)
    train_gz = tmp_path / "train.fasta.gz"
    train_gz.write_bytes(gzip.compress(data.train[0].read_bytes()))
    config = write(tmp_path / "c.json", json.dumps({"epochs": 12, "batch_size": 16}))
    model = tmp_path / "m.lstm"
    assert run(["-q", "train", "motif", str(train_gz), "-o", str(model), "--config", str(config),
                "--threads", "1"], capsys)[0] == 0
    status, out, _ = run(["evaluate", str(model), str(data.evaluate[0]), "--json"], capsys)
    metrics = json.loads(out)
    assert status == 0 and metrics["accuracy"] >= 0.9 and "mcc" in metrics and "auprc" in metrics
    predictions = tmp_path / "p.tsv"
    assert run(["-q", "predict", str(model), str(data.predict[0]), "-o", str(predictions)], capsys)[0] == 0
    rows = predictions.read_text().splitlines()
    assert rows[0].split("\t") == ["id", "predicted", "p_background", "p_motif"] and len(rows) == 41
    status, out, _ = run(["motif", "attribute", str(model), str(data.predict[0]), "-o", str(tmp_path / "a")], capsys)
    assert status == 0
    header = (tmp_path / "a" / "attribution.tsv").read_text().splitlines()[0].split("\t")
    assert header[:5] == ["id", "position", "letter", "class", "gradient_x_input"] and "ism_A" in header
    status, out, _ = run(["motif", "discover", str(model), str(data.train[0]), "-o", str(tmp_path / "d"),
                          "--known", str(data.folder / "known_CACGTG.jaspar")], capsys)
    assert status == 0 and "motif 1: CACGTG" in out
    table = (tmp_path / "d" / "motifs.tsv").read_text().splitlines()
    assert table[0].split("\t")[-1] == "seeded_by" and table[1].split("\t")[1] == "CACGTG"
    assert table[1].split("\t")[-1] in ("attribution", "attribution+enrichment")
    status, out, _ = run(["motif", "discover", str(model), str(data.train[0]), "-o", str(tmp_path / "e"),
                          "--seeds", "enrichment"], capsys)
    assert status == 0 and "motif 1: CACGTG" in out and "seeded by enrichment" in out


@pytest.mark.parametrize("case", ["no-labels", "one-class", "unknown-letter", "protein-in-dna-run"])
def test_bad_input_exits_2_with_one_line_naming_file_and_record(tmp_path, capsys, case):
    fasta = tmp_path / "in.fasta"
    argv = ["train", "motif", str(fasta), "-o", str(tmp_path / "m.lstm")]
    if case == "no-labels":
        write(fasta, ">s1 label=a\nACGT\n>s2\nACGA\n")
        record = "s2"
    elif case == "one-class":
        write(fasta, ">s1 label=a\nACGT\n>s2 label=a\nACGA\n")
        record = None
    elif case == "unknown-letter":
        write(fasta, ">s1 label=a\nACGT\n>s2 label=b\nAC?A\n")
        record = "s2"
    else:
        write(fasta, ">s1 label=a\nACGTACGTAC\n>s2 label=b\nACGTEQACGT\n")
        argv += ["--config", str(write(tmp_path / "c.json", json.dumps({"alphabet": "dna"})))]
        record = "s2"
    status, _, err = run(argv, capsys)
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(fasta) in lines[0]
    if record:
        assert f"record {record}" in lines[0]


@pytest.mark.parametrize("given,expected", [(None, 3), (10, 10), (2, 2)],
                         ids=["task-schedule", "core-default-value-typed", "other-value"])
def test_epochs_typed_on_the_command_line_win_even_when_equal_to_the_old_default(
        tmp_path, monkeypatch, motif_task, given, expected):
    """--epochs 10 used to be indistinguishable from "not given" and was replaced by the task's 40."""
    import lstmcore.models

    seen = []
    real_fit = lstmcore.models.Sequential.fit

    def recording_fit(self, *args, **kwargs):
        seen.append(kwargs["epochs"])
        return real_fit(self, *args, **{**kwargs, "epochs": 1})

    monkeypatch.setattr(lstmcore.models.Sequential, "fit", recording_fit)
    data = motif_task.make_example_data(tmp_path / "data", seed=2)
    config = write(tmp_path / "c.json", json.dumps({"epochs": 3}))
    argv = ["-q", "train", "motif", str(data.train[0]), "-o", str(tmp_path / "m.lstm"),
            "--config", str(config), "--threads", "1"]
    if given is not None:
        argv += ["--epochs", str(given)]
    assert main(argv) == 0
    assert seen == [expected]

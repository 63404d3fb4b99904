"""User mistakes with the motif commands: a model of another task, unusable count matrices, and a re-run of
`discover` into a folder that holds more motifs than the new run finds. Each mistake is one line naming the
file (and the motif), exit status 2, and no output folder left behind."""
import pytest

from lstmcore import registry
from lstmcore.cli import main
from lstmcore.errors import UserInputError
from lstmcore_motif.formats import read_motifs

from motif_testdata import assert_one_line_error, run, train_small_model


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return train_small_model(tmp_path_factory.mktemp("motif-errors"))


@pytest.fixture(scope="module", params=["signal", "mutation"])
def foreign_model(request, tmp_path_factory):
    """(task name, model file) of a task that is not a sequence classifier, from its demo (one epoch)."""
    if request.param not in registry.tasks:
        pytest.skip(f"the {request.param} plugin is not installed")
    folder = tmp_path_factory.mktemp(f"demo-{request.param}")
    assert main(["-q", "demo", request.param, "--out", str(folder / "demo"), "--epochs", "1",
                 "--threads", "1"]) == 0
    return request.param, folder / "demo" / "model.lstm"


@pytest.mark.parametrize("argv", [["attribute"], ["attribute", "--no-ism"], ["discover"],
                                  ["discover", "--class", "fast"]])
def test_a_model_of_another_task_is_one_line_and_no_folder(trained, foreign_model, tmp_path, capsys, argv):
    data, _ = trained
    task, model = foreign_model
    out = tmp_path / "new" / "out"
    status, _, err = run(["motif", argv[0], model, data, "-o", out, *argv[1:]], capsys)
    assert_one_line_error(status, err, model, f"is a model of task {task!r}, not a motif model",
                          "lstmcore train motif")
    assert list(tmp_path.iterdir()) == []  # neither the folder nor its parent made


def test_a_core_sequence_classification_model_is_still_accepted(trained, tmp_path, capsys):
    data, _ = trained
    model = tmp_path / "sc.lstm"
    assert main(["-q", "train", "sequence-classification", str(data), "-o", str(model), "--epochs", "1",
                 "--threads", "1"]) == 0
    capsys.readouterr()
    status, out, err = run(["motif", "attribute", model, data, "-o", tmp_path / "out", "--no-ism"], capsys)
    assert status == 0, err
    assert (tmp_path / "out" / "attribution.tsv").is_file()


@pytest.mark.parametrize("argv", [["attribute", "--class", "nope"], ["discover", "--class", "nope"],
                                  ["attribute", "--plot", "--class", "nope"]])
def test_a_failed_command_leaves_no_empty_folder_it_made(trained, tmp_path, capsys, argv):
    data, model = trained
    status, _, err = run(["motif", argv[0], model, data, "-o", tmp_path / "new" / "out", *argv[1:]], capsys)
    assert_one_line_error(status, err, "--class 'nope' is not one of the model's classes")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_command_keeps_a_folder_that_was_there(trained, tmp_path, capsys):
    data, model = trained
    (tmp_path / "out").mkdir()
    status, _, err = run(["motif", "discover", model, data, "-o", tmp_path / "out", "--class", "nope"], capsys)
    assert status == 2
    assert (tmp_path / "out").is_dir()


MATRIX = ">m1 first\nA [ 1 2 ]\nC [ 1 2 ]\nG [ 1 2 ]\nT [ 1 2 ]\n"


@pytest.mark.parametrize("rows,problem", [
    ("A [ 1 nan ]", "column 2: the count of A is nan"),
    ("A [ 1 inf ]", "column 2: the count of A is inf"),
    ("A [ 1 -2 ]", "column 2: the count of A is negative (-2)"),
    (None, "column 2 has no counts"),
    ("empty", "the motif has no columns"),
])
def test_compare_refuses_an_unusable_count_matrix(trained, tmp_path, capsys, rows, problem):
    good = tmp_path / "good.jaspar"
    good.write_text(MATRIX)
    if rows is None:
        text = ">m2 zero\nA [ 1 0 ]\nC [ 1 0 ]\nG [ 1 0 ]\nT [ 1 0 ]\n"
    elif rows == "empty":
        text = ">m2 zero\nA [ ]\nC [ ]\nG [ ]\nT [ ]\n"
    else:
        text = f">m2 zero\n{rows}\nC [ 1 2 ]\nG [ 1 2 ]\nT [ 1 2 ]\n"
    bad = tmp_path / "bad.jaspar"
    bad.write_text(MATRIX + text)
    for argv in ([good, bad], [bad, good]):
        status, out, err = run(["motif", "compare", *argv], capsys)
        assert_one_line_error(status, err, f"{bad}: record zero: {problem}")
        assert out == ""
    data, model = trained
    status, _, err = run(["motif", "discover", model, data, "-o", tmp_path / "found", "--known", bad], capsys)
    assert_one_line_error(status, err, f"{bad}: record zero: {problem}")
    assert not (tmp_path / "found").exists()


def test_meme_minimal_with_an_all_zero_row_is_refused(tmp_path):
    path = tmp_path / "zero.meme"
    path.write_text("MEME version 4\n\nALPHABET= ACGT\n\nMOTIF M1\nletter-probability matrix: alength= 4 w= 2 "
                    "nsites= 5\n 0.2 0.2 0.2 0.4\n 0 0 0 0\n")
    with pytest.raises(UserInputError, match=r"zero.meme: record M1: column 2 has no counts"):
        read_motifs(path, "minimal")


def test_discover_rerun_with_fewer_motifs_removes_its_stale_motif_files(trained, tmp_path, capsys):
    data, model = trained
    out = tmp_path / "out"
    status, _, err = run(["motif", "discover", model, data, "-o", out, "--motifs", "3", "--width", "3"], capsys)
    assert status == 0, err
    first = sorted(p.name for p in out.iterdir())
    assert "motif_2.sites" in first, first  # more than one motif found the first time
    # files of the same pattern from an earlier, longer run (and a logo of an earlier --plot run);
    # other files, a folder of that pattern and the run's own input are kept
    for name in ("motif_7.sites", "motif_1.png", "motif_9.png", "notes.txt", "motif_x.sites"):
        (out / name).write_text("old\n")
    (out / "motif_8.sites").mkdir()
    known = out / "motif_5.sites"
    known.write_text(">m\nCAC\n>m\nCAC\n")
    status, _, err = run(["motif", "discover", model, data, "-o", out, "--motifs", "1", "--width", "3",
                          "--known", known], capsys)
    assert status == 0, err
    table = (out / "motifs.tsv").read_text().splitlines()
    assert len(table) == 2
    assert sorted(p.name for p in out.iterdir()) == ["motif_1.sites", "motif_5.sites", "motif_8.sites",
                                                     "motif_x.sites", "motifs.jaspar", "motifs.meme",
                                                     "motifs.tsv", "notes.txt"]

"""Commands that write a folder of files (`lstmcore demo TASK --out DIR`, a plugin's commands): a folder that
cannot be written (a read-only file system), a file in the way or standard output is one line before any work
(issue 20)."""
import os
from pathlib import Path

import pytest

from lstmcore import registry
from lstmcore.errors import UserInputError
from lstmcore.io.outputs import prepare_output_folder

from bad_input_support import assert_one_line_error, run


def _read_only(monkeypatch, folder):
    """`folder` as access(2) reports a read-only file system (EROFS), whoever runs the test."""
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if Path(path) == folder and mode & os.W_OK
                        else real_access(path, mode))


@pytest.mark.parametrize("task", sorted(name for name, _, _ in registry.tasks.items()))
def test_demo_into_a_read_only_folder_is_one_line_before_any_work(tmp_path, capsys, monkeypatch, task):
    folder = tmp_path / "demo"
    folder.mkdir()
    _read_only(monkeypatch, folder)
    code, out, err = run(["-q", "demo", task, "--out", folder], capsys)
    assert_one_line_error(code, err, folder, "cannot write into the output folder: it is not writable")
    assert list(folder.iterdir()) == []


def test_demo_refuses_standard_output_and_a_file_in_the_way(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["-q", "demo", "sequence-classification", "--out", "-"], capsys)
    assert_one_line_error(code, err, "-", "writes several files into a folder", "not standard output")
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "data").write_text("my notes\n")
    code, out, err = run(["-q", "demo", "sequence-classification", "--out", tmp_path / "demo"], capsys)
    assert_one_line_error(code, err, tmp_path / "demo", "holds files a demo did not write (data)", "--out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]
    assert [p.name for p in (tmp_path / "demo").iterdir()] == ["data"]


def test_demo_never_replaces_a_users_files_but_reruns_in_its_own_folder(tmp_path, capsys):
    """A project folder with its own model.lstm is refused before any work; a demo's own folder (marked
    when the demo made it) takes the demo again."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "model.lstm").write_text("my trained model\n")
    code, out, err = run(["-q", "demo", "sequence-classification", "--out", project, "--epochs", "1"], capsys)
    assert_one_line_error(code, err, project, "holds files a demo did not write (model.lstm)")
    assert [p.name for p in project.iterdir()] == ["model.lstm"]
    assert (project / "model.lstm").read_text() == "my trained model\n"
    for _ in range(2):
        code, out, err = run(["-q", "demo", "sequence-classification", "--out", tmp_path / "demo", "--epochs", "1"],
                             capsys)
        assert code == 0, err


@pytest.mark.parametrize("argv", [["demo", "sequence-classification", "--seed", "-1"],
                                  ["train", "sequence-classification", "x.fa", "-o", "m.lstm", "--seed", "-1"],
                                  ["demo", "sequence-classification", "--seed", str(2 ** 32)]])
def test_a_seed_out_of_range_is_refused_by_the_parser_before_any_work(tmp_path, capsys, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["-q", *argv], capsys)
    assert code == 2 and "--seed: must be an integer from 0 to 4294967295" in err
    assert list(tmp_path.iterdir()) == []


def test_prepare_output_folder_in_python(tmp_path):
    with pytest.raises(UserInputError, match=r"^-: this command writes several files into a folder"):
        prepare_output_folder("-")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "table.tsv").mkdir()
    with pytest.raises(UserInputError, match="table.tsv: cannot write the output: it is a folder"):
        prepare_output_folder(tmp_path / "out", names=["table.tsv"])
    assert prepare_output_folder(tmp_path / "new" / "deeper", folders=["logos"]).is_dir()

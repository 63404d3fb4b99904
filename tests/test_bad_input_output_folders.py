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
    assert_one_line_error(code, err, tmp_path / "demo" / "data", "exists and is not a folder")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]
    assert [p.name for p in (tmp_path / "demo").iterdir()] == ["data"]


def test_prepare_output_folder_in_python(tmp_path):
    with pytest.raises(UserInputError, match=r"^-: this command writes several files into a folder"):
        prepare_output_folder("-")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "table.tsv").mkdir()
    with pytest.raises(UserInputError, match="table.tsv: cannot write the output: it is a folder"):
        prepare_output_folder(tmp_path / "out", names=["table.tsv"])
    assert prepare_output_folder(tmp_path / "new" / "deeper", folders=["logos"]).is_dir()

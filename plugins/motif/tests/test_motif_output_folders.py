"""The motif commands' output folders (issue 20): whatever is in the way of a file or a sub-folder they write
(a file named `logos`, a folder named like a logo, standard output) is one line naming it, exit status 2,
before any work, and nothing already there is changed."""
import os

import pytest

from lstmcore.errors import UserInputError
from lstmcore.toolkit import prepare_output_folder

from motif_testdata import assert_one_line_error, run, train_small_model


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return train_small_model(tmp_path_factory.mktemp("motif-folders"))


def test_attribute_with_a_file_named_logos_in_the_folder(trained, tmp_path, capsys):
    pytest.importorskip("logomaker")
    data, model = trained
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "logos").write_text("my notes\n")
    status, out, err = run(["motif", "attribute", model, data, "-o", folder, "--plot", "--no-ism"], capsys)
    assert_one_line_error(status, err, folder / "logos", "exists and is not a folder")
    assert sorted(p.name for p in folder.iterdir()) == ["logos"]  # no attribution.tsv, nothing half-written
    assert (folder / "logos").read_text() == "my notes\n"


def test_attribute_without_plot_ignores_a_file_named_logos(trained, tmp_path, capsys):
    data, model = trained
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "logos").write_text("my notes\n")
    status, out, err = run(["motif", "attribute", model, data, "-o", folder, "--no-ism"], capsys)
    assert status == 0, err
    assert (folder / "attribution.tsv").read_text().startswith("id\tposition\tletter\tclass\tgradient_x_input\n")


def test_attribute_with_a_folder_where_a_logo_goes(trained, tmp_path, capsys):
    pytest.importorskip("logomaker")
    data, model = trained
    folder = tmp_path / "out"
    (folder / "logos" / "s0.png").mkdir(parents=True)
    status, out, err = run(["motif", "attribute", model, data, "-o", folder, "--plot", "--no-ism"], capsys)
    assert_one_line_error(status, err, folder / "logos" / "s0.png", "it is a folder")
    assert not (folder / "attribution.tsv").exists()
    assert [p.name for p in (folder / "logos").iterdir()] == ["s0.png"]  # no temporary file left


@pytest.mark.parametrize("action", ["attribute", "discover"])
def test_a_folder_command_refuses_standard_output(trained, tmp_path, capsys, monkeypatch, action):
    data, model = trained
    monkeypatch.chdir(tmp_path)
    status, out, err = run(["motif", action, model, data, "-o", "-"], capsys)
    assert_one_line_error(status, err, "-", "writes several files into a folder", "not standard output")
    assert list(tmp_path.iterdir()) == []  # no folder named '-'


def test_discover_with_plot_checks_its_logo_files_first(trained, tmp_path, capsys):
    pytest.importorskip("logomaker")
    data, model = trained
    folder = tmp_path / "out"
    (folder / "motif_2.png").mkdir(parents=True)
    status, out, err = run(["motif", "discover", model, data, "-o", folder, "--plot"], capsys)
    assert_one_line_error(status, err, folder / "motif_2.png", "it is a folder")
    assert [p.name for p in folder.iterdir()] == ["motif_2.png"]


def test_prepare_output_folder_checks_sub_folders(tmp_path, monkeypatch):
    (tmp_path / "logos").write_text("x")
    with pytest.raises(UserInputError, match="logos: exists and is not a folder"):
        prepare_output_folder(tmp_path, folders=["logos"])
    (tmp_path / "logos").unlink()
    assert prepare_output_folder(tmp_path, folders=["logos"]) == tmp_path
    assert not (tmp_path / "logos").exists()  # made by the command when it writes the first logo
    (tmp_path / "logos").mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if str(path).endswith("logos")
                        else real_access(path, mode))
    with pytest.raises(UserInputError, match="logos: cannot write into the folder: it is not writable"):
        prepare_output_folder(tmp_path, folders=["logos"])

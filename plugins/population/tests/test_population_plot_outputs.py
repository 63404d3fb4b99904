"""`lstmcore predict ... --plot` writes a PNG per series beside the table (issue 20): with `-o -` the PNGs go to
the current folder as forecast.SERIES.png (never a file named '-'), and a PNG that cannot be written (a folder
in its place) is one line before the first one is drawn."""
import pytest

from population_testdata import sine_trend, write_table
from lstmcore_population.plots import plot_paths


@pytest.fixture()
def trained(tmp_path, cli, config):
    path = write_table(tmp_path / "counts.csv", ["year", "prey", "predator"],
                       [[1900 + i, round(a), round(b)] for i, (a, b) in
                        enumerate(zip(sine_trend(36), sine_trend(36, seed=1, noise=0.1) / 4))])
    model = tmp_path / "m.lstm"
    status, _, err = cli("-q", "train", "population", path, "-o", model, "--config", config(members=1),
                         "--epochs", "2")
    assert status == 0, err
    return path, model


def test_plots_of_a_table_on_standard_output_go_to_the_current_folder(tmp_path, cli, trained, monkeypatch):
    pytest.importorskip("matplotlib")
    path, model = trained
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    status, out, err = cli("-q", "predict", model, path, "-o", "-", "--plot")
    assert status == 0, err
    assert out.splitlines()[0] == "series\ttime\tforecast\tlower\tupper"
    assert sorted(p.name for p in here.iterdir()) == ["forecast.predator.png", "forecast.prey.png"]


def test_a_folder_in_place_of_a_plot_is_one_line_before_any_plot(tmp_path, cli, trained):
    pytest.importorskip("matplotlib")
    path, model = trained
    (tmp_path / "f.predator.png").mkdir()
    status, out, err = cli("-q", "predict", model, path, "-o", tmp_path / "f.csv", "--plot")
    assert status == 2 and err == f"error: {tmp_path / 'f.predator.png'}: cannot write the output: it is a folder\n"
    assert not (tmp_path / "f.prey.png").exists() and not (tmp_path / "f.csv").exists()


def test_plot_paths():
    assert [str(p) for p in plot_paths("out/f.csv", ["a", "b"])] == ["out/f.a.png", "out/f.b.png"]
    assert [str(p) for p in plot_paths("-", ["a"])] == ["forecast.a.png"]
    assert [str(p) for p in plot_paths(None, ["a"])] == ["forecast.a.png"]

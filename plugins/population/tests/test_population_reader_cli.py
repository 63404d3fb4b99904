"""The reader's forms and rules, the missing-value choices, and the command line end to end."""
import json

import numpy as np
import pytest

from population_testdata import sine_trend, write_table
from lstmcore_population.missing import fill_missing
from lstmcore_population.reader import future_times, read_counts


def test_wide_csv_with_time_detected_and_exogenous_column(tmp_path):
    path = write_table(tmp_path / "w.csv", ["site", "Year", "hare", "lynx", "temp"],
                       [["a", 1900, 30, 4, 1.5], ["a", 1901, 47, "NA", -0.5], ["a", 1902, 70, 9, 0.0]])
    data = read_counts(path, {"exog": "temp", "series": "hare,lynx"})
    assert data.time_column == "Year" and data.series == ["hare", "lynx"] and data.exog_names == ["temp"]
    assert data.times == ["1900", "1901", "1902"]
    assert np.isnan(data.values[1, 1]) and data.values[2, 0] == 70
    assert data.exog.ravel().tolist() == [1.5, -0.5, 0.0]
    assert future_times(data, 2) == ["1903", "1904"]


def test_long_tsv_with_dates_is_put_on_one_grid(tmp_path):
    path = write_table(tmp_path / "l.tsv", ["species", "date", "count"],
                       [["prey", "2020-01-06", 5], ["prey", "2020-01-13", 7], ["pred", "2020-01-06", 1],
                        ["pred", "2020-01-13", 2], ["prey", "2020-01-20", 8]], delimiter="\t")
    data = read_counts(path)
    assert data.series == ["prey", "pred"] and data.time_kind == "date"
    assert data.values.tolist()[:2] == [[5, 1], [7, 2]] and np.isnan(data.values[2, 1])
    assert future_times(data, 1) == ["2020-01-27"]


def test_missing_choices_each_do_what_they_say(tmp_path):
    path = write_table(tmp_path / "g.csv", ["t", "n"], [[1, 10], [2, "-"], [3, ""], [4, 40]])
    data = read_counts(path)
    filled, observed = fill_missing(data.values, "interpolate", data=data, names=data.series)
    assert filled.ravel().tolist() == [10, 20, 30, 40] and observed.ravel().tolist() == [True, False, False, True]
    masked, _ = fill_missing(data.values, "mask", data=data, names=data.series)
    assert np.isnan(masked[1:3]).all()
    from lstmcore.toolkit import UserInputError

    with pytest.raises(UserInputError, match=r"g\.csv: record row 3: column 'n' has a missing value"):
        fill_missing(data.values, "error", data=data, names=data.series)


def test_mask_model_has_flag_channels_and_never_trains_on_a_gap(tmp_path, task):
    values = [None if i in (10, 25) else v for i, v in enumerate(np.round(sine_trend(40)))]
    path = write_table(tmp_path / "m.csv", ["year", "n"], [[1900 + i, v] for i, v in enumerate(values)])
    data = read_counts(path, {"missing": "mask", "lookback": 3, "horizon": 1, "quiet": True})
    state = task.settings_for(data, task.hyperparameters)
    encoded = task.encode(data, state, labelled=True)
    assert encoded.x.shape[2] == 2  # the count and its observed flag
    assert 10 not in encoded.origins and 25 not in encoded.origins and 11 in encoded.origins
    assert encoded.x[encoded.origins.tolist().index(11), -1].tolist() == [0.0, 0.0]  # the gap: value 0, flag 0


@pytest.mark.parametrize("rows, problem", [
    ([[1900, 3], [1901, "many"], [1902, 4]], "record row 3: column 'n' holds 'many', not a number"),
    ([[1900, 3], [1901, -2], [1902, 4]], "record row 3: column 'n' holds a negative count"),
    ([[1900, 3], [1902, 5], [1901, 4]], "record row 4: time '1901' goes backwards"),
    ([[1900, 3], [1900, 5], [1901, 4]], "record row 3: time '1900' repeats the previous row's"),
    ([[1900, 3]], "record 1900: has a single time point"),
], ids=["text-in-count", "negative-count", "time-backwards", "time-repeats", "single-row"])
def test_bad_input_exits_2_with_one_line_naming_file_and_row(tmp_path, cli, rows, problem):
    path = write_table(tmp_path / "bad.csv", ["year", "n"], rows)
    status, out, err = cli("train", "population", path, "-o", tmp_path / "m.lstm")
    assert status == 2
    assert err.count("\n") == 1 and err.startswith(f"error: {path}: ")
    assert problem in err
    assert not (tmp_path / "m.lstm").exists()


def test_missing_error_through_the_cli_names_file_row_and_column(tmp_path, cli):
    path = write_table(tmp_path / "gap.csv", ["year", "hare"], [[1900 + i, "" if i == 5 else 10 + i] for i in range(30)])
    status, _, err = cli("train", "population", path, "-o", tmp_path / "m.lstm", "--missing", "error")
    assert status == 2
    assert err == f"error: {path}: record row 7: column 'hare' has a missing value (--missing error; use " \
                  "--missing interpolate or mask to accept gaps)\n"


def test_cli_end_to_end_on_the_demo_data(tmp_path, cli, config):
    status, out, err = cli("-q", "demo", "population", "--out", tmp_path / "demo")
    assert status == 0
    assert err == ""  # -q: neither the settings line nor the backtest's progress bar
    metrics = json.loads((tmp_path / "demo" / "metrics.json").read_text())
    assert metrics["lstm/predator/rmse"] < metrics["naive/predator/rmse"]
    assert {"ets/prey/rmse", "arima/prey/mase", "lstm/prey/coverage", "seasonal_naive/prey/smape"} <= set(metrics)
    train = tmp_path / "demo" / "data" / "train.csv"
    status, _, err = cli("train", "population", train, "-o", tmp_path / "m.lstm", "--config", config())
    assert status == 0
    assert "lookback" in err and "horizon 5 (auto)" in err and "transform log1p" in err and "inner backtest" in err
    status, out, _ = cli("-q", "predict", tmp_path / "m.lstm", train, "-o", tmp_path / "f.csv", "--horizon", "7")
    assert status == 0
    rows = [line.split(",") for line in (tmp_path / "f.csv").read_text().splitlines()]
    assert rows[0] == ["series", "time", "forecast", "lower", "upper"] and len(rows) == 1 + 7 * 2
    assert [r[1] for r in rows[1:5]] == ["1980", "1980", "1981", "1981"] and rows[1][0] == "prey"
    assert all(float(r[3]) <= float(r[2]) <= float(r[4]) for r in rows[1:])
    status, out, _ = cli("-q", "evaluate", tmp_path / "m.lstm", tmp_path / "demo" / "data" / "evaluate.csv",
                         "--json", "--folds", "2")
    assert status == 0 and json.loads(out)["lstm/prey/n"] == 10.0


def test_cli_on_real_hare_and_lynx_with_a_plot(tmp_path, cli, config, real_data):
    source = real_data / "hudson_bay_lynx_hare_1900_1920.csv"
    status, _, _ = cli("-q", "train", "population", source, "-o", tmp_path / "hl.lstm", "--horizon", "2",
                       "--config", config())
    assert status == 0
    status, out, _ = cli("-q", "predict", tmp_path / "hl.lstm", source, "-o", tmp_path / "hl.csv", "--plot")
    assert status == 0
    rows = (tmp_path / "hl.csv").read_text().splitlines()
    assert [r.split(",")[:2] for r in rows[1:]] == [["lynx_thousands", "1921"], ["hare_thousands", "1921"],
                                                    ["lynx_thousands", "1922"], ["hare_thousands", "1922"]]
    assert (tmp_path / "hl.lynx_thousands.png").read_bytes()[:4] == b"\x89PNG"
    status, out, _ = cli("-q", "evaluate", tmp_path / "hl.lstm", source, "--one-step", "5", "--json")
    scores = json.loads(out)
    assert status == 0 and scores["naive/hare_thousands/rmse"] == pytest.approx(6.413, abs=1e-3)  # data README
    assert scores["ar2/lynx_thousands/rmse"] == pytest.approx(2.669, abs=1e-3)

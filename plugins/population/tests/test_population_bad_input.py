"""A user's mistake in a count table or an option: one line naming the file (and row), exit 2, no traceback."""
import json

import numpy as np
import pytest

from population_testdata import sine_trend, write_table
from lstmcore.toolkit import UserInputError
from lstmcore_population.reader import read_counts

TINY = {"members": 1, "epochs": 1}


def _two_series(path, steps=40, blank_prey=(), header=("year", "prey", "predator")):
    """A wide table of prey and predator over `steps` years; prey empty at the indices in `blank_prey`."""
    prey, predator = np.round(sine_trend(steps)), np.round(sine_trend(steps, seed=1) / 10)
    rows = [[1900 + i, "" if i in blank_prey else int(prey[i]), int(predator[i])] for i in range(steps)]
    return write_table(path, list(header), rows)


def _one_error_line(status, err, path):
    assert status == 2
    assert err.count("\n") == 1 and err.startswith(f"error: {path}: ") and "Traceback" not in err
    return err


def test_leading_missing_counts_are_masked_not_a_traceback(tmp_path, cli):
    path = _two_series(tmp_path / "lead.csv", blank_prey=set(range(12)) | {20})
    status, _, err = cli("-q", "train", "population", path, "--missing", "mask", "-o", tmp_path / "m.lstm",
                         "--config", json.dumps(TINY))
    assert status == 0, err
    assert (tmp_path / "m.lstm").exists()


@pytest.mark.parametrize("missing", ["interpolate", "mask"])
def test_a_series_without_any_observed_count_is_refused(tmp_path, cli, missing):
    path = _two_series(tmp_path / "none.csv", blank_prey=set(range(40)))
    status, _, err = cli("-q", "train", "population", path, "--missing", missing, "-o", tmp_path / "m.lstm")
    _one_error_line(status, err, path)
    assert "series 'prey' has no observed count" in err and "--series" in err
    assert not (tmp_path / "m.lstm").exists()


@pytest.mark.parametrize("missing", ["interpolate", "mask"])
def test_a_series_with_too_few_observed_counts_is_refused(tmp_path, cli, missing):
    path = _two_series(tmp_path / "few.csv", blank_prey=set(range(38)))
    status, _, err = cli("-q", "train", "population", path, "--missing", missing, "-o", tmp_path / "m.lstm")
    _one_error_line(status, err, path)
    assert "series 'prey' has 2 observed count(s) in 40 time points: too few for one training window" in err


def test_evaluate_on_too_short_a_series_names_what_is_needed(tmp_path, cli):
    train = _two_series(tmp_path / "train.csv", steps=40)
    status, _, err = cli("-q", "train", "population", train, "-o", tmp_path / "m.lstm", "--lookback", "2",
                         "--horizon", "3", "--config", json.dumps(TINY))
    assert status == 0, err
    short = _two_series(tmp_path / "short.csv", steps=4)
    status, _, err = cli("-q", "evaluate", tmp_path / "m.lstm", short)
    _one_error_line(status, err, short)
    assert "has 4 time points: a rolling origin of 5 folds x horizon 3 needs at least 20" in err
    status, _, err = cli("-q", "evaluate", tmp_path / "m.lstm", train, "--folds", "1000")
    assert "a rolling origin of 1000 folds x horizon 3 needs at least 3005" in _one_error_line(status, err, train)
    status, _, err = cli("-q", "evaluate", tmp_path / "m.lstm", train, "--one-step", "1000")
    assert "--one-step 1000 needs at least 1005" in _one_error_line(status, err, train)
    status, _, err = cli("-q", "evaluate", tmp_path / "m.lstm", train, "--folds", "8", "--horizon", "5")
    assert "8 folds x horizon 5 needs at least 45" in _one_error_line(status, err, train)


@pytest.mark.parametrize("cell, problem", [
    ("abcd", "record row 10: time column 'year' holds 'abcd', which is neither a number nor a date"),
    ("", "record row 10: time column 'year' is empty"),
    ("2020-01-01", "record row 10: time column 'year' holds '2020-01-01', but its other times are numbers"),
], ids=["word", "empty", "date-among-years"])
def test_a_bad_time_cell_is_named_by_its_own_row_and_value(tmp_path, cli, cell, problem):
    rows = [[cell if i == 8 else 1900 + i, 10 + i] for i in range(20)]
    path = write_table(tmp_path / "t.csv", ["year", "n"], rows)
    with pytest.raises(UserInputError) as caught:
        read_counts(path)
    assert problem in caught.value.format()
    status, _, err = cli("-q", "train", "population", path, "-o", tmp_path / "m.lstm")
    assert problem in _one_error_line(status, err, path)


def test_a_bad_date_among_dates_is_named_by_its_row(tmp_path):
    rows = [[f"2020-01-{day:02d}", day] for day in range(1, 10)]
    rows[5][0] = "2020-13-01"
    path = write_table(tmp_path / "d.csv", ["date", "n"], rows)
    with pytest.raises(UserInputError, match=r"record row 7: time column 'date' holds '2020-13-01', which is"):
        read_counts(path)


@pytest.mark.parametrize("header, problem", [
    (("year", "prey", "prey"), "the header names column 'prey' twice (columns 2 and 3)"),
    (("year", "prey", "Prey"), "the header names column 'Prey' twice (columns 2 and 3)"),
    (("year", "", "predator"), "the header's column 2 has no name"),
], ids=["duplicate", "duplicate-case", "empty"])
def test_duplicate_or_unnamed_columns_are_refused(tmp_path, cli, header, problem):
    path = _two_series(tmp_path / "h.csv", header=header)
    status, _, err = cli("-q", "train", "population", path, "-o", tmp_path / "m.lstm")
    assert problem in _one_error_line(status, err, path)


@pytest.mark.parametrize("name, delimiter, problem", [
    ("semi.csv", ";", "has a single column 'year;prey;predator': is it separated by ';'?"),
    ("tabs.csv", "\t", "is it separated by tabs? This file is read as separated by commas (.csv); name it .tsv"),
], ids=["semicolons", "tabs-in-csv"])
def test_a_table_with_another_separator_says_so(tmp_path, cli, name, delimiter, problem):
    path = write_table(tmp_path / name, ["year", "prey", "predator"],
                       [[1900 + i, 10 + i, 3] for i in range(20)], delimiter=delimiter)
    status, _, err = cli("-q", "train", "population", path, "-o", tmp_path / "m.lstm")
    err = _one_error_line(status, err, path)
    assert problem in err and "no count column" not in err


def test_a_fasta_file_is_not_a_count_table(tmp_path, cli):
    path = tmp_path / "reads.fasta"
    path.write_text(">seq1\nACGTACGT\n>seq2\nGGTTAACC\n")
    status, _, err = cli("-q", "train", "population", path, "-o", tmp_path / "m.lstm")
    assert "is not a count table (its first line '>seq1' looks like a sequence file)" in \
        _one_error_line(status, err, path)


@pytest.mark.parametrize("options, problem", [
    (("--series", "prey", "--exog", "prey"), "column 'prey' is given to both --series and --exog"),
    (("--series", "year"), "series 'year' is the time column"),
], ids=["series-and-exog", "series-is-time"])
def test_series_and_exog_options_that_contradict_each_other(tmp_path, cli, options, problem):
    path = _two_series(tmp_path / "o.csv")
    status, _, err = cli("-q", "train", "population", path, "-o", tmp_path / "m.lstm", *options)
    assert problem in _one_error_line(status, err, path)


def test_quiet_evaluate_and_demo_options_show_no_backtest_progress(tmp_path, task, monkeypatch):
    """The backtest's bar shows only when the command line says it is not quiet (evaluate without -q);
    `lstmcore demo` hands evaluate the demo data's options, which do not say, so -q demo stays silent."""
    from lstmcore_population import backtest

    calls = []

    def fake_rolling(*args, progress, **kwargs):
        calls.append(progress)
        return backtest.Forecasts()

    path = _two_series(tmp_path / "p.csv")
    data = read_counts(path)
    state = {"series": ["prey", "predator"], "exog": [], "lookback": 2, "horizon": 3}
    monkeypatch.setattr(backtest, "rolling_backtest", fake_rolling)
    for options in ({"quiet": True}, {"missing": "interpolate"}, {"quiet": False}):
        backtest.evaluate_report(task, data, state, options, dict(task.hyperparameters))
    assert calls == [False, False, True]

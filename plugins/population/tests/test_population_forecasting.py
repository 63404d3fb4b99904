"""Forecast quality, no leakage from the future, prediction from a longer history, honest intervals."""
import numpy as np
import pytest

from population_testdata import QUICK, sine_trend, write_table
from lstmcore_population.backtest import one_step_backtest, rolling_backtest, score_forecasts
from lstmcore_population.reader import read_counts


def _data(tmp_path, values, name="counts.csv", **options):
    rows = [[1900 + i, *np.atleast_1d(v)] for i, v in enumerate(values)]
    header = ["year"] + [f"s{j}" for j in range(np.atleast_2d(np.asarray(values).T).shape[0])]
    return read_counts(write_table(tmp_path / name, header, rows), dict(options, quiet=True))


def test_sine_plus_trend_forecast_within_two_percent(tmp_path, task):
    values = np.round(sine_trend(132))
    data = _data(tmp_path, values, lookback=12, horizon=1)
    hyperparameters = dict(task.hyperparameters, epochs=100, members=3)
    state = task.settings_for(data.head(120), hyperparameters)
    result = one_step_backtest(task, data, state, hyperparameters, test=12, baselines=("naive",))
    scores = score_forecasts(result)
    actual = np.asarray(result.actual["s0"])
    assert scores["lstm"]["s0"]["mae"] / actual.mean() < 0.02
    assert scores["lstm"]["s0"]["rmse"] < 0.3 * scores["naive"]["s0"]["rmse"]


def _perturbed_future(values, origin):
    changed = np.array(values, float)
    changed[origin:] = changed[origin:] * 7 + 1000
    return changed


def test_rolling_backtest_folds_never_see_the_future(tmp_path, task):
    """Each fold's forecasts depend only on the points before its origin: changing everything from the
    first origin on (the transforms' statistics included) leaves the first fold's forecasts unchanged."""
    values = np.column_stack([sine_trend(60, seed=1, noise=0.1), sine_trend(60, seed=2, noise=0.1)[::-1]])
    hyperparameters = dict(task.hyperparameters, **QUICK)
    runs = []
    for name, table in (("a.csv", values), ("b.csv", _perturbed_future(values, 50))):
        data = _data(tmp_path, np.round(table), name, lookback=3, horizon=2)
        state = task.settings_for(data.head(50), hyperparameters)
        runs.append(rolling_backtest(task, data, state, hyperparameters, folds=5, horizon=2,
                                     baselines=("naive", "ar2")))
    for method in ("lstm", "naive", "ar2"):
        first = [runs[i].by_method[method]["s0"]["forecast"][:2] for i in range(2)]
        np.testing.assert_allclose(first[0], first[1], rtol=1e-12)
        later = [runs[i].by_method[method]["s0"]["forecast"][2:] for i in range(2)]
        assert not np.allclose(later[0], later[1])  # later folds do see the (changed) points before them


def test_transforms_of_a_fold_come_from_its_past_only(tmp_path, task):
    values = np.round(sine_trend(60))
    data = _data(tmp_path, values, lookback=3, horizon=1)
    state = task.settings_for(data.head(40), task.hyperparameters)
    assert state["transform"]["mean"][0] == pytest.approx(np.log1p(values[:40]).mean())
    assert state["transform"]["mean"][0] != pytest.approx(np.log1p(values).mean())


def test_validation_split_holds_out_the_end_and_does_not_train_on_it(tmp_path, task):
    """A time-ordered validation split: the held-out last windows change nothing the model learns."""
    import lstmcore
    from lstmcore_population.encoding import forecast_z

    hyperparameters = dict(task.hyperparameters, **QUICK)
    base = sine_trend(60, noise=0.1)
    outputs = []
    for name, table in (("a.csv", base), ("b.csv", _perturbed_future(base, 49))):
        data = _data(tmp_path, np.round(table), name, lookback=3, horizon=1)
        state = task.settings_for(data.head(45), hyperparameters)  # transforms from points before the split
        encoded = task.encode(data, state, labelled=True)
        train, held = task.validation_split(encoded, 0.2)
        assert encoded.origins[train].tolist() == list(range(3, 49))  # 46 of the 57 windows, in time order
        assert encoded.origins[held].tolist() == list(range(49, 60))  # the end, whose targets b changes
        lstmcore.set_seed(0)
        model = task.build_model(state, hyperparameters)
        task.fit(model, encoded, epochs=QUICK["epochs"], batch_size=16, validation_split=0.2,
                 hyperparameters=hyperparameters)
        outputs.append(forecast_z(model.predict(encoded.x[:10]), encoded.levels[:10], state))
    np.testing.assert_allclose(outputs[0], outputs[1], rtol=1e-6)


def test_predict_on_a_longer_history_forecasts_from_its_end(tmp_path, task, cli, config):
    values = np.round(sine_trend(90, noise=0.05))
    train = write_table(tmp_path / "train.csv", ["year", "n"], [[1900 + i, v] for i, v in enumerate(values[:60])])
    longer = write_table(tmp_path / "longer.csv", ["year", "n"], [[1900 + i, v] for i, v in enumerate(values)])
    status, _, _ = cli("-q", "train", "population", train, "-o", tmp_path / "m.lstm", "--lookback", "12",
                       "--horizon", "3", "--config", config())
    assert status == 0
    status, _, _ = cli("-q", "predict", tmp_path / "m.lstm", longer, "-o", tmp_path / "f.csv")
    assert status == 0
    rows = (tmp_path / "f.csv").read_text().splitlines()
    assert rows[0] == "series,time,forecast,lower,upper"
    assert [r.split(",")[1] for r in rows[1:]] == ["1990", "1991", "1992"]
    forecast = np.array([float(r.split(",")[2]) for r in rows[1:]])
    expected = sine_trend(93)[90:]
    assert np.abs(forecast - expected).max() < 0.1 * expected.mean()  # follows the trend of the new end


def test_intervals_cover_near_the_nominal_level(tmp_path, task):
    """AR(1) log counts with known noise: the 80 % intervals cover about 80 % of 60 backtest points."""
    rng = np.random.default_rng(5)
    log_level = np.zeros(160)
    for t in range(1, 160):
        log_level[t] = 0.7 * log_level[t - 1] + rng.normal(0, 0.3)
    values = np.round(np.exp(5 + log_level))
    data = _data(tmp_path, values, lookback=2, horizon=1)
    hyperparameters = dict(task.hyperparameters, members=2, epochs=30)
    state = task.settings_for(data.head(100), hyperparameters)
    result = one_step_backtest(task, data, state, hyperparameters, test=60, baselines=())
    coverage = score_forecasts(result)["lstm"]["s0"]["coverage"]
    assert 0.68 <= coverage <= 0.92

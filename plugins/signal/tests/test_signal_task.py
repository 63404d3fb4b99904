"""The task's preprocessing and model: statistics from the training part only, lengths without padding
in the arithmetic, resampling, missing values, augmentation, and the LSTM-FCN's layout."""
import numpy as np
import pytest

import lstmcore
from lstmcore.errors import UserInputError
from lstmcore_signal.augmentation import augment
from lstmcore_signal.preprocessing import handle_missing, resample, smooth
from lstmcore_signal.traces import Traces

SMALL = {"filters": [8, 8, 8], "epochs": 2, "batch_size": 4}


def traces_of(arrays, labels=None):
    series = [np.asarray(a, dtype=np.float64).reshape(len(a), -1) for a in arrays]
    n = len(series)
    return Traces(series, labels, [f"t{i}" for i in range(n)], ["f.tsv"] * n, [f"row {i + 1}" for i in range(n)])


def hyper(task, **changes):
    return {**task.hyperparameters, **SMALL, **changes}


def test_channel_normalisation_statistics_come_from_the_training_traces_only(signal_task):
    rng = np.random.default_rng(0)
    train = traces_of([rng.normal(5.0, 2.0, size=(20, 2)) for _ in range(6)], ["a", "b"] * 3)
    test = traces_of([rng.normal(-40.0, 9.0, size=(20, 2)) for _ in range(3)], ["a", "b", "a"])
    state = signal_task.fit_encoder(train, hyper(signal_task, normalisation="channel"))
    stacked = np.concatenate(train.series)
    np.testing.assert_allclose(state["channel_mean"], stacked.mean(axis=0))
    np.testing.assert_allclose(state["channel_sd"], stacked.std(axis=0))
    encoded = signal_task.encode(test, state, labelled=True)
    expected = (test.series[0] - stacked.mean(axis=0)) / stacked.std(axis=0)
    np.testing.assert_allclose(encoded.x[0], expected, rtol=1e-5)
    assert encoded.x.mean() < -10  # the test traces were not rescaled by their own statistics


def test_trace_normalisation_scales_each_trace_and_channel(signal_task):
    train = traces_of([np.c_[np.arange(10.0), 100 + 3 * np.arange(10.0)], np.ones((10, 2))], ["a", "b"])
    state = signal_task.fit_encoder(train, hyper(signal_task))
    x = signal_task.encode(train, state, labelled=True).x
    np.testing.assert_allclose(x[0].mean(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(x[0].std(axis=0), 1, atol=1e-5)
    np.testing.assert_array_equal(x[1], 0)  # a flat trace stays flat instead of dividing by zero


def test_variable_length_traces_predict_the_same_in_a_batch_as_one_at_a_time(signal_task):
    rng = np.random.default_rng(1)
    lengths = [12, 30, 7, 21, 30]
    train = traces_of([rng.normal(size=n) for n in lengths], ["a", "b", "a", "b", "a"])
    state = signal_task.fit_encoder(train, hyper(signal_task))
    assert state["shuffle"] is False and state["steps"] is None
    lstmcore.set_seed(0)
    model = signal_task.build_model(state, hyper(signal_task))
    encoded = signal_task.encode(train, state, labelled=True)
    signal_task.fit(model, encoded, epochs=2, batch_size=2, validation_split=0.0,
                    hyperparameters=hyper(signal_task))
    assert encoded.lengths.tolist() == lengths and encoded.x.shape == (5, 30, 1)
    together = signal_task.predict(model, encoded, state)
    for i in range(len(lengths)):
        alone = signal_task.predict(model, signal_task.encode(train.subset([i]), state, labelled=True), state)
        np.testing.assert_allclose(together[i], alone[0], rtol=1e-5, atol=1e-6)


def test_padding_content_never_changes_a_prediction(signal_task):
    """Whatever sits past a trace's length (zeros here, garbage there), the outputs are the same."""
    rng = np.random.default_rng(2)
    train = traces_of([rng.normal(size=n) for n in (10, 16, 13)], ["a", "b", "a"])
    state = signal_task.fit_encoder(train, hyper(signal_task))
    lstmcore.set_seed(0)
    model = signal_task.build_model(state, hyper(signal_task))
    encoded = signal_task.encode(train, state, labelled=True)
    noisy = encoded.x.copy()
    for i, n in enumerate(encoded.lengths):
        noisy[i, n:] = 1e3
    clean = model.predict(encoded.x, lengths=encoded.lengths)
    np.testing.assert_allclose(model.predict(noisy, lengths=encoded.lengths), clean, rtol=1e-5, atol=1e-6)


def test_equal_lengths_take_the_dimension_shuffle_and_other_lengths_are_refused(signal_task):
    train = traces_of([np.arange(20.0) * (i + 1) for i in range(4)], ["a", "b", "a", "b"])
    state = signal_task.fit_encoder(train, hyper(signal_task))
    assert state["shuffle"] is True and state["steps"] == 20
    model = signal_task.build_model(state, hyper(signal_task))
    assert "dimension_shuffle" in [layer.name for layer in model.layers]
    with pytest.raises(UserInputError, match="has 15 steps; the model takes 20"):
        signal_task.encode(traces_of([np.arange(15.0)], ["a"]), state, labelled=True)


def test_resampling_gives_every_trace_the_chosen_length(signal_task):
    train = traces_of([np.linspace(0, 1, n) for n in (11, 21, 41)], ["a", "b", "a"])
    state = signal_task.fit_encoder(train, hyper(signal_task, length=6, normalisation="none"))
    encoded = signal_task.encode(train, state, labelled=True)
    assert state["shuffle"] is True and encoded.x.shape == (3, 6, 1) and encoded.lengths is None
    np.testing.assert_allclose(encoded.x[:, :, 0], np.tile(np.linspace(0, 1, 6), (3, 1)), atol=1e-6)
    np.testing.assert_allclose(resample(np.array([[0.0], [2.0]]), 5)[:, 0], [0, 0.5, 1, 1.5, 2])


def test_smoothing_is_a_centred_moving_average():
    trace = np.array([[0.0], [0.0], [3.0], [0.0], [0.0]])
    np.testing.assert_allclose(smooth(trace, 3)[:, 0], [0, 1, 1, 1, 0])


def test_missing_values_error_names_the_row_or_are_interpolated():
    traces = traces_of([[1.0, np.nan, 3.0, np.nan]])
    with pytest.raises(UserInputError, match=r"f.tsv: record row 1: missing value \(NaN\) at step 2, channel 1"):
        handle_missing(traces, "error")
    np.testing.assert_allclose(handle_missing(traces, "interpolate").series[0][:, 0], [1, 2, 3, 3])


def test_augmentation_adds_transformed_copies_and_keeps_the_padding(signal_task):
    x = np.zeros((2, 10, 1), np.float32)
    x[0, :6, 0] = np.linspace(-1, 1, 6)
    x[1, :, 0] = np.linspace(1, -1, 10)
    y = np.array([0, 1])
    big_x, big_y, big_lengths = augment(x, y, np.array([6, 10]), ["jitter", "scaling", "window_slicing"], 2,
                                        np.random.default_rng(0))
    assert big_x.shape == (6, 10, 1) and big_y.tolist() == [0, 1] * 3 and big_lengths.tolist() == [6, 10] * 3
    assert not np.allclose(big_x[2], x[0]) and np.all(big_x[2, 6:] == 0)
    two = traces_of([np.ones(5), np.zeros(5)], ["a", "b"])
    state = signal_task.fit_encoder(two, hyper(signal_task))
    model = signal_task.build_model(state, hyper(signal_task))
    with pytest.raises(UserInputError, match="augment may list"):
        signal_task.fit(model, signal_task.encode(two, state, labelled=True), epochs=1, batch_size=2,
                        validation_split=0.0, hyperparameters=hyper(signal_task, augment=["flip"]))


def test_several_channels_build_mlstm_fcn_with_squeeze_excite(signal_task):
    rng = np.random.default_rng(3)
    train = traces_of([rng.normal(size=(12, 3)) for _ in range(4)], ["a", "b", "a", "b"])
    state = signal_task.fit_encoder(train, hyper(signal_task))
    model = signal_task.build_model(state, hyper(signal_task))
    names = [layer.name for layer in model.layers]
    assert model.name == "mlstm_fcn" and "se1_scale" in names and "se2_scale" in names and "se3_scale" not in names
    out = model.predict(signal_task.encode(train, state, labelled=True).x)
    assert out.shape == (4, 2)
    np.testing.assert_allclose(out.sum(axis=1), 1, rtol=1e-5)


def test_default_model_is_karims_lstm_fcn(signal_task):
    train = traces_of([np.arange(30.0) * (i + 1) for i in range(4)], ["a", "b", "a", "b"])
    state = signal_task.fit_encoder(train, signal_task.hyperparameters)
    model = signal_task.build_model(state, signal_task.hyperparameters)
    convs = [(l.filters, l.kernel_size) for l in model.layers if type(l).__name__ == "Conv1D"]
    assert convs == [(128, 8), (256, 5), (128, 3)] and model.name == "lstm_fcn"
    lstm = next(l for l in model.layers if type(l).__name__ == "LSTM")
    assert lstm.units == 8

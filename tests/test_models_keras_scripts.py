"""Keras scripts run as written (imports changed), and a stacked LSTM learns a noisy sine."""
import numpy as np
import pytest

import lstmcore as lc


def test_single_lstm_script_runs_as_written():
    from lstmcore.models import Sequential
    from lstmcore.layers import LSTM, Dense

    rng = np.random.default_rng(0)
    X, y = rng.random((96, 10, 1)), rng.random(96)
    model = Sequential()
    model.add(LSTM(50, input_shape=(10, 1)))
    model.add(Dense(1))
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(X, y, epochs=2, batch_size=32, verbose=0)
    assert len(history.history["loss"]) == 2
    assert model.predict(X).shape == (96, 1)


def test_stacked_lstm_script_runs_as_written():
    from lstmcore.models import Sequential
    from lstmcore.layers import LSTM, Dense

    rng = np.random.default_rng(1)
    X, y = rng.random((64, 10, 1)), rng.random(64)
    model = Sequential()
    model.add(LSTM(50, input_shape=(10, 1), return_sequences=True))
    model.add(LSTM(50))
    model.add(Dense(1))
    model.compile(optimizer='adam', loss='mse')
    model.fit(X, y, epochs=100, batch_size=32, verbose=0)
    assert np.isfinite(model.evaluate(X, y, verbose=0))


def _sine_windows(samples, steps, seed):
    rng = np.random.default_rng(seed)
    t = np.arange(samples + steps + 1) * 0.2
    series = np.sin(t) + 0.05 * rng.standard_normal(t.size)
    windows = np.stack([series[i:i + steps] for i in range(samples)])[..., None]
    targets = np.sin(t[steps:steps + samples])  # the clean next value
    return windows, targets


def test_stacked_lstm_fits_noisy_sine_one_step_ahead():
    lc.set_seed(3)
    X, y = _sine_windows(600, 12, seed=3)
    model = lc.Sequential([
        lc.layers.LSTM(24, return_sequences=True, input_shape=(12, 1)),
        lc.layers.LSTM(24),
        lc.layers.Dense(1),
    ])
    model.compile(optimizer=lc.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    history = model.fit(X[:500], y[:500], epochs=15, batch_size=32, validation_data=(X[500:], y[500:]),
                        verbose=0)
    # The noise has variance 0.0025; a model that learned the sine lands near it.
    assert history.history["val_loss"][-1] < 0.01
    assert history.history["loss"][-1] < history.history["loss"][0] / 10


def test_keras_tour_from_the_design_guide_runs():
    lc.set_seed(0)
    X, y = np.random.default_rng(0).random((40, 10, 1)), np.random.default_rng(1).random(40)
    model = lc.Sequential([
        lc.layers.LSTM(8, return_sequences=True, input_shape=(10, 1)),
        lc.layers.LSTM(8),
        lc.layers.Dense(1),
    ])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    history = model.fit(X, y, epochs=2, batch_size=16, validation_split=0.1, verbose=0)
    assert set(history.history) == {"loss", "mae", "val_loss", "val_mae"}
    assert history.epoch == [0, 1]


def test_summary_prints_shapes_and_parameter_counts():
    model = lc.Sequential([lc.layers.LSTM(50, return_sequences=True, input_shape=(10, 1)),
                           lc.layers.LSTM(50), lc.layers.Dense(1)])
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "(None, 10, 50)" in text and "(None, 50)" in text and "(None, 1)" in text
    assert "10,400" in text and "20,200" in text and "Total params: 30,651" in text


def test_deferred_build_happens_on_first_fit():
    model = lc.Sequential()
    model.add(lc.layers.LSTM(4))
    model.add(lc.layers.Dense(1))
    assert not model.built
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.zeros((8, 5, 3)), np.zeros(8), verbose=0)
    assert model.built and model.layers[0].kernel.shape == (3, 16)


def test_input_layer_declares_the_shape():
    model = lc.Sequential([lc.layers.Input(shape=(7, 2)), lc.layers.LSTM(3), lc.layers.Dense(2)])
    assert model.built and model.output_shape == (None, 2)
    assert len(model.layers) == 2


def test_keras_weight_order_and_shapes():
    model = lc.Sequential([lc.layers.LSTM(5, input_shape=(4, 3)), lc.layers.Dense(2)])
    shapes = [w.shape for w in model.get_weights()]
    assert shapes == [(3, 20), (5, 20), (20,), (5, 2), (2,)]
    bias = model.layers[0].bias
    np.testing.assert_array_equal(bias[5:10], 1.0)  # unit forget bias
    np.testing.assert_array_equal(np.delete(bias, np.s_[5:10]), 0.0)
    recurrent = model.layers[0].recurrent_kernel
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(5), atol=1e-5)  # orthogonal rows


def test_set_weights_round_trips_and_keeps_training_views():
    model = lc.Sequential([lc.layers.LSTM(3, input_shape=(4, 2)), lc.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    new = [np.full(w.shape, 0.1 * (i + 1), np.float32) for i, w in enumerate(model.get_weights())]
    model.set_weights(new)
    for got, want in zip(model.get_weights(), new):
        np.testing.assert_array_equal(got, want)
    model.fit(np.ones((4, 4, 2)), np.ones(4), verbose=0)
    assert not np.array_equal(model.get_weights()[0], new[0])  # the views were trained in place


def test_predict_handles_any_batch_size():
    model = lc.Sequential([lc.layers.LSTM(3, input_shape=(4, 2)), lc.layers.Dense(1)])
    x = np.random.default_rng(0).random((37, 4, 2))
    whole = model.predict(x, batch_size=37)
    for batch_size in (1, 5, 32, 100):
        np.testing.assert_allclose(model.predict(x, batch_size=batch_size), whole, rtol=1e-6, atol=1e-7)
    assert model.predict(x[:0]).shape == (0, 1)


def test_train_on_batch_test_on_batch_predict_on_batch():
    model = lc.Sequential([lc.layers.LSTM(3, input_shape=(4, 2)), lc.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    x, y = np.ones((6, 4, 2)), np.zeros(6)
    loss, mae = model.train_on_batch(x, y)
    assert loss > 0 and mae > 0
    logs = model.test_on_batch(x, y, return_dict=True)
    assert set(logs) == {"loss", "mae"}
    assert model.predict_on_batch(x).shape == (6, 1)


def test_float64_models_compute_in_float64():
    model = lc.Sequential([lc.layers.LSTM(3, input_shape=(4, 2)), lc.layers.Dense(1)], dtype="float64")
    assert all(w.dtype == np.float64 for w in model.get_weights())
    assert model.predict(np.ones((2, 4, 2))).dtype == np.float64


def test_set_floatx_changes_the_default_dtype():
    lc.set_floatx("float64")
    try:
        model = lc.Sequential([lc.layers.Dense(2, input_shape=(3,))])
        assert model.get_weights()[0].dtype == np.float64
    finally:
        lc.set_floatx("float32")


@pytest.mark.parametrize("loss, activation, y", [
    ("binary_crossentropy", "sigmoid", "binary"),
    ("categorical_crossentropy", "softmax", "onehot"),
    ("sparse_categorical_crossentropy", "softmax", "sparse"),
], ids=["binary-accuracy", "categorical-accuracy", "sparse-categorical-accuracy"])
def test_accuracy_picks_the_keras_variant(loss, activation, y):
    rng = np.random.default_rng(0)
    x = rng.random((20, 5, 2))
    units = 1 if y == "binary" else 3
    labels = rng.integers(0, units if units > 1 else 2, 20)
    target = {"binary": labels.astype(float), "onehot": np.eye(3)[labels], "sparse": labels}[y]
    model = lc.Sequential([lc.layers.LSTM(4, input_shape=(5, 2)), lc.layers.Dense(units, activation=activation)])
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    _, accuracy = model.evaluate(x, target, verbose=0)
    pred = model.predict(x)
    expected = np.mean((pred[:, 0] > 0.5) == labels) if y == "binary" else np.mean(pred.argmax(1) == labels)
    assert accuracy == pytest.approx(expected)

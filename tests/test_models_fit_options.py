"""fit's options do what Keras's do: validation_split, shuffle, weights, verbose, stateful layers."""
import numpy as np
import pytest

import lstmcore as lc
from lstmcore import callbacks as cb
from lstmcore import layers as L


def _model(seed=0, **compile_kwargs):
    lc.set_seed(seed)
    model = lc.Sequential([L.LSTM(4, input_shape=(5, 2)), L.Dense(1)])
    model.compile(**{"optimizer": "sgd", "loss": "mse", **compile_kwargs})
    return model


def _data(n=20, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 5, 2)), rng.standard_normal(n)


def test_validation_split_holds_out_the_last_fraction():
    x, y = _data()
    model = _model()
    history = model.fit(x, y, epochs=1, validation_split=0.25, shuffle=False, verbose=0)
    expected = _model()
    expected.fit(x[:15], y[:15], epochs=1, shuffle=False, verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(expected.evaluate(x[15:], y[15:], verbose=0))


def test_validation_split_rounds_the_training_side_down_as_keras():
    """10 examples, 0.25 held out: Keras trains on floor(7.5) = 7 and validates on 3."""
    x, y = _data(10)
    history = _model().fit(x, y, epochs=1, validation_split=0.25, shuffle=False, verbose=0)
    expected = _model()
    expected.fit(x[:7], y[:7], epochs=1, shuffle=False, verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(expected.evaluate(x[7:], y[7:], verbose=0))


def test_shuffle_false_visits_batches_in_order():
    x, y = _data()
    seen = []

    class Spy(cb.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            seen.append(batch)

    model = _model()
    original = model._train_step
    batches = []
    model._train_step = lambda xb, yb, wb, lb: batches.append(xb.copy()) or original(xb, yb, wb, lb)
    model.fit(x, y, batch_size=8, shuffle=False, callbacks=[Spy()], verbose=0)
    assert seen == [0, 1, 2]
    np.testing.assert_array_equal(np.concatenate(batches), x.astype(np.float32))


def test_shuffle_true_changes_the_order_each_epoch():
    x, y = _data()
    model = _model()
    firsts = []
    original = model._train_step
    model._train_step = lambda xb, yb, wb, lb: firsts.append(xb[0, 0, 0]) or original(xb, yb, wb, lb)
    model.fit(x, y, batch_size=20, epochs=3, verbose=0)
    assert len(set(firsts)) > 1


def test_sample_weight_zero_removes_samples_and_class_weight_scales_them():
    x, y = _data()
    a, b = _model(), _model()
    start = a.get_weights()
    weights = np.r_[np.ones(10), np.zeros(10)]
    a.fit(x, y, batch_size=20, sample_weight=weights, shuffle=False, verbose=0)
    b.fit(x[:10], y[:10], batch_size=10, shuffle=False, verbose=0)
    # Keras divides by the batch size, so ten zero weights halve the SGD step of the other ten.
    for wa, wb, w0 in zip(a.get_weights(), b.get_weights(), start):
        np.testing.assert_allclose(wa - w0, 0.5 * (wb - w0), rtol=1e-4, atol=1e-7)
    labels = (y > 0).astype(int)
    c, d = _model(loss="binary_crossentropy"), _model(loss="binary_crossentropy")
    c.fit(x, labels, batch_size=20, class_weight={0: 0.0, 1: 2.0}, shuffle=False, verbose=0)
    d.fit(x, labels, batch_size=20, sample_weight=np.where(labels == 1, 2.0, 0.0), shuffle=False, verbose=0)
    for wc, wd in zip(c.get_weights(), d.get_weights()):
        np.testing.assert_array_equal(wc, wd)


def test_verbose_one_draws_a_progress_bar_on_stderr(capsys):
    x, y = _data()
    _model().fit(x, y, epochs=2, batch_size=8, validation_split=0.2, verbose=1)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Epoch 1/2" in captured.err and "Epoch 2/2" in captured.err and "val_loss" in captured.err


def test_verbose_zero_is_silent(capsys):
    x, y = _data()
    _model().fit(x, y, epochs=1, verbose=0)
    assert capsys.readouterr() == ("", "")


def test_stateful_lstm_carries_state_until_reset():
    lc.set_seed(1)
    layer = L.LSTM(3, stateful=True, return_sequences=True, dtype="float64")
    x = np.random.default_rng(1).standard_normal((2, 6, 2))
    whole = layer(x)
    layer.reset_states()
    first = layer(x[:, :3])
    second = layer(x[:, 3:])
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, rtol=1e-12)
    layer.reset_states()
    np.testing.assert_allclose(layer(x[:, :3]), first, rtol=1e-12)
    with pytest.raises(ValueError, match="batch size"):
        layer(x[:1, :3])


def test_embedding_layer_normalization_and_time_distributed_train():
    lc.set_seed(2)
    rng = np.random.default_rng(2)
    tokens = rng.integers(1, 6, (32, 7))
    tokens[::3, 4:] = 0
    labels = (tokens == 3).astype(int)
    model = lc.Sequential([L.Embedding(6, 8, mask_zero=True), L.LSTM(8, return_sequences=True),
                           L.LayerNormalization(), L.TimeDistributed(L.Dense(2, activation="softmax"))])
    model.compile(optimizer=lc.optimizers.Adam(0.02), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(tokens, labels, epochs=15, batch_size=8, verbose=0)
    assert history.history["accuracy"][-1] > 0.95


def test_dropout_is_active_in_fit_and_off_in_predict():
    lc.set_seed(3)
    model = lc.Sequential([L.Dense(50, input_shape=(4,)), L.Dropout(0.5)])
    x = np.ones((3, 4))
    np.testing.assert_array_equal(model.predict(x), model.predict(x))
    trained = model(x, training=True)
    assert np.mean(trained == 0) > 0.2


def test_model_call_and_predict_agree():
    x, _ = _data()
    model = _model()
    np.testing.assert_allclose(model(x), model.predict(x), rtol=1e-6)


def test_steps_per_epoch_on_arrays_continues_the_pass_as_keras_does():
    """Keras 3: an epoch of steps_per_epoch batches, the next epoch going on where it stopped; a pass
    that runs out ends the epoch early (warned) and the next epoch starts over."""
    x, y = _data(32)
    model = _model()
    seen = []
    original = model._train_step
    model._train_step = lambda xb, yb, wb, lb: seen.append(xb[:, 0, 0].copy()) or original(xb, yb, wb, lb)
    model.fit(x, y, batch_size=8, epochs=2, steps_per_epoch=1, shuffle=False, verbose=0)
    np.testing.assert_array_equal(np.concatenate(seen), x[:16, 0, 0].astype(np.float32))
    seen.clear()
    with pytest.warns(UserWarning, match=r"ran out of data: an epoch of steps_per_epoch=3 batches ended after 1"):
        history = model.fit(x, y, batch_size=8, epochs=3, steps_per_epoch=3, shuffle=False, verbose=0)
    starts = [batch[0] for batch in seen]
    np.testing.assert_array_equal(starts, x[[0, 8, 16, 24, 0, 8, 16], 0, 0].astype(np.float32))
    assert len(history.history["loss"]) == 3
    with pytest.raises(ValueError, match=r"steps_per_epoch must be a positive integer or None"):
        model.fit(x, y, steps_per_epoch=0, verbose=0)

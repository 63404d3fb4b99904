"""Padded batches with lengths train exactly like the unpadded sequences; masking semantics."""
import warnings

import numpy as np
import pytest

import lstmcore as lc
from lstmcore import layers as L


def _model(layers, steps, features, loss="mse", seed=0, optimizer="sgd"):
    lc.set_seed(seed)
    model = lc.Sequential(layers, dtype="float64")
    model.build((None, steps, features))
    model.compile(optimizer=optimizer, loss=loss)
    return model


def _gradients(model, x, y, lengths=None):
    y = model._prepare_y(y, x)
    out, out_lengths = model._forward(x, training=True, lengths=lengths, keep_cache=True)
    _, grad, _ = model._loss_and_gradients(y, out, out_lengths, None)
    model._backward(grad)
    return model._flat_grads.copy()


def test_fit_on_padded_batches_with_lengths_equals_fit_on_unpadded_sequences():
    rng = np.random.default_rng(0)
    real = rng.standard_normal((16, 6, 2))
    padded = np.concatenate([real, rng.standard_normal((16, 4, 2)) * 100], axis=1)  # junk padding
    y = rng.standard_normal(16)
    layers = lambda: [L.LSTM(5, return_sequences=True), L.LSTM(4), L.Dense(1)]
    short = _model(layers(), 6, 2, optimizer="adam")
    long = _model(layers(), 10, 2, optimizer="adam")
    lc.set_seed(1)
    short.fit(real, y, epochs=3, batch_size=4, verbose=0)
    lc.set_seed(1)
    long.fit(padded, y, epochs=3, batch_size=4, lengths=np.full(16, 6), verbose=0)
    for a, b in zip(short.get_weights(), long.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_padded_batch_gradient_is_the_mean_of_per_sequence_gradients():
    rng = np.random.default_rng(1)
    lengths = np.array([7, 2, 5, 4])
    x = rng.standard_normal((4, 7, 3))
    y = rng.standard_normal(4)
    model = _model([L.LSTM(4, return_sequences=True), L.LSTM(3), L.Dense(1)], 7, 3)
    batch = _gradients(model, x, y, lengths)
    singles = [_gradients(model, x[b:b + 1, :n], y[b:b + 1]) for b, n in enumerate(lengths)]
    np.testing.assert_allclose(batch, np.mean(singles, axis=0), rtol=1e-10, atol=1e-12)


def test_per_step_tagger_with_lengths_weights_each_real_step_equally():
    rng = np.random.default_rng(2)
    lengths = np.array([6, 3, 1])
    x = rng.standard_normal((3, 6, 2))
    y = rng.integers(0, 2, (3, 6))
    model = _model([L.Bidirectional(L.LSTM(3, return_sequences=True)), L.Dense(2, activation="softmax")],
                   6, 2, loss="sparse_categorical_crossentropy")
    batch = _gradients(model, x, y, lengths)
    singles = [_gradients(model, x[b:b + 1, :n], y[b:b + 1, :n]) * n for b, n in enumerate(lengths)]
    np.testing.assert_allclose(batch, np.sum(singles, axis=0) / lengths.sum(), rtol=1e-10, atol=1e-12)


def test_masking_layer_equals_explicit_lengths():
    rng = np.random.default_rng(3)
    lengths = np.array([5, 2, 4])
    x = rng.standard_normal((3, 5, 2))
    for b, n in enumerate(lengths):
        x[b, n:] = 0.0
    masked = _model([L.Masking(), L.LSTM(3, return_sequences=True), L.LSTM(2)], 5, 2)
    plain = _model([L.LSTM(3, return_sequences=True), L.LSTM(2)], 5, 2)
    plain.set_weights(masked.get_weights())
    np.testing.assert_allclose(masked.predict(x), plain.predict(x, lengths=lengths), rtol=1e-12)
    np.testing.assert_allclose(masked.predict(x)[1], plain.predict(x[1:2, :2])[0], rtol=1e-10)


def test_masked_steps_repeat_the_last_output_as_keras_does():
    lc.set_seed(4)
    layer = L.LSTM(3, return_sequences=True, dtype="float64")
    x = np.random.default_rng(4).standard_normal((2, 5, 2))
    out = layer(x, lengths=np.array([5, 2]))
    np.testing.assert_array_equal(out[1, 2], out[1, 1])
    np.testing.assert_array_equal(out[1, 4], out[1, 1])
    zero = L.LSTM(3, return_sequences=True, zero_output_for_mask=True, dtype="float64")
    zero.build((None, 5, 2))
    zero.set_weights(layer.get_weights())
    np.testing.assert_array_equal(zero(x, lengths=np.array([5, 2]))[1, 2:], 0.0)


def test_bidirectional_zeroes_masked_steps():
    layer = L.Bidirectional(L.LSTM(3, return_sequences=True), dtype="float64")
    out = layer(np.random.default_rng(5).standard_normal((2, 5, 2)), lengths=np.array([5, 3]))
    np.testing.assert_array_equal(out[1, 3:], 0.0)
    assert np.all(out[1, :3] != 0)


def test_go_backwards_returns_outputs_in_processing_order():
    lc.set_seed(6)
    x = np.random.default_rng(6).standard_normal((2, 5, 2))
    backwards = L.LSTM(3, return_sequences=True, go_backwards=True, dtype="float64")
    forwards = L.LSTM(3, return_sequences=True, dtype="float64")
    backwards.build((None, 5, 2))
    forwards.build((None, 5, 2))
    forwards.set_weights(backwards.get_weights())
    np.testing.assert_allclose(backwards(x), forwards(x[:, ::-1]), rtol=1e-12)


def test_embedding_mask_zero_gives_lengths():
    lc.set_seed(7)
    tokens = np.array([[3, 1, 2, 0, 0], [4, 0, 0, 0, 0]])
    model = lc.Sequential([L.Embedding(5, 4, mask_zero=True), L.LSTM(3)], dtype="float64")
    out = model.predict(tokens)
    np.testing.assert_allclose(out[1], model.predict(tokens[1:2, :1])[0], rtol=1e-12)


def test_fit_accepts_validation_lengths_and_masks_metrics():
    rng = np.random.default_rng(8)
    x, y = rng.standard_normal((10, 6, 2)), rng.integers(0, 2, (10, 6))
    model = _model([L.LSTM(3, return_sequences=True), L.Dense(1, activation="sigmoid")], 6, 2,
                   loss="binary_crossentropy")
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    lengths = rng.integers(1, 7, 10)
    history = model.fit(x, y, lengths=lengths, validation_data=(x, y), validation_lengths=lengths,
                        epochs=1, verbose=0)
    loss, accuracy = model.evaluate(x, y, lengths=lengths, verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(loss)
    pred = model.predict(x, lengths=lengths)[..., 0] > 0.5
    real = np.arange(6) < lengths[:, None]
    assert accuracy == pytest.approx(np.mean((pred == y)[real]))


def test_padding_before_real_steps_warns_that_keras_would_skip_it():
    """pad_sequences pads at the start by default; lstmcore's masks are trailing lengths, so a masked
    step before a real one runs as data.  Said once, in a warning, instead of silently differing."""
    model = lc.Sequential([L.Embedding(5, 4, mask_zero=True), L.LSTM(3)])
    with pytest.warns(UserWarning, match=r"masked steps before a sequence's last real step.*padding='post'"):
        model.predict(lc.utils.pad_sequences([[3, 1, 2], [4]], maxlen=5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.predict(lc.utils.pad_sequences([[3, 1, 2], [4]], maxlen=5, padding="post"))
        lc.Sequential([L.Masking(), L.LSTM(2)]).predict(np.ones((2, 4, 3)))

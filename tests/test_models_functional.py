"""The functional API: Input, layers called on symbolic tensors, Model(inputs, outputs).

Outputs against the same model written by hand in NumPy (the LSTM by the
reference implementation), gradients of the whole graph (two inputs, two
outputs, a shared layer, an encoder's states as a decoder's initial state)
against central finite differences in float64, files and configs.
"""
import numpy as np
import pytest

import lstmcore as lc
from lstmcore import _reference
from lstmcore import layers as L

EPS = 1e-6


def _two_by_two(dtype="float64"):
    """Inputs a (6 steps x 3) and b (4); outputs o1 (regression) and o2 (2 classes); Dense `shared` used twice."""
    lc.set_seed(3)
    a = lc.Input(shape=(6, 3), name="a", dtype=dtype)
    b = lc.Input(shape=(4,), name="b", dtype=dtype)
    shared = L.Dense(4, activation="tanh", name="shared")
    h = L.LSTM(4, name="lstm")(a)
    from_b = shared(b)
    from_h = shared(h)
    joined = L.Concatenate(name="cat")([from_b, from_h])
    o1 = L.Dense(1, name="o1")(joined)
    o2 = L.Dense(2, activation="softmax", name="o2")(from_h)
    return lc.Model(inputs=[a, b], outputs=[o1, o2])


def _data(seed=0, samples=5):
    rng = np.random.default_rng(seed)
    return ([rng.normal(size=(samples, 6, 3)), rng.normal(size=(samples, 4))],
            [rng.normal(size=(samples, 1)), rng.integers(0, 2, samples)])


def _dense(layer, x):
    kernel, bias = layer.get_weights()
    return x @ kernel + bias


def _by_hand(model, a, b):
    lstm = model.get_layer("lstm")
    h = _reference.lstm_forward(a, *lstm.get_weights())[1]
    shared = model.get_layer("shared")
    from_b, from_h = np.tanh(_dense(shared, b)), np.tanh(_dense(shared, h))
    o1 = _dense(model.get_layer("o1"), np.concatenate([from_b, from_h], axis=1))
    logits = _dense(model.get_layer("o2"), from_h)
    o2 = np.exp(logits - logits.max(axis=1, keepdims=True))
    return o1, o2 / o2.sum(axis=1, keepdims=True)


def test_two_inputs_two_outputs_match_the_model_written_by_hand():
    model = _two_by_two()
    (a, b), _ = _data()
    o1, o2 = model.predict([a, b], verbose=0)
    want1, want2 = _by_hand(model, a, b)
    np.testing.assert_allclose(o1, want1, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(o2, want2, rtol=1e-10, atol=1e-12)
    by_name = model.predict({"b": b, "a": a}, verbose=0)
    np.testing.assert_array_equal(by_name[0], o1)


def _total_loss(model, x, y):
    out, lengths = model._forward(x, training=False, lengths=None, keep_cache=False)
    return model._loss_and_gradients(y, out, lengths, None, gradients=False)[0]


def _check_graph_gradients(model, x, y, probes=40):
    y = model._prepare_y(y, x)
    out, lengths = model._forward(x, training=True, lengths=None, keep_cache=True)
    _, grads, _ = model._loss_and_gradients(y, out, lengths, None)
    d_inputs = model._backward(grads)
    analytic = model._flat_grads.copy()
    params = model._flat_params
    rng = np.random.default_rng(1)
    for k in rng.choice(params.size, size=min(probes, params.size), replace=False):
        keep = params[k]
        params[k] = keep + EPS
        up = _total_loss(model, x, y)
        params[k] = keep - EPS
        down = _total_loss(model, x, y)
        params[k] = keep
        np.testing.assert_allclose(analytic[k], (up - down) / (2 * EPS), rtol=1e-5, atol=1e-9,
                                   err_msg=f"weight entry {k}")
    return d_inputs


def test_graph_gradients_with_a_shared_layer_and_loss_weights_match_finite_differences():
    model = _two_by_two()
    model.compile(optimizer="adam", loss={"o1": "mse", "o2": "sparse_categorical_crossentropy"},
                  loss_weights={"o1": 0.7, "o2": 1.9})
    x, y = _data()
    d_a, d_b = _check_graph_gradients(model, x, y)
    prepared = model._prepare_y(y, x)
    for which, d_input in ((0, d_a), (1, d_b)):
        index = (1,) + (2,) * (x[which].ndim - 1)
        keep = x[which][index]
        x[which][index] = keep + EPS
        up = _total_loss(model, x, prepared)
        x[which][index] = keep - EPS
        down = _total_loss(model, x, prepared)
        x[which][index] = keep
        np.testing.assert_allclose(d_input[index], (up - down) / (2 * EPS), rtol=1e-5, atol=1e-9)


def test_the_loss_is_the_weighted_sum_of_each_outputs_loss():
    model = _two_by_two()
    model.compile(optimizer="sgd", loss=["mse", "sparse_categorical_crossentropy"], loss_weights=[0.25, 2.0],
                  metrics={"o2": ["accuracy"]})
    x, (y1, y2) = _data(samples=8)
    o1, o2 = model.predict(x, verbose=0)
    want = 0.25 * np.mean((o1 - y1) ** 2) + 2.0 * np.mean(-np.log(o2[np.arange(8), y2]))
    logs = model.evaluate(x, [y1, y2], verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(want, rel=1e-9)
    assert logs["o2_accuracy"] == pytest.approx(np.mean(o2.argmax(axis=1) == y2))
    # Keras 3's logs: each output's own loss, before its loss weight, then the metrics, in that order
    assert list(logs) == ["loss", "o1_loss", "o2_loss", "o2_accuracy"] == model.metrics_names
    assert logs["o1_loss"] == pytest.approx(np.mean((o1 - y1) ** 2), rel=1e-9)
    assert logs["o2_loss"] == pytest.approx(np.mean(-np.log(o2[np.arange(8), y2])), rel=1e-9)
    assert model.evaluate(x, [y1, y2], verbose=0, batch_size=3) == pytest.approx(list(logs.values()), rel=1e-9)
    history = model.fit(x, [y1, y2], epochs=2, validation_data=(x, [y1, y2]), verbose=0,
                        callbacks=[lc.callbacks.EarlyStopping(monitor="val_o2_loss", patience=5)])
    assert {"o1_loss", "o2_loss", "val_o1_loss", "val_o2_loss"} <= set(history.history)


def test_encoder_states_as_decoder_initial_state_gradients_and_training():
    lc.set_seed(0)
    encoder_in = lc.Input(shape=(5, 3), dtype="float64")
    decoder_in = lc.Input(shape=(4, 2), dtype="float64")
    _, h, c = L.LSTM(6, return_state=True)(encoder_in)
    decoded = L.LSTM(6, return_sequences=True)(decoder_in, initial_state=[h, c])
    out = L.TimeDistributed(L.Dense(2, activation="softmax"))(decoded)
    model = lc.Model([encoder_in, decoder_in], out)
    model.compile(optimizer=lc.optimizers.Adam(learning_rate=0.05), loss="categorical_crossentropy")
    rng = np.random.default_rng(4)
    x = [rng.normal(size=(6, 5, 3)), rng.normal(size=(6, 4, 2))]
    y = np.eye(2)[rng.integers(0, 2, size=(6, 4))]
    d_encoder, d_decoder = _check_graph_gradients(model, x, y)
    assert np.abs(d_encoder).sum() > 0  # the encoder learns through the decoder's initial state
    history = model.fit(x, y, epochs=60, batch_size=6, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def test_fit_save_load_and_config_round_trip(tmp_path):
    model = _two_by_two(dtype="float32")
    model.compile(optimizer="adam", loss=["mse", "sparse_categorical_crossentropy"], metrics=[[], ["accuracy"]])
    x, y = _data(samples=32)
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0, validation_split=0.25)
    assert set(history.history) == {"loss", "o1_loss", "o2_loss", "o2_accuracy",
                                    "val_loss", "val_o1_loss", "val_o2_loss", "val_o2_accuracy"}
    model.save(tmp_path / "two.lstm")
    loaded = lc.load_model(tmp_path / "two.lstm")
    assert isinstance(loaded, lc.Model) and loaded.input_names == ["a", "b"] and loaded.output_names == ["o1", "o2"]
    for mine, theirs in zip(model.predict(x, verbose=0), loaded.predict(x, verbose=0)):
        np.testing.assert_array_equal(mine, theirs)
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)
    again = lc.Model.from_config(model.get_config())
    again.set_weights(model.get_weights())
    np.testing.assert_array_equal(again.predict(x, verbose=0)[1], model.predict(x, verbose=0)[1])


def test_token_input_with_embedding_trains():
    lc.set_seed(1)
    tokens = lc.Input(shape=(None,), dtype="int32")
    embedded = L.Embedding(20, 8, mask_zero=True)(tokens)
    score = L.Dense(1, activation="sigmoid")(L.LSTM(8)(embedded))
    model = lc.Model(tokens, score)
    model.compile(optimizer=lc.optimizers.Adam(learning_rate=0.02), loss="binary_crossentropy",
                  metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x = rng.integers(1, 20, size=(64, 12))
    x[:, 9:] = 0                                  # padding the mask removes
    y = (x[:, 8] > 10).astype("float32")
    history = model.fit(x, y, epochs=40, batch_size=16, verbose=0)
    assert history.history["accuracy"][-1] > 0.9
    np.testing.assert_allclose(model.predict(x, verbose=0), model.predict(x[:, :9], verbose=0), rtol=1e-5)


def test_sequential_is_the_chain_special_case_of_model():
    model = lc.Sequential([lc.Input(shape=(5, 2)), L.LSTM(3, name="first"), L.Dense(1)])
    assert isinstance(model, lc.Model)
    branch = lc.Model(model.input, model.get_layer("first").output)
    x = np.random.default_rng(0).normal(size=(4, 5, 2)).astype("float32")
    np.testing.assert_array_equal(branch.predict(x, verbose=0), model.layers[0](x))


@pytest.mark.parametrize("build, message", [
    (lambda: lc.Model(), "Model(inputs, outputs) builds a functional model"),
    (lambda: lc.Model(np.zeros(3), np.zeros(3)), "inputs must be symbolic tensors"),
    (lambda: (lambda a, b: lc.Model(a, L.Concatenate()([L.Dense(2)(a), b])))(lc.Input(shape=(2,)), lc.Input(shape=(2,))),
     "which is not among the model's inputs"),
    (lambda: (lambda a: lc.Model(a, L.Dense(1, name="same")(L.Dense(2, name="same")(a))))(lc.Input(shape=(2,))),
     "'same' is used twice"),
])
def test_graph_errors_say_what_is_wrong(build, message):
    with pytest.raises((TypeError, ValueError), match=message.replace("(", r"\(").replace(")", r"\)")):
        build()


def test_inputs_are_checked_against_the_graph():
    model = _two_by_two(dtype="float32")
    (a, b), _ = _data()
    with pytest.raises(ValueError, match=r"must hold 2 arrays, one per input \(a, b\)"):
        model.predict([a], verbose=0)
    with pytest.raises(ValueError, match="has no array for the input 'b'"):
        model.predict({"a": a}, verbose=0)
    with pytest.raises(ValueError, match=r"x\[1\] must have shape \(samples, 4\) for the input 'b'"):
        model.predict([a, np.zeros((5, 3))], verbose=0)
    with pytest.raises(TypeError, match="cannot be iterated"):
        list(lc.Input(shape=(3,)))


def test_to_json_round_trip_and_keras_json():
    import json
    import zipfile
    from pathlib import Path

    model = _two_by_two(dtype="float32")
    again = lc.models.model_from_json(model.to_json())
    assert [type(layer).__name__ for layer in again.layers] == [type(layer).__name__ for layer in model.layers]
    again.set_weights(model.get_weights())
    x, _ = _data()
    np.testing.assert_array_equal(again.predict(x, verbose=0)[0], model.predict(x, verbose=0)[0])
    keras_file = Path(__file__).parent / "data" / "keras" / "danq_like.keras"
    keras_json = zipfile.ZipFile(keras_file).read("config.json").decode()
    from_keras = lc.models.model_from_json(keras_json)
    assert [layer.name for layer in from_keras.layers][:2] == ["conv1d", "max_pooling1d"]
    assert json.loads(from_keras.to_json())["class_name"] == "Sequential"

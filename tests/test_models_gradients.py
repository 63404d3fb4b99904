"""Whole-model and per-layer gradients against central finite differences, in float64."""
import numpy as np
import pytest

import lstmcore as lc
from lstmcore import layers as L

EPS = 1e-6
RTOL, ATOL = 1e-5, 1e-8


def _model_loss(model, x, y, lengths, sample_weight=None):
    out, out_lengths = model._forward(x, training=False, lengths=lengths, keep_cache=False)
    weights, count = model._loss_weights(sample_weight, out_lengths, out)
    values = model.loss.values(y, out)
    total = values.sum() if weights is None else (values * weights).sum()
    return total / count + model._regularization_loss(False)


def _model_gradients(model, x, y, lengths, sample_weight=None):
    """Analytic gradients (weights, input) through the same path fit() uses."""
    out, out_lengths = model._forward(x, training=True, lengths=lengths, keep_cache=True)
    _, grad, _ = model._loss_and_gradients(y, out, out_lengths, sample_weight)
    d_x = model._backward(grad)
    model._regularization_loss(add_gradients=True)
    return model._flat_grads.copy(), d_x


def _check_model(model, x, y, lengths=None, sample_weight=None, n_params=60, seed=0, real_steps=None):
    """Compare analytic and numeric gradients; `real_steps` (batch, steps) limits input probes."""
    y = model._prepare_y(y, x)
    grads, d_x = _model_gradients(model, x, y, lengths, sample_weight)
    params = model._flat_params
    rng = np.random.default_rng(seed)
    for k in rng.choice(params.size, size=min(n_params, params.size), replace=False):
        keep = params[k]
        params[k] = keep + EPS
        up = _model_loss(model, x, y, lengths, sample_weight)
        params[k] = keep - EPS
        down = _model_loss(model, x, y, lengths, sample_weight)
        params[k] = keep
        np.testing.assert_allclose(grads[k], (up - down) / (2 * EPS), rtol=RTOL, atol=ATOL,
                                   err_msg=f"weight entry {k}")
    if d_x is not None:
        for index in [tuple(rng.integers(0, s) for s in x.shape) for _ in range(15)]:
            if real_steps is not None and not real_steps[index[:2]]:
                continue  # a nudge would unmask the step: not a smooth point
            keep = x[index]
            x[index] = keep + EPS
            up = _model_loss(model, x, y, lengths, sample_weight)
            x[index] = keep - EPS
            down = _model_loss(model, x, y, lengths, sample_weight)
            x[index] = keep
            np.testing.assert_allclose(d_x[index], (up - down) / (2 * EPS), rtol=RTOL, atol=ATOL,
                                       err_msg=f"input entry {index}")


def _build(layers, input_shape, loss, seed=0):
    lc.set_seed(seed)
    model = lc.Sequential(layers, dtype="float64")
    model.build((None,) + input_shape)
    model.compile(optimizer="sgd", loss=loss)
    return model


def test_lstm_stack_with_dense_mse():
    rng = np.random.default_rng(0)
    model = _build([L.LSTM(4, return_sequences=True), L.LSTM(3), L.Dense(2)], (6, 3), "mse")
    _check_model(model, rng.standard_normal((5, 6, 3)), rng.standard_normal((5, 2)))


def test_lstm_stack_with_lengths_and_regularizers():
    rng = np.random.default_rng(1)
    model = _build([L.LSTM(4, return_sequences=True, kernel_regularizer="l2"),
                    L.LSTM(3, recurrent_regularizer=lc.regularizers.L1L2(0.01, 0.02)),
                    L.Dense(1, kernel_regularizer="l1")], (7, 2), "mse")
    _check_model(model, rng.standard_normal((5, 7, 2)), rng.standard_normal(5),
                 lengths=np.array([7, 3, 0, 5, 1]))


def test_bidirectional_per_step_softmax_with_lengths():
    rng = np.random.default_rng(2)
    model = _build([L.Bidirectional(L.LSTM(3, return_sequences=True)), L.Dense(3, activation="softmax")],
                   (6, 2), "categorical_crossentropy")
    labels = np.eye(3)[rng.integers(0, 3, (4, 6))]
    _check_model(model, rng.standard_normal((4, 6, 2)), labels, lengths=np.array([6, 2, 4, 1]))


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave"])
def test_bidirectional_merge_modes_last_output(merge_mode):
    rng = np.random.default_rng(3)
    model = _build([L.Bidirectional(L.LSTM(3), merge_mode=merge_mode), L.Dense(1)], (5, 2), "mse")
    _check_model(model, rng.standard_normal((4, 5, 2)), rng.standard_normal(4), lengths=np.array([5, 1, 3, 4]))


def test_per_step_dense_and_layer_normalization_with_sample_weights():
    rng = np.random.default_rng(4)
    model = _build([L.LSTM(4, return_sequences=True), L.LayerNormalization(), L.Dense(3, activation="tanh"),
                    L.Dense(2)], (5, 2), "mse")
    _check_model(model, rng.standard_normal((4, 5, 2)), rng.standard_normal((4, 5, 2)),
                 sample_weight=np.array([1.0, 0.5, 2.0, 0.0]))


def test_masking_layer_feeds_lengths_to_the_lstm():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 6, 2))
    x[1, 3:] = 0.0
    x[2, 1:] = 0.0
    model = _build([L.Masking(0.0), L.LSTM(3, return_sequences=True), L.Dense(1)], (6, 2), "mse")
    _check_model(model, x, rng.standard_normal((4, 6, 1)), real_steps=np.any(x != 0, axis=-1))


def _loss_case(loss, activation, target):
    rng = np.random.default_rng(6)
    units = 3
    if target == "binary":
        y = rng.integers(0, 2, (5, units)).astype(float)
    elif target == "onehot":
        y = np.eye(units)[rng.integers(0, units, 5)]
    elif target == "sparse":
        y = rng.integers(0, units, 5)
    elif target == "counts":
        y = rng.poisson(1.0, (5, units)).astype(float)
    else:
        y = rng.standard_normal((5, units))
    model = _build([L.LSTM(4), L.Dense(units, activation=activation)], (4, 2), loss)
    _check_model(model, rng.standard_normal((5, 4, 2)), y)


@pytest.mark.parametrize("loss, activation, target", [
    ("mse", None, "real"),
    ("mae", None, "real"),
    (lc.losses.Huber(delta=0.5), None, "real"),
    ("binary_crossentropy", "sigmoid", "binary"),
    (lc.losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1), None, "binary"),
    ("categorical_crossentropy", "softmax", "onehot"),
    (lc.losses.CategoricalCrossentropy(from_logits=True), None, "onehot"),
    ("sparse_categorical_crossentropy", "softmax", "sparse"),
    (lc.losses.SparseCategoricalCrossentropy(from_logits=True), None, "sparse"),
    ("poisson", "sigmoid", "counts"),
], ids=["mse", "mae", "huber", "binary-crossentropy", "binary-crossentropy-logits-smoothing",
        "categorical-crossentropy", "categorical-crossentropy-logits", "sparse-categorical-crossentropy",
        "sparse-categorical-crossentropy-logits", "poisson"])
def test_each_loss_gradient(loss, activation, target):
    _loss_case(loss, activation, target)


# ----- single layers, with an arbitrary upstream gradient over every output ---------------------
def _check_layer(layer, x, lengths=None, seed=0):
    rng = np.random.default_rng(seed)
    layer._set_model_dtype("float64")
    layer.build((None,) + x.shape[1:])
    out = layer.forward(x, training=False, lengths=lengths, keep_cache=True)
    outs = out if isinstance(out, list) else [out]
    upstream = [rng.standard_normal(o.shape) for o in outs]
    d_x = layer.backward(upstream if isinstance(out, list) else upstream[0])
    grads = [g.copy() for g in layer.gradients]

    def objective():
        result = layer.forward(x, training=False, lengths=lengths, keep_cache=False)
        result = result if isinstance(result, list) else [result]
        return sum(float((r * u).sum()) for r, u in zip(result, upstream))

    def check_entries(array, gradient):
        """12 random entries of `gradient` against central differences of `objective`."""
        flat, flat_grad = array.reshape(-1), gradient.reshape(-1)
        for k in rng.choice(flat.size, size=min(12, flat.size), replace=False):
            keep = flat[k]
            flat[k] = keep + EPS
            up = objective()
            flat[k] = keep - EPS
            down = objective()
            flat[k] = keep
            np.testing.assert_allclose(flat_grad[k], (up - down) / (2 * EPS), rtol=RTOL, atol=ATOL)

    for weight, grad in zip(layer.weights, grads):
        check_entries(weight, grad)
    if d_x is not None:
        check_entries(x, d_x)


LENGTHS = np.array([5, 2, 0, 4])


@pytest.mark.parametrize("kwargs, lengths", [
    ({"return_sequences": True}, None),
    ({"return_sequences": True}, LENGTHS),
    ({"return_sequences": True, "zero_output_for_mask": True}, LENGTHS),
    ({"return_sequences": True, "go_backwards": True}, None),
    ({"return_sequences": True, "go_backwards": True}, LENGTHS),
    ({"go_backwards": True}, LENGTHS),
    ({"return_state": True}, None),
    ({"return_sequences": True, "return_state": True}, LENGTHS),
    ({"use_bias": False}, None),
], ids=["sequences", "sequences-lengths-repeat-last", "sequences-lengths-zero-output",
        "go-backwards-sequences", "go-backwards-sequences-lengths", "go-backwards-last-lengths",
        "return-state", "sequences-state-lengths", "no-bias"])
def test_lstm_layer_gradient(kwargs, lengths):
    x = np.random.default_rng(7).standard_normal((4, 5, 3))
    lc.set_seed(7)
    _check_layer(L.LSTM(3, **kwargs), x, lengths)


@pytest.mark.parametrize("activation", ["linear", "relu", "sigmoid", "tanh", "softmax", "elu", "selu", "softplus",
                                        "softsign", "leaky_relu", "relu6", "hard_sigmoid", "exponential"])
def test_dense_layer_gradient(activation):
    x = np.random.default_rng(8).standard_normal((3, 4, 5))
    _check_layer(L.Dense(4, activation=activation), x)


def test_embedding_gradient_accumulates_repeated_tokens():
    layer = L.Embedding(5, 3)
    layer._set_model_dtype("float64")
    layer.build((None, 4))
    tokens = np.array([[1, 1, 2, 0], [4, 1, 0, 0]])
    layer.forward(tokens, keep_cache=True)
    upstream = np.random.default_rng(9).standard_normal((2, 4, 3))
    layer.backward(upstream)
    expected = np.zeros((5, 3))
    for (b, t), token in np.ndenumerate(tokens):
        expected[token] += upstream[b, t]
    np.testing.assert_allclose(layer.gradients[0], expected)


def test_input_gradients_match_finite_differences_without_dropout():
    lc.set_seed(10)
    model = lc.Sequential([L.LSTM(4, dropout=0.5, return_sequences=True), L.Dropout(0.5), L.LSTM(3),
                           L.Dense(2)], dtype="float64")
    x = np.random.default_rng(10).standard_normal((3, 5, 2))
    grads = model.input_gradients(x, output_index=1)
    for index in [(0, 0, 0), (1, 4, 1), (2, 2, 0)]:
        up, down = x.copy(), x.copy()
        up[index] += EPS
        down[index] -= EPS
        numeric = (model.predict(up)[index[0], 1] - model.predict(down)[index[0], 1]) / (2 * EPS)
        np.testing.assert_allclose(grads[index], numeric, rtol=RTOL, atol=ATOL)


def test_input_gradients_leave_padded_steps_at_zero():
    model = lc.Sequential([L.Bidirectional(L.LSTM(3, return_sequences=True)), L.Dense(1)], dtype="float64")
    x = np.random.default_rng(11).standard_normal((2, 6, 2))
    grads = model.input_gradients(x, lengths=np.array([6, 3]))
    assert np.all(grads[1, 3:] == 0) and np.any(grads[1, :3] != 0)

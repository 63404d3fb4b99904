"""Optimizer updates, losses and metrics follow Keras's formulas; names resolve through the registries."""
import math

import numpy as np
import pytest

import lstmcore as lc
from lstmcore import losses, metrics, optimizers, registry


def _step(optimizer, grad, start, steps=1):
    variable = start.copy()
    for _ in range(steps):
        optimizer.apply_gradients([(grad.copy(), variable)])
    return variable


G = np.array([0.5, -1.0, 2.0])
W = np.array([1.0, 2.0, -3.0])


def test_adam_matches_the_keras_update_over_several_steps():
    lr, b1, b2, eps = 0.001, 0.9, 0.999, 1e-7
    m = v = np.zeros(3)
    expected = W.copy()
    for t in range(1, 4):
        m = m + (G - m) * (1 - b1)
        v = v + (G * G - v) * (1 - b2)
        expected = expected - lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (np.sqrt(v) + eps)
    np.testing.assert_allclose(_step(optimizers.Adam(), G, W, steps=3), expected, rtol=1e-12)


@pytest.mark.parametrize("dtype, rtol, atol", [(np.float32, 2e-6, 1e-6), (np.float64, 1e-13, 1e-15)])
def test_adam_one_native_pass_equals_the_numpy_update(dtype, rtol, atol, kernel_variant):
    """The flat buffer of a model goes through the native pass (each kernel variant's); a strided view
    through NumPy."""
    rng = np.random.default_rng(0)
    start = rng.standard_normal(1000).astype(dtype)
    grads = [rng.standard_normal(1000).astype(dtype) for _ in range(4)]
    native, strided = start.copy(), np.repeat(start, 2)[::2]
    native_opt, numpy_opt = optimizers.Adam(learning_rate=0.01), optimizers.Adam(learning_rate=0.01)
    assert optimizers._one_pass_ok(native, grads[0], native, native)
    assert not optimizers._one_pass_ok(strided, grads[0])
    for grad in grads:
        native_opt.apply([native], [grad.copy()])
        numpy_opt.apply([strided], [grad.copy()])
    assert native.dtype == strided.dtype == dtype
    assert not np.allclose(native, start)
    # a few ulp of the weights' magnitude (~1): FMA contraction and the order of operations
    np.testing.assert_allclose(native, strided, rtol=rtol, atol=atol)
    np.testing.assert_allclose(native_opt.get_state()["0.m"], numpy_opt.get_state()["0.m"], rtol=rtol, atol=atol)
    np.testing.assert_allclose(native_opt.get_state()["0.v"], numpy_opt.get_state()["0.v"], rtol=rtol, atol=atol)


def test_adamw_decays_the_weights_before_the_adam_step():
    got = _step(optimizers.AdamW(learning_rate=0.1, weight_decay=0.5), G, W)
    plain = _step(optimizers.Adam(learning_rate=0.1), G, W * (1 - 0.1 * 0.5))
    np.testing.assert_allclose(got, plain, rtol=1e-12)


@pytest.mark.parametrize("nesterov", [False, True], ids=["momentum", "nesterov"])
def test_sgd_momentum_matches_keras(nesterov):
    lr, mu = 0.1, 0.9
    m, expected = np.zeros(3), W.copy()
    for _ in range(3):
        m = mu * m - lr * G
        expected = expected + (mu * m - lr * G if nesterov else m)
    got = _step(optimizers.SGD(lr, momentum=mu, nesterov=nesterov), G, W, steps=3)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize("centered", [False, True])
@pytest.mark.parametrize("momentum", [0.0, 0.5])
def test_rmsprop_matches_keras(centered, momentum):
    """Keras 3's update (keras/src/optimizers/rmsprop.py): epsilon inside the square root.  Small
    gradients, where that placement matters: with it outside, the first step moved these weights
    5 to 20 times as far."""
    lr, rho, eps, g = 0.01, 0.9, 1e-7, G * 1e-4
    v, mg, m, expected = np.zeros(3), np.zeros(3), np.zeros(3), W.copy()
    for _ in range(3):
        v = rho * v + (1 - rho) * g * g
        mg = rho * mg + (1 - rho) * g
        increment = lr * g / np.sqrt((v - mg * mg if centered else v) + eps)
        m = momentum * m + increment
        expected = expected - (m if momentum else increment)
    optimizer = optimizers.RMSprop(lr, momentum=momentum, centered=centered)
    np.testing.assert_allclose(_step(optimizer, g, W, steps=3), expected, rtol=1e-12)


def test_clipping_by_value_norm_and_global_norm():
    sgd = lambda **kw: optimizers.SGD(1.0, **kw)
    np.testing.assert_allclose(_step(sgd(clipvalue=0.6), G, W), W - np.clip(G, -0.6, 0.6))
    norm = np.linalg.norm(G)
    np.testing.assert_allclose(_step(sgd(clipnorm=1.0), G, W), W - G / norm)
    opt = sgd(global_clipnorm=1.0)
    a, b = W.copy(), W[:2].copy()
    opt.apply_gradients([(G.copy(), a), (G[:2].copy(), b)])
    total = math.sqrt(norm ** 2 + np.linalg.norm(G[:2]) ** 2)
    np.testing.assert_allclose(a, W - G / total)
    np.testing.assert_allclose(b, W[:2] - G[:2] / total)


def test_clipnorm_is_per_weight_on_the_models_flat_buffer():
    opt = optimizers.SGD(1.0, clipnorm=1.0)
    flat = np.zeros(5)
    grad = np.array([3.0, 4.0, 0.1, 0.1, 0.1])
    opt.apply([flat], [grad], segments=[np.array([2, 3])])
    np.testing.assert_allclose(flat, -np.array([0.6, 0.8, 0.1, 0.1, 0.1]))


def test_learning_rate_schedules():
    assert optimizers.ExponentialDecay(0.1, 10, 0.5)(20) == pytest.approx(0.025)
    assert optimizers.ExponentialDecay(0.1, 10, 0.5, staircase=True)(15) == pytest.approx(0.05)
    assert optimizers.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])(15) == 0.5
    assert optimizers.CosineDecay(1.0, 10)(5) == pytest.approx(0.5)
    assert optimizers.InverseTimeDecay(1.0, 1, 1.0)(3) == pytest.approx(0.25)
    opt = optimizers.SGD(optimizers.ExponentialDecay(1.0, 1, 0.5))
    _step(opt, G, W, steps=2)
    assert opt.learning_rate == pytest.approx(0.25)


Y_TRUE = np.array([[0.0, 1.0], [1.0, 0.0]])
Y_PROB = np.array([[0.2, 0.8], [0.6, 0.4]])


@pytest.mark.parametrize("name, expected", [
    ("mse", np.mean((Y_TRUE - Y_PROB) ** 2)),
    ("mae", np.mean(np.abs(Y_TRUE - Y_PROB))),
    ("huber", np.mean(0.5 * (Y_TRUE - Y_PROB) ** 2)),
    ("binary_crossentropy", -np.mean(Y_TRUE * np.log(Y_PROB) + (1 - Y_TRUE) * np.log(1 - Y_PROB))),
    ("categorical_crossentropy", -np.mean(np.sum(Y_TRUE * np.log(Y_PROB), axis=1))),
    ("poisson", np.mean(Y_PROB - Y_TRUE * np.log(Y_PROB + 1e-7))),
])
def test_loss_values_follow_the_keras_formulas(name, expected):
    assert losses.get(name)(Y_TRUE, Y_PROB) == pytest.approx(expected, rel=1e-6)


def test_sparse_and_logit_losses_agree_with_their_dense_forms():
    logits = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])
    labels = np.array([2, 1])
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    dense = losses.CategoricalCrossentropy()(np.eye(3)[labels], probs)
    assert losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits) == pytest.approx(dense)
    assert losses.get("sparse_categorical_crossentropy")(labels, probs) == pytest.approx(dense)
    z = np.array([[2.0], [-1.0]])
    y = np.array([[1.0], [0.0]])
    assert losses.BinaryCrossentropy(from_logits=True)(y, z) == pytest.approx(
        losses.BinaryCrossentropy()(y, 1 / (1 + np.exp(-z))), rel=1e-6)


def test_sample_weight_reduction_is_sum_over_batch_size():
    loss = losses.get("mse")(Y_TRUE, Y_PROB, sample_weight=np.array([1.0, 0.0]))
    assert loss == pytest.approx(np.mean((Y_TRUE[0] - Y_PROB[0]) ** 2) / 2)


def test_a_loss_registered_by_a_plugin_is_usable_by_name():
    class Cubed(losses.Loss):
        name = "cubed"

        def values(self, y_true, y_pred):
            return np.abs(y_pred - y_true).mean(axis=-1) ** 3

    registry.losses.register("test_cubed", Cubed, owner="test-plugin")
    try:
        model = lc.Sequential([lc.layers.Dense(1, input_shape=(2,))])
        model.compile(optimizer="sgd", loss="test_cubed")
        assert isinstance(model.loss, Cubed)
    finally:
        registry.losses.unregister_owner("test-plugin")


def test_auc_matches_the_exact_rank_auc():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 400)
    scores = np.clip(labels * 0.3 + rng.random(400) * 0.7, 0, 1)
    auc = metrics.AUC(num_thresholds=2000)
    auc.update_state(labels[:200], scores[:200, None])
    auc.update_state(labels[200:], scores[200:, None])
    positive, negative = scores[labels == 1], scores[labels == 0]
    exact = np.mean(positive[:, None] > negative[None, :])
    assert auc.result() == pytest.approx(exact, abs=2e-3)
    pr = metrics.AUC(curve="PR", num_thresholds=2000)
    pr.update_state(labels, scores)
    assert 0.5 < pr.result() <= 1.0


def test_rmse_mae_and_masked_accuracy():
    rmse = metrics.get("rmse")
    assert rmse(np.array([1.0, 2.0]), np.array([[2.0], [4.0]])) == pytest.approx(math.sqrt(2.5))
    assert metrics.get("mae")(np.zeros((2, 1)), np.array([[1.0], [3.0]])) == pytest.approx(2.0)
    accuracy = metrics.get("sparse_categorical_accuracy")
    y = np.array([[0, 1, 1]])
    pred = np.eye(2)[[[0, 1, 0]]]
    assert accuracy(y, pred) == pytest.approx(2 / 3)
    assert accuracy(y, pred, sample_weight=np.array([[1, 1, 0]])) == pytest.approx(1.0)


@pytest.mark.parametrize("threshold", [None, 0.3])
def test_precision_and_recall_match_scikit_learn_over_every_output_element(threshold):
    """Keras's Precision/Recall: every element of a multi-label output counts, a prediction above the
    threshold is positive; sample weights weight a sample's elements; accumulated over batches."""
    from sklearn.metrics import precision_score, recall_score

    rng = np.random.default_rng(3)
    y_true, y_pred = rng.integers(0, 2, (40, 3)), rng.random((40, 3))
    weights = rng.random(40)
    cut = 0.5 if threshold is None else threshold
    labels, predicted, element_weights = y_true.ravel(), (y_pred > cut).ravel().astype(int), np.repeat(weights, 3)
    for metric_class, score in ((metrics.Precision, precision_score), (metrics.Recall, recall_score)):
        metric = metric_class(thresholds=threshold)
        metric.update_state(y_true[:25], y_pred[:25], weights[:25])
        metric.update_state(y_true[25:], y_pred[25:], weights[25:])
        assert metric.result() == pytest.approx(score(labels, predicted, sample_weight=element_weights), rel=1e-12)
    assert metrics.Precision()(np.zeros((2, 1)), np.zeros((2, 1))) == 0.0     # nothing predicted positive


def test_precision_and_recall_by_name_in_fit():
    x, y = np.random.default_rng(4).standard_normal((32, 4)), np.random.default_rng(5).integers(0, 2, (32, 1))
    model = lc.Sequential([lc.Input(shape=(4,)), lc.layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["precision", metrics.Recall(name="recall_at_half")])
    history = model.fit(x, y, epochs=1, verbose=0)
    assert {"precision", "recall_at_half"} <= set(history.history)
    with pytest.raises(ValueError, match=r"top_k and class_id are not supported"):
        metrics.Precision(top_k=2)

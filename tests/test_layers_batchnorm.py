"""BatchNormalization against torch.nn.BatchNorm1d (train and eval), finite differences, lengths, and fit."""
import numpy as np
import pytest
import torch

import lstmcore as lc
from lstmcore import layers as L
from layer_checks import (assert_config_round_trip, assert_save_load_identical, check_numeric_gradients,
                          ensure_built)

MOMENTUM, EPSILON = 0.99, 1e-3


def _layer(**options):
    lc.set_seed(0)
    return L.BatchNormalization(dtype="float64", gamma_initializer="random_normal",
                                beta_initializer="random_normal", **options)


def _torch_bn(layer, training):
    """A BatchNorm1d holding the layer's weights (torch momentum = 1 - Keras momentum)."""
    features = layer._params["moving_mean"].shape[0]
    bn = torch.nn.BatchNorm1d(features, eps=EPSILON, momentum=1 - MOMENTUM).double()
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(layer._params["gamma"]))
        bn.bias.copy_(torch.tensor(layer._params["beta"]))
        bn.running_mean.copy_(torch.tensor(layer._params["moving_mean"]))
        bn.running_var.copy_(torch.tensor(layer._params["moving_variance"]))
    return bn.train(training)


def _against_torch(x, training, moving=None):
    """Run layer and BatchNorm1d on x ((batch, features) or (batch, steps, features)); compare everything."""
    layer = ensure_built(_layer(), x)
    if moving is not None:
        layer.set_weights(layer.get_weights()[:2] + list(moving))
    bn = _torch_bn(layer, training)
    out = layer.forward(x, training=training, keep_cache=True)
    upstream = np.random.default_rng(5).standard_normal(out.shape)
    d_x = layer.backward(upstream)
    channels_first = x.transpose(0, 2, 1) if x.ndim == 3 else x
    xt = torch.tensor(np.ascontiguousarray(channels_first), requires_grad=True)
    expected = bn(xt)
    expected = expected.permute(0, 2, 1) if x.ndim == 3 else expected
    (expected * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(out, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    grad_x = xt.grad.numpy()
    np.testing.assert_allclose(d_x, grad_x.transpose(0, 2, 1) if x.ndim == 3 else grad_x, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(layer._grads["gamma"], bn.weight.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer._grads["beta"], bn.bias.grad.numpy(), rtol=1e-10, atol=1e-12)
    return layer, bn


@pytest.mark.parametrize("shape", [(16, 5), (6, 7, 5)], ids=["2d", "3d"])
def test_training_mode_matches_torch_and_moving_statistics_follow_the_batch(shape):
    x = np.random.default_rng(0).standard_normal(shape) * 3 + 1
    layer, bn = _against_torch(x, training=True)
    rows = x.reshape(-1, shape[-1])
    np.testing.assert_allclose(layer._params["moving_mean"], bn.running_mean.numpy(), rtol=1e-12)
    # Keras moves the variance towards the biased batch variance, torch towards the unbiased one
    count = rows.shape[0]
    torch_batch_var = (bn.running_var.numpy() - MOMENTUM) / (1 - MOMENTUM)
    expected = MOMENTUM + (1 - MOMENTUM) * torch_batch_var * (count - 1) / count
    np.testing.assert_allclose(layer._params["moving_variance"], expected, rtol=1e-10)
    np.testing.assert_allclose(layer._params["moving_mean"], (1 - MOMENTUM) * rows.mean(axis=0), rtol=1e-12)


@pytest.mark.parametrize("shape", [(16, 5), (6, 7, 5)], ids=["2d", "3d"])
def test_inference_mode_uses_the_moving_statistics_as_torch_eval(shape):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape)
    moving = (rng.standard_normal(shape[-1]), rng.uniform(0.5, 2.0, shape[-1]))
    layer, _ = _against_torch(x, training=False, moving=moving)
    np.testing.assert_array_equal(layer._params["moving_mean"], moving[0])


@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
def test_gradients_match_finite_differences_float64(training):
    x = np.random.default_rng(2).standard_normal((4, 6, 3))
    check_numeric_gradients(_layer(), x, training=training, probes=30)
    lengths = np.array([6, 2, 4, 1])
    check_numeric_gradients(_layer(), x, lengths=lengths, output_lengths=lengths, training=training,
                            probes=30, skip=lambda _, index: index[1] >= lengths[index[0]])


def test_lengths_leave_padded_steps_out_of_the_statistics():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 8, 4))
    lengths = np.array([8, 3, 5])
    x[np.arange(8)[None, :] >= lengths[:, None]] = 1e3
    padded, alone = _layer(), _layer()
    real = np.concatenate([x[i, :n] for i, n in enumerate(lengths)])[None]
    ensure_built(padded, x), ensure_built(alone, real)
    alone.set_weights(padded.get_weights())
    out = padded.forward(x, training=True, lengths=lengths, keep_cache=True)
    expected = alone.forward(real, training=True)
    np.testing.assert_allclose(np.concatenate([out[i, :n] for i, n in enumerate(lengths)]), expected[0],
                               rtol=1e-12)
    np.testing.assert_allclose(padded._params["moving_variance"], alone._params["moving_variance"], rtol=1e-12)
    d_x = padded.backward(np.ones_like(out))
    assert not d_x[1, 3:].any() and not d_x[2, 5:].any()


def test_weights_in_keras_order_and_only_gamma_beta_trainable():
    layer = L.BatchNormalization()
    layer.build((None, 10, 4))
    assert layer.weight_names == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [w is v for w, v in zip(layer.trainable_weights, layer.weights[:2])] == [True, True]
    assert len(layer.trainable_weights) == 2
    assert [w is v for w, v in zip(layer.non_trainable_weights, layer.weights[2:])] == [True, True]
    bare = L.BatchNormalization(center=False, scale=False)
    bare.build((None, 4))
    assert bare.weight_names == ["moving_mean", "moving_variance"] and bare.trainable_weights == []
    frozen = L.BatchNormalization(trainable=False)
    frozen.build((None, 4))
    assert frozen.trainable_weights == [] and len(frozen.non_trainable_weights) == 4


def test_frozen_layer_runs_in_inference_mode_even_in_training():
    layer = L.BatchNormalization(trainable=False, dtype="float64")
    x = np.random.default_rng(4).standard_normal((5, 3)) + 10
    out = ensure_built(layer, x).forward(x, training=True)
    np.testing.assert_allclose(out, x / np.sqrt(1 + EPSILON), rtol=1e-12)
    assert not layer._params["moving_mean"].any()


def test_fit_never_hands_the_moving_statistics_to_the_optimizer():
    """AdamW's weight decay would shrink every weight it is given; the moving statistics must follow the data only."""
    x = np.random.default_rng(5).standard_normal((8, 5, 3)) * 2 + 3
    y = np.zeros((8, 1))
    lc.set_seed(0)
    model = lc.Sequential([L.BatchNormalization(input_shape=(5, 3)), L.Flatten(), L.Dense(1)], dtype="float64")
    model.compile(optimizer=lc.optimizers.AdamW(learning_rate=0.1, weight_decay=0.5), loss="mse")
    assert model._flat_params.size == 2 * 3 + 15 + 1
    model.train_on_batch(x, y)
    bn = model.layers[0]
    rows = x.reshape(-1, 3)
    np.testing.assert_allclose(bn._params["moving_mean"], (1 - MOMENTUM) * rows.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(bn._params["moving_variance"], MOMENTUM + (1 - MOMENTUM) * rows.var(axis=0),
                               rtol=1e-12)
    summary = []
    model.summary(print_fn=summary.append)
    assert " Non-trainable params: 6" in summary


def test_config_round_trip_save_load_and_training_lowers_the_loss(tmp_path):
    clone = assert_config_round_trip(L.BatchNormalization(momentum=0.9, epsilon=1e-5, center=False))
    assert (clone.momentum, clone.epsilon, clone.center) == (0.9, 1e-5, False)
    rng = np.random.default_rng(6)
    x = (rng.standard_normal((64, 12, 2)) * 5 + 7).astype(np.float32)
    y = (x[:, :, 0].mean(axis=1) > 7).astype(np.float32)
    lc.set_seed(0)
    model = lc.Sequential([L.Input(shape=(12, 2)), L.Conv1D(4, 3, padding="same"), L.BatchNormalization(),
                           L.LSTM(4), L.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    losses = model.fit(x, y, epochs=5, batch_size=16, verbose=0).history["loss"]
    assert losses[-1] < losses[0]
    loaded = assert_save_load_identical(model, x[:10], tmp_path / "bn.lstm")
    np.testing.assert_array_equal(loaded.layers[1]._params["moving_mean"], model.layers[1]._params["moving_mean"])


@pytest.mark.parametrize("options, message", [
    ({"axis": 1}, r"axis must be -1 \(the feature axis; inputs are channels-last\). Received: axis=1"),
    ({"momentum": 1.0}, r"momentum must be a number in \[0, 1\). Received: momentum=1.0"),
    ({"epsilon": 0}, "epsilon must be a positive number. Received: epsilon=0"),
])
def test_bad_arguments_are_named(options, message):
    with pytest.raises(ValueError, match=message):
        L.BatchNormalization(**options)

"""Conv1D against torch.nn.functional.conv1d and finite differences; lengths; saving; a DanQ-style fit."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import lstmcore as lc
from lstmcore import layers as L
from layer_checks import assert_config_round_trip, assert_save_load_identical, check_numeric_gradients, ensure_built

CASES = [  # (padding, strides, dilation_rate)
    ("valid", 1, 1), ("same", 1, 1), ("causal", 1, 1), ("valid", 2, 1), ("same", 2, 1),
    ("causal", 3, 1), ("valid", 1, 2), ("same", 1, 3), ("causal", 1, 2), ("same", 2, 2),
]


def _case_id(case):
    padding, strides, dilation = case
    return f"{padding}-strides{strides}-dilation{dilation}"


def _tf_same_padding(steps, span, strides):
    """TensorFlow's 'same' rule, written out here as the specification: smaller half on the left."""
    out = math.ceil(steps / strides)
    total = max((out - 1) * strides + span - steps, 0)
    return total // 2, total - total // 2


def _torch_conv(x, kernel, bias, padding, strides, dilation, activation):
    """Keras-layout conv through torch: x (B, T, C), kernel (k, C, F) -> (B, T_out, F)."""
    xt = torch.tensor(x.transpose(0, 2, 1), requires_grad=True)
    wt = torch.tensor(kernel.transpose(2, 1, 0).copy(), requires_grad=True)
    bt = torch.tensor(bias, requires_grad=True)
    span = (kernel.shape[0] - 1) * dilation + 1
    if padding == "same" and strides == 1:
        out = F.conv1d(xt, wt, bt, stride=1, padding="same", dilation=dilation)
    else:
        left, right = {"valid": (0, 0), "causal": (span - 1, 0),
                       "same": _tf_same_padding(x.shape[1], span, strides)}[padding]
        out = F.conv1d(F.pad(xt, (left, right)), wt, bt, stride=strides, dilation=dilation)
    out = torch.relu(out) if activation == "relu" else out
    return out.permute(0, 2, 1), (xt, wt, bt)


def _conv(filters=5, kernel_size=4, dtype="float64", **options):
    lc.set_seed(0)
    return L.Conv1D(filters, kernel_size, dtype=dtype, **options)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@pytest.mark.parametrize("activation", ["linear", "relu"])
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_forward_and_gradients_match_torch_conv1d(case, activation):
    padding, strides, dilation = case
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 17, 4))
    layer = _conv(padding=padding, strides=strides, dilation_rate=dilation, activation=activation,
                  bias_initializer="random_normal")
    out = ensure_built(layer, x).forward(x, training=True)
    upstream = rng.standard_normal(out.shape)
    d_x = layer.backward(upstream)
    expected, (xt, wt, bt) = _torch_conv(x, layer.kernel, layer.bias, padding, strides, dilation, activation)
    (expected * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(out, expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert layer.compute_output_shape((None, 17, 4)) == (None, out.shape[1], 5)
    np.testing.assert_allclose(d_x, xt.grad.numpy().transpose(0, 2, 1), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer._grads["kernel"], wt.grad.numpy().transpose(2, 1, 0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer._grads["bias"], bt.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_gradients_match_finite_differences_float64(case):
    padding, strides, dilation = case
    x = np.random.default_rng(2).standard_normal((2, 13, 3))
    layer = _conv(4, 3, padding=padding, strides=strides, dilation_rate=dilation, activation="tanh",
                  bias_initializer="random_normal")
    check_numeric_gradients(layer, x, probes=30)


def test_float32_matches_float64():
    x = np.random.default_rng(3).standard_normal((4, 30, 4))
    wide, narrow = _conv(8, 5, padding="same"), _conv(8, 5, padding="same", dtype="float32")
    narrow.build((None, 30, 4))
    wide.build((None, 30, 4))
    narrow.set_weights(wide.get_weights())
    out32 = narrow(x.astype(np.float32))
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, wide(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", [("same", 1, 1), ("causal", 1, 1), ("causal", 2, 1), ("valid", 1, 1),
                                  ("valid", 2, 1), ("valid", 1, 2)], ids=_case_id)
def test_padded_steps_never_change_a_sequence_result(case):
    """A padded batch gives each sequence's outputs (up to its output length) as the sequence alone."""
    padding, strides, dilation = case
    rng = np.random.default_rng(4)
    lengths = np.array([20, 13, 9])
    x = rng.standard_normal((3, 20, 2)) * 100  # loud padding: it must not leak
    layer = _conv(3, 4, padding=padding, strides=strides, dilation_rate=dilation)
    out = ensure_built(layer, x).forward(x, lengths=lengths, training=True)
    out_lengths = layer.output_lengths(lengths)
    d_x = layer.backward(np.ones_like(out))
    for i, length in enumerate(lengths):
        alone = layer(x[i:i + 1, :length])
        assert alone.shape[1] == out_lengths[i]
        np.testing.assert_allclose(out[i, :out_lengths[i]], alone[0], rtol=1e-12, atol=1e-12)
        assert not d_x[i, length:].any()


def test_output_lengths_follow_padding_and_strides():
    lengths = np.array([10, 7, 3, 0])
    assert L.Conv1D(2, 3, padding="same").output_lengths(lengths).tolist() == [10, 7, 3, 0]
    assert L.Conv1D(2, 3, padding="causal").output_lengths(lengths).tolist() == [10, 7, 3, 0]
    assert L.Conv1D(2, 3, padding="same", strides=2).output_lengths(lengths).tolist() == [5, 4, 2, 0]
    assert L.Conv1D(2, 3).output_lengths(lengths).tolist() == [8, 5, 1, 0]
    assert L.Conv1D(2, 3, strides=2).output_lengths(lengths).tolist() == [4, 3, 1, 0]
    assert L.Conv1D(2, 3, dilation_rate=2).output_lengths(lengths).tolist() == [6, 3, 0, 0]
    assert L.Conv1D(2, 3).output_lengths(None) is None


def test_keras_weight_shapes_names_and_config_round_trip():
    layer = L.Conv1D(320, 26, activation="relu", kernel_regularizer="l2", name="conv")
    layer.build((None, 1000, 4))
    assert layer.weight_names == ["kernel", "bias"]
    assert [w.shape for w in layer.weights] == [(26, 4, 320), (320,)]
    assert layer.compute_output_shape((None, 1000, 4)) == (None, 975, 320)
    clone = assert_config_round_trip(layer)
    assert (clone.filters, clone.kernel_size, clone.padding, clone.activation.name) == (320, 26, "valid", "relu")
    assert L.Conv1D(4, (3,), strides=(2,)).get_config()["kernel_size"] == 3


@pytest.mark.parametrize("options, message", [
    ({"padding": "full"}, "padding must be one of 'valid', 'same', 'causal'. Received: padding='full'"),
    ({"kernel_size": 0}, "kernel_size must be a positive integer or a tuple of one. Received: kernel_size=0"),
    ({"data_format": "channels_first"}, "data_format must be 'channels_last'"),
    ({"groups": 2}, "groups must be 1"),
])
def test_bad_arguments_are_named(options, message):
    arguments = {"filters": 2, "kernel_size": 3, **options}
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        L.Conv1D(**arguments)


def test_too_short_input_for_valid_padding_is_named():
    with pytest.raises(ValueError, match="needs at least 5 steps with padding='valid'. Received: 4 steps"):
        L.Conv1D(2, 5)(np.zeros((1, 4, 3)))


def test_regularizer_enters_the_loss_and_the_gradient():
    model = lc.Sequential([L.Conv1D(2, 3, kernel_regularizer=lc.regularizers.L1L2(l2=0.5), input_shape=(6, 1)),
                           L.Flatten(), L.Dense(1)], dtype="float64")
    kernel = model.layers[0].kernel
    assert model.layers[0].regularization_loss() == pytest.approx(0.5 * float((kernel ** 2).sum()))


def _danq(steps=40, channels=4):
    lc.set_seed(0)
    return lc.Sequential([
        L.Input(shape=(steps, channels)),
        L.Conv1D(8, 5, activation="relu"),
        L.MaxPooling1D(3, 3),
        L.SpatialDropout1D(0.1),
        L.Bidirectional(L.LSTM(6, return_sequences=True)),
        L.Flatten(),
        L.Dense(1, activation="sigmoid"),
    ])


def _one_hot_motif_data(samples=64, steps=40, seed=0):
    """Random DNA one-hot; label 1 when the motif ACGTA was planted."""
    rng = np.random.default_rng(seed)
    x = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (samples, steps))]
    y = rng.integers(0, 2, samples).astype(np.float32)
    motif = np.eye(4, dtype=np.float32)[[0, 1, 2, 3, 0]]
    for i in np.nonzero(y)[0]:
        start = rng.integers(0, steps - 5)
        x[i, start:start + 5] = motif
    return x, y


def test_danq_style_model_trains_saves_and_loads(tmp_path):
    x, y = _one_hot_motif_data()
    model = _danq()
    model.compile(optimizer="adam", loss="binary_crossentropy")
    history = model.fit(x, y, epochs=6, batch_size=16, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < losses[0]
    loaded = assert_save_load_identical(model, x[:8], tmp_path / "danq.lstm")
    assert [type(layer).__name__ for layer in loaded.layers] == [
        "Conv1D", "MaxPooling1D", "SpatialDropout1D", "Bidirectional", "Flatten", "Dense"]


def test_variable_length_batch_predicts_each_sequence_as_alone_through_conv_pool_and_lstm():
    """Conv1D (valid) -> MaxPooling1D -> Bidirectional(LSTM) -> GlobalMaxPooling1D -> Dense, with lengths."""
    lc.set_seed(0)
    model = lc.Sequential([L.Conv1D(5, 4, activation="relu", input_shape=(None, 4)), L.MaxPooling1D(2),
                           L.Bidirectional(L.LSTM(3, return_sequences=True)), L.GlobalMaxPooling1D(),
                           L.Dense(1)], dtype="float64")
    rng = np.random.default_rng(7)
    lengths = np.array([40, 23, 12, 9])
    x = rng.standard_normal((4, 40, 4)) * 10  # loud padding
    batch = model.predict(x, lengths=lengths)
    for i, length in enumerate(lengths):
        np.testing.assert_allclose(batch[i], model.predict(x[i:i + 1, :length])[0], rtol=1e-10)


@pytest.mark.parametrize("channels", [1, 4, 8, 9, 20])
@pytest.mark.parametrize("strides, dilation", [(1, 1), (2, 1), (3, 1), (1, 2), (2, 3)])
def test_col2im_sums_each_step_in_tap_order_for_any_channel_count(channels, strides, dilation):
    """add_tap_gradients (a channels-first buffer for few channels) equals the tap-by-tap col2im to the bit,
    and the sum written out step by step."""
    from lstmcore.layers.windows import FEW_CHANNELS, add_tap_gradients, add_window_gradients

    assert 4 <= FEW_CHANNELS < 9                                  # one-hot DNA takes the channels-first buffer
    rng = np.random.default_rng(12)
    batch, taps, out_steps = 3, 5, 7
    steps = (out_steps - 1) * strides + (taps - 1) * dilation + 1 + 2
    d_taps = rng.standard_normal((batch, out_steps, taps * channels)).astype(np.float32)
    d_taps = d_taps.reshape(batch, out_steps, taps, channels)     # as Conv1D's product leaves it
    result = add_tap_gradients(d_taps, (batch, steps, channels), dilation, strides)
    reference = add_window_gradients(lambda tap: d_taps[:, :, tap], taps, (batch, steps, channels), np.float32,
                                     dilation, strides)
    np.testing.assert_array_equal(result, reference)
    direct = np.zeros((batch, steps, channels), np.float32)
    for tap in range(taps):
        for t in range(out_steps):
            direct[:, t * strides + tap * dilation] += d_taps[:, t, tap]
    np.testing.assert_array_equal(result, direct)


def test_relu_gradient_at_exactly_zero_is_zero_as_in_torch_and_keras():
    """A pre-activation of exactly 0 passes no gradient (torch's threshold_backward and TF's ReluGrad agree)."""
    layer = _conv(3, 2, activation="relu", kernel_initializer="zeros")
    x = np.random.default_rng(13).standard_normal((2, 6, 4))
    out = ensure_built(layer, x).forward(x, training=True)
    assert not out.any()                                          # every pre-activation is exactly 0
    d_x = layer.backward(np.ones_like(out))
    xt = torch.zeros(4, requires_grad=True)
    torch.relu(xt).sum().backward()
    assert not xt.grad.any() and not d_x.any() and not layer._grads["kernel"].any()
    assert not layer._grads["bias"].any()

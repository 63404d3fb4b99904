"""MaxPooling1D, AveragePooling1D and the global poolings: torch, a direct reference, finite differences, lengths."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lstmcore import layers as L
from layer_checks import assert_config_round_trip, check_numeric_gradients, ensure_built

WINDOWS = [(2, None), (3, 3), (3, 2), (4, 1), (13, 13)]  # (pool_size, strides)


def _window_id(window):
    return f"pool{window[0]}-strides{window[1]}"


def _torch_pool(kind, x, pool_size, strides):
    xt = torch.tensor(x.transpose(0, 2, 1), requires_grad=True)
    pool = F.max_pool1d if kind == "max" else F.avg_pool1d
    return pool(xt, pool_size, strides or pool_size).permute(0, 2, 1), xt


def _direct_pool(kind, x, pool_size, strides, padding, lengths=None):
    """Window by window, written out as the specification (TF's 'same': padding left out, left = total // 2)."""
    batch, steps, channels = x.shape
    strides = strides or pool_size
    if padding == "valid":
        out, left = (steps - pool_size) // strides + 1, 0
    else:
        out = -(-steps // strides)
        left = max((out - 1) * strides + pool_size - steps, 0) // 2
    lengths = np.full(batch, steps) if lengths is None else lengths
    result = np.zeros((batch, out, channels))
    for b in range(batch):
        for t in range(out):
            start = t * strides - left
            rows = [s for s in range(start, start + pool_size) if 0 <= s < lengths[b]]
            if rows:
                values = x[b, rows]
                result[b, t] = values.max(axis=0) if kind == "max" else values.mean(axis=0)
    return result


def _layer(kind, pool_size, strides, padding="valid"):
    cls = L.MaxPooling1D if kind == "max" else L.AveragePooling1D
    return cls(pool_size, strides, padding=padding, dtype="float64")


@pytest.mark.parametrize("window", WINDOWS, ids=_window_id)
@pytest.mark.parametrize("kind", ["max", "average"])
def test_valid_pooling_matches_torch_forward_and_backward(kind, window):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 29, 4))
    layer = ensure_built(_layer(kind, *window), x)
    out = layer.forward(x, training=True)
    upstream = rng.standard_normal(out.shape)
    d_x = layer.backward(upstream)
    expected, xt = _torch_pool(kind, x, *window)
    (expected * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(out, expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(d_x, xt.grad.numpy().transpose(0, 2, 1), rtol=1e-12, atol=1e-12)
    assert layer.compute_output_shape((None, 29, 4)) == (None,) + out.shape[1:]


@pytest.mark.parametrize("window", WINDOWS, ids=_window_id)
@pytest.mark.parametrize("kind", ["max", "average"])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_pooling_with_lengths_matches_the_window_by_window_reference(kind, window, padding):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 27, 3))
    lengths = np.array([27, 20, 5, 1])
    x[np.arange(27)[None, :] >= lengths[:, None]] = 1e6  # loud padding: it must never win or count
    layer = ensure_built(_layer(kind, *window, padding=padding), x)
    for given in (None, lengths):
        out = layer(x, lengths=given)
        np.testing.assert_allclose(out, _direct_pool(kind, x, *window, padding, given), rtol=1e-12, atol=1e-12)
    assert layer.compute_output_shape((None, 27, 3))[1] == out.shape[1]


@pytest.mark.parametrize("kind", ["max", "average"])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_pooling_gradients_match_finite_differences(kind, padding):
    x = np.random.default_rng(2).standard_normal((3, 17, 2))
    lengths = np.array([17, 11, 4])
    layer = _layer(kind, 3, 2, padding)
    check_numeric_gradients(layer, x, probes=40)
    check_numeric_gradients(layer, x, lengths=lengths, probes=40, seed=1)


def test_padded_steps_get_no_gradient_and_lengths_shrink_with_the_windows():
    x = np.random.default_rng(3).standard_normal((2, 12, 2))
    lengths = np.array([12, 7])
    for cls in (L.MaxPooling1D, L.AveragePooling1D):
        layer = ensure_built(cls(3, padding="same", dtype="float64"), x)
        out = layer.forward(x, training=True, lengths=lengths)
        assert not layer.backward(np.ones_like(out))[1, 7:].any()
    assert L.MaxPooling1D(3).output_lengths(lengths).tolist() == [4, 2]
    assert L.MaxPooling1D(3, padding="same").output_lengths(lengths).tolist() == [4, 3]
    assert L.AveragePooling1D(2, 1).output_lengths(lengths).tolist() == [11, 6]


@pytest.mark.parametrize("cls, reduce", [(L.GlobalMaxPooling1D, np.max), (L.GlobalAveragePooling1D, np.mean)])
def test_global_pooling_runs_over_real_steps_only(cls, reduce):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 9, 5))
    lengths = np.array([9, 4, 1])
    x[np.arange(9)[None, :] >= lengths[:, None]] = 1e6
    layer = cls(dtype="float64")
    out = layer(x, lengths=lengths)
    expected = np.stack([reduce(x[i, :n], axis=0) for i, n in enumerate(lengths)])
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    assert layer.output_lengths(lengths) is None
    kept = cls(keepdims=True, dtype="float64")
    np.testing.assert_allclose(kept(x, lengths=lengths), expected[:, None, :], rtol=1e-12)
    assert kept.compute_output_shape((None, 9, 5)) == (None, 1, 5)
    assert layer.compute_output_shape((None, 9, 5)) == (None, 5)
    check_numeric_gradients(kept, rng.standard_normal(x.shape), lengths=lengths, probes=30)


def test_global_pooling_is_masked_global_pooling_with_keras_arguments():
    layer = L.GlobalMaxPooling1D(keepdims=True, name="gmp")
    assert isinstance(layer, L.MaskedGlobalPooling) and layer.mode == "max"
    config = assert_config_round_trip(layer).get_config()
    assert config["keepdims"] is True and "mode" not in config
    assert L.GlobalAveragePooling1D().mode == "mean"


@pytest.mark.parametrize("cls", [L.MaxPooling1D, L.AveragePooling1D])
def test_pooling_config_round_trip_and_errors(cls):
    layer = cls(pool_size=(4,), strides=2, padding="same")
    clone = assert_config_round_trip(layer)
    assert (clone.pool_size, clone.strides, clone.padding) == (4, 2, "same")
    assert cls(5).strides == 5
    with pytest.raises(ValueError, match="padding must be one of 'valid', 'same'. Received: padding='causal'"):
        cls(2, padding="causal")
    with pytest.raises(ValueError, match="needs at least pool_size=5 steps with padding='valid'. Received: 3 steps"):
        cls(5)(np.zeros((1, 3, 2)))


@pytest.mark.parametrize("tie", [False, True])
def test_tiled_max_pooling_equals_the_general_path(tie):
    """strides == pool_size with no padding or lengths takes a reshape-and-max path; ties go to the first step."""
    rng = np.random.default_rng(5)
    x = np.maximum(rng.standard_normal((3, 41, 5)), 0)           # ReLU zeros: whole windows tie at 0
    if tie:
        x[1, 8:11, 2] = 7.0
    tiled, general = L.MaxPooling1D(4, dtype="float64"), L.MaxPooling1D(4, dtype="float64")
    out = tiled.forward(x, training=True)
    assert isinstance(tiled._cache[0], str)                      # the tiled path ran
    np.testing.assert_array_equal(out, general.forward(x, training=True, lengths=np.full(3, 41)))
    grad = rng.standard_normal(out.shape)
    np.testing.assert_array_equal(tiled.backward(grad), general.backward(grad))


def _first_maximum_gradient(x, grad, pool_size):
    """Window by window, as the specification: the whole gradient of a window to its first maximum."""
    expected = np.zeros_like(x)
    for b, t, c in np.ndindex(grad.shape):
        window = x[b, t * pool_size:(t + 1) * pool_size, c]
        expected[b, t * pool_size + int(np.argmax(window)), c] = grad[b, t, c]   # argmax: the first of ties
    return expected


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("pool_size", [2, 3, 4, 13])
def test_tiled_max_pooling_sends_tied_windows_to_their_first_step(pool_size, dtype):
    """Ties everywhere (three levels, a dead ReLU channel of zeros, ties at the last steps): each window's
    gradient reaches only its first maximum, as the window-by-window rule, the general path and torch say."""
    rng = np.random.default_rng(6)
    steps = pool_size * 5 + pool_size // 2                       # a tail that no window covers
    x = rng.integers(0, 3, (3, steps, 6)).astype(dtype)
    x[:, :, 0] = 0                                               # a dead filter: every window is a tie at 0
    x[1, pool_size - 2:pool_size, 1] = 9                         # a tie at the window's last two steps
    tiled, general = L.MaxPooling1D(pool_size, dtype=dtype), L.MaxPooling1D(pool_size, dtype=dtype)
    out = tiled.forward(x, training=True)
    assert isinstance(tiled._cache[0], str)
    grad = rng.standard_normal(out.shape).astype(dtype)
    d_x = tiled.backward(grad)
    assert d_x.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(d_x, _first_maximum_gradient(x, grad, pool_size))
    general.forward(x, training=True, lengths=np.full(3, steps))
    np.testing.assert_array_equal(d_x, general.backward(grad))
    expected, xt = _torch_pool("max", x, pool_size, None)
    (expected * torch.tensor(grad)).sum().backward()
    np.testing.assert_array_equal(d_x, xt.grad.numpy().transpose(0, 2, 1))
    assert not d_x[:, 5 * pool_size:].any() and np.count_nonzero(d_x) == np.count_nonzero(grad)


def test_tiled_max_pooling_of_danq_sized_relu_output_equals_the_general_path():
    """DanQ's pooling (13 steps, float32) on a ReLU'd convolution of one-hot DNA: half the values are 0 and
    some windows are all 0; the backward pass is the general path's to the bit."""
    rng = np.random.default_rng(7)
    x = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (2, 260))]
    conv = L.Conv1D(32, 26, activation="relu", bias_initializer="random_normal")
    relu_out = ensure_built(conv, x).forward(x)
    tiled, general = L.MaxPooling1D(13, 13), L.MaxPooling1D(13, 13)
    out = tiled.forward(relu_out, training=True)
    windows = relu_out[:, :out.shape[1] * 13].reshape(2, -1, 13, 32)
    assert (windows.max(axis=2) == 0).any() and ((windows == 0).sum(axis=2) > 1).any()
    grad = rng.standard_normal(out.shape).astype(np.float32)
    general.forward(relu_out, training=True, lengths=np.full(2, relu_out.shape[1]))
    np.testing.assert_array_equal(tiled.backward(grad), general.backward(grad))

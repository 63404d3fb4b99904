"""Flatten, Reshape, Permute, RepeatVector, Concatenate, Add and Multiply: torch, finite differences, lengths."""
import numpy as np
import pytest
import torch

import lstmcore as lc
from lstmcore import layers as L
from layer_checks import (assert_config_round_trip, assert_save_load_identical, check_numeric_gradients,
                          ensure_built)


def _torch_check(layer, inputs, torch_fn, lengths=None):
    """Forward and input gradients of an lstmcore layer against the same function in torch (float64)."""
    multi = isinstance(inputs, list)
    out = ensure_built(layer, inputs).forward(inputs, training=True, lengths=lengths)
    upstream = np.random.default_rng(9).standard_normal(out.shape)
    grads = layer.backward(upstream)
    tensors = [torch.tensor(a, requires_grad=True) for a in (inputs if multi else [inputs])]
    expected = torch_fn(*tensors)
    (expected * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(out, expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    for grad, tensor in zip(grads if multi else [grads], tensors):
        np.testing.assert_allclose(grad, tensor.grad.numpy(), rtol=1e-12, atol=1e-12)
    return out


X = np.random.default_rng(0).standard_normal((3, 6, 4))


# ----- reshaping ------------------------------------------------------------------------------
def test_flatten_matches_torch_and_zeroes_padded_steps():
    out = _torch_check(L.Flatten(dtype="float64"), X.copy(), lambda t: t.reshape(3, -1))
    assert out.shape == (3, 24)
    lengths = np.array([6, 2, 0])
    layer = ensure_built(L.Flatten(dtype="float64"), X)
    padded = layer.forward(X, training=True, lengths=lengths).reshape(3, 6, 4)
    np.testing.assert_array_equal(padded[1, 2:], 0)
    np.testing.assert_array_equal(padded[1, :2], X[1, :2])
    assert not layer.backward(np.ones((3, 24))).reshape(3, 6, 4)[1, 2:].any()
    assert layer.output_lengths(lengths) is None
    assert layer.compute_output_shape((None, 6, 4)) == (None, 24)
    assert layer.compute_output_shape((None, None, 4)) == (None, None)
    check_numeric_gradients(L.Flatten(dtype="float64"), X.copy(), lengths=lengths)


def test_reshape_infers_minus_one_and_keeps_lengths_only_with_the_steps():
    _torch_check(L.Reshape((2, -1), dtype="float64"), X.copy(), lambda t: t.reshape(3, 2, 12))
    layer = L.Reshape((6, 2, 2), dtype="float64")
    assert layer.compute_output_shape((None, 6, 4)) == (None, 6, 2, 2)
    assert L.Reshape((-1, 8)).compute_output_shape((None, 6, 4)) == (None, 3, 8)
    lengths = np.array([6, 3, 1])
    layer(X, lengths=lengths)
    assert layer.output_lengths(lengths) is lengths
    mixing = L.Reshape((12, 2), dtype="float64")
    out = mixing(X, lengths=lengths)
    assert mixing.output_lengths(lengths) is None
    assert not out[2].reshape(6, 4)[1:].any()
    check_numeric_gradients(L.Reshape((4, 6), dtype="float64"), X.copy(), lengths=lengths)
    assert assert_config_round_trip(L.Reshape((2, -1))).target_shape == (2, -1)


@pytest.mark.parametrize("target, message", [
    ((5, -1), r"cannot reshape 24 values per sample to \(5, -1\)"),
    ((5, 5), r"cannot reshape samples of shape \(6, 4\) to target_shape=\(5, 5\)"),
])
def test_reshape_that_cannot_fit_is_named(target, message):
    with pytest.raises(ValueError, match=message):
        L.Reshape(target)(X)


def test_reshape_arguments_are_checked():
    with pytest.raises(ValueError, match=r"target_shape must be a tuple of positive integers \(one may be -1\)"):
        L.Reshape((-1, -1))


def test_permute_matches_torch_and_inverts_in_backward():
    _torch_check(L.Permute((2, 1), dtype="float64"), X.copy(), lambda t: t.permute(0, 2, 1))
    x4 = np.random.default_rng(1).standard_normal((2, 3, 4, 5))
    _torch_check(L.Permute((3, 1, 2), dtype="float64"), x4, lambda t: t.permute(0, 3, 1, 2))
    assert L.Permute((3, 1, 2)).compute_output_shape((None, 3, 4, 5)) == (None, 5, 3, 4)
    lengths = np.array([6, 3, 1])
    assert L.Permute((1, 3, 2)).output_lengths(lengths) is lengths
    assert L.Permute((2, 1)).output_lengths(lengths) is None
    check_numeric_gradients(L.Permute((2, 1), dtype="float64"), X.copy(), lengths=lengths)
    with pytest.raises(ValueError, match=r"dims must be a permutation of 1 .. 2. Received: dims=\(0, 1\)"):
        L.Permute((0, 1))


def test_repeat_vector_matches_torch_and_sums_its_gradient():
    x = X[:, 0, :].copy()
    _torch_check(L.RepeatVector(5, dtype="float64"), x, lambda t: t[:, None, :].expand(3, 5, 4))
    assert L.RepeatVector(5).compute_output_shape((None, 4)) == (None, 5, 4)
    check_numeric_gradients(L.RepeatVector(3, dtype="float64"), x)
    with pytest.raises(ValueError, match=r"expects input of shape \(batch, features\)"):
        L.RepeatVector(2)(X)
    with pytest.raises(ValueError, match="n must be a positive integer. Received: n=0"):
        L.RepeatVector(0)


def test_reshaping_layers_save_and_load_in_a_sequential(tmp_path):
    """An encoder-decoder: LSTM -> RepeatVector -> LSTM -> Permute -> Reshape -> Flatten -> Dense."""
    lc.set_seed(0)
    model = lc.Sequential([L.LSTM(4, input_shape=(5, 3)), L.RepeatVector(6), L.LSTM(4, return_sequences=True),
                           L.Permute((2, 1)), L.Reshape((2, -1)), L.Flatten(), L.Dense(2)])
    assert model.output_shape == (None, 2)
    x = np.random.default_rng(2).standard_normal((4, 5, 3)).astype(np.float32)
    assert_save_load_identical(model, x, tmp_path / "m.lstm")


# ----- merging ------------------------------------------------------------------------------------
def _three(shape=(3, 6, 4)):
    rng = np.random.default_rng(3)
    return [rng.standard_normal(shape) for _ in range(3)]


@pytest.mark.parametrize("axis", [-1, 1, 2])
def test_concatenate_matches_torch_cat(axis):
    a, b, c = _three()
    b = b[:, :, :2].copy() if axis in (-1, 2) else b[:, :3].copy()
    _torch_check(L.Concatenate(axis=axis, dtype="float64"), [a, b, c], lambda *t: torch.cat(t, dim=axis))
    shape = L.Concatenate(axis=axis).compute_output_shape([(None,) + a.shape[1:], (None,) + b.shape[1:],
                                                           (None,) + c.shape[1:]])
    assert shape == (None,) + np.concatenate([a, b, c], axis=axis).shape[1:]


def test_concatenate_checks_shapes_and_lengths():
    a, b, _ = _three()
    with pytest.raises(ValueError, match="shapes match except on axis -1"):
        L.Concatenate()([a, b[:, :5]])
    with pytest.raises(ValueError, match="joins along the step axis, which takes no lengths"):
        L.Concatenate(axis=1)([a, b], lengths=np.array([6, 2, 1]))
    with pytest.raises(ValueError, match="expects a list of at least 2 inputs. Received: a list of 1"):
        L.Concatenate()([a])
    assert assert_config_round_trip(L.Concatenate(axis=1)).axis == 1


@pytest.mark.parametrize("cls, torch_fn", [(L.Add, lambda *t: t[0] + t[1] + t[2]),
                                           (L.Multiply, lambda *t: t[0] * t[1] * t[2])])
def test_add_and_multiply_match_torch_and_finite_differences(cls, torch_fn):
    inputs = _three()
    _torch_check(cls(dtype="float64"), inputs, torch_fn)
    check_numeric_gradients(cls(dtype="float64"), _three((2, 3, 2)))
    broadcast = [inputs[0], inputs[1][:, :1, :].copy(), inputs[2]]
    _torch_check(cls(dtype="float64"), broadcast, torch_fn)
    assert cls().compute_output_shape([(None, 6, 4), (None, 1, 4)]) == (None, 6, 4)
    with pytest.raises(ValueError, match="needs inputs of the same shape"):
        cls().compute_output_shape([(None, 6, 4), (None, 6, 3)])


def test_merged_lengths_are_the_shortest_per_sequence():
    first, second = np.array([6, 4, 2]), np.array([5, 5, 0])
    for layer in (L.Add(), L.Multiply(), L.Concatenate()):
        assert layer.output_lengths([first, second]).tolist() == [5, 4, 0]
        assert layer.output_lengths([first, None]).tolist() == [6, 4, 2]
        assert layer.output_lengths([None, None]) is None
        assert layer.output_lengths(first) is first


def test_merge_layers_are_registered_for_model_files():
    for name in ("Concatenate", "Add", "Multiply", "Flatten", "Reshape", "Permute", "RepeatVector"):
        layer = L.deserialize(L.serialize(L.get(name)(**{"Reshape": {"target_shape": (2,)},
                                                         "Permute": {"dims": (1,)},
                                                         "RepeatVector": {"n": 2}}.get(name, {}))))
        assert type(layer).__name__ == name

"""NaN and inf go through the native LSTM kernels as through lstmcore._reference (issue 20).

The cell's exp clamps its argument for speed; with the operands in the wrong
order a SIMD max/min turned NaN into -87, so NaN in x gave finite outputs
where the reference gives NaN; a sigmoid that saturated to 1e-38 instead of
0 gave inf * 1e-38 = inf in d_kernel where the reference has inf * 0 = NaN.
NaN, +inf and finite positions must be the reference's.  Every variant this CPU runs, both dtypes,
forward and backward, units that use the full SIMD width (8, 16), only the
scalar tail (3) and both (13).
"""
import numpy as np
import pytest

from lstmcore import _reference, ops

UNITS = (3, 8, 13, 16)


def _case(dtype, units, bad, position, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(3, 6, 5)).astype(dtype)
    x[position] = bad
    kernel = (rng.normal(size=(5, 4 * units)) * 0.5).astype(dtype)
    recurrent = (rng.normal(size=(units, 4 * units)) * 0.5).astype(dtype)
    bias = rng.normal(size=(4 * units,)).astype(dtype)
    return x, kernel, recurrent, bias


def _assert_same_non_finite(got, expected, what):
    got, expected = np.asarray(got), np.asarray(expected)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected), err_msg=f"{what}: NaN positions differ")
    np.testing.assert_array_equal(np.isposinf(got), np.isposinf(expected), err_msg=f"{what}: +inf positions differ")
    np.testing.assert_array_equal(np.isfinite(got), np.isfinite(expected), err_msg=f"{what}: finite positions differ")
    finite = np.isfinite(expected)
    tolerance = 1e-4 if got.dtype == np.float32 else 1e-10
    np.testing.assert_allclose(got[finite], expected[finite], rtol=tolerance, atol=tolerance, err_msg=what)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("units", UNITS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_forward_propagates_nan_and_inf_as_the_reference(kernel_variant, dtype, units, bad):
    x, kernel, recurrent, bias = _case(dtype, units, bad, (1, 2, 0))
    with np.errstate(all="ignore"):
        got = ops.lstm_forward(x, kernel, recurrent, bias)
        expected = _reference.lstm_forward(x, kernel, recurrent, bias)
    for name in ("outputs", "h_n", "c_n"):
        _assert_same_non_finite(getattr(got, name), getattr(expected, name), f"{kernel_variant} {name}")
    if np.isnan(bad):  # NaN in one step of one sequence: that sequence is NaN from there on, the others not
        assert np.isnan(got.outputs[1, 2:]).all() and np.isfinite(got.outputs[[0, 2]]).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("units", UNITS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_backward_propagates_nan_and_inf_as_the_reference(kernel_variant, dtype, units, bad):
    x, kernel, recurrent, bias = _case(dtype, units, bad, (2, 4, 3), seed=1)
    d_outputs = np.random.default_rng(3).normal(size=(3, 6, units)).astype(dtype)
    with np.errstate(all="ignore"):
        got = ops.lstm_backward(ops.lstm_forward(x, kernel, recurrent, bias, training=True).cache, d_outputs)
        expected = _reference.lstm_backward(_reference.lstm_forward(x, kernel, recurrent, bias, training=True).cache,
                                            d_outputs)
    for name in got._fields:
        if getattr(got, name) is None or getattr(expected, name) is None:
            continue
        # inf saturates a gate: the reference's derivative is exactly 0 and inf * 0 is NaN; the kernels'
        # sigmoid is exactly 0 where the reference's exp overflows (lc_exp_negf), so NaN there too.
        _assert_same_non_finite(getattr(got, name), getattr(expected, name), f"{kernel_variant} {name}")


def test_finite_extremes_stay_finite(kernel_variant):
    """Huge but finite pre-activations saturate the gates; nothing becomes NaN or inf."""
    x, kernel, recurrent, bias = _case(np.float32, 13, 0.0, (0, 0, 0))
    x *= 1e4
    got = ops.lstm_forward(x, kernel, recurrent, bias)
    assert np.isfinite(got.outputs).all()
    with np.errstate(over="ignore"):  # the reference's exp overflows to inf, which its sigmoid turns into 0
        expected = _reference.lstm_forward(x, kernel, recurrent, bias).outputs
    np.testing.assert_allclose(got.outputs, expected, atol=1e-4)


# Zeros as the initial state skip a product: step 0's recurrent product (h0 @ recurrent kernel) and
# the h0 term of the recurrent kernel's gradient (h0^T @ step 0's gate gradients) are zero, so the
# kernels leave them out -- but not when the other factor holds inf or NaN, where zeros times it
# are NaN in the reference.  Both sizes: the row split, and the unit split of batch 1, 256 units.
SKIP_SIZES = [(3, 6, 5, 13), (1, 4, 2, 256)]


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("size", SKIP_SIZES, ids=["rows", "units"])
@pytest.mark.parametrize("threads", [1, 2])
def test_a_non_finite_recurrent_kernel_reaches_the_first_step_with_zero_initial_state(kernel_variant, bad,
                                                                                      size, threads):
    batch, steps, features, units = size
    rng = np.random.default_rng(5)
    x = rng.normal(size=(batch, steps, features)).astype(np.float32)
    kernel = (rng.normal(size=(features, 4 * units)) * 0.1).astype(np.float32)
    recurrent = (rng.normal(size=(units, 4 * units)) * 0.1).astype(np.float32)
    recurrent[units // 2, 3] = bad
    with np.errstate(all="ignore"):
        expected = _reference.lstm_forward(x, kernel, recurrent)
        for h0 in (None, np.zeros((batch, units), np.float32)):
            for training in (False, True):
                got = ops.lstm_forward(x, kernel, recurrent, h0=h0, training=training, threads=threads)
                assert np.isnan(expected.outputs[:, 0]).any()
                _assert_same_non_finite(got.outputs, expected.outputs, f"{kernel_variant} h0={h0 is not None}")


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("size", SKIP_SIZES, ids=["rows", "units"])
def test_a_non_finite_gradient_of_the_first_step_reaches_the_recurrent_gradient(kernel_variant, bad, size):
    batch, steps, features, units = size
    rng = np.random.default_rng(6)
    x = rng.normal(size=(batch, steps, features)).astype(np.float32)
    kernel = (rng.normal(size=(features, 4 * units)) * 0.1).astype(np.float32)
    recurrent = (rng.normal(size=(units, 4 * units)) * 0.1).astype(np.float32)
    d_outputs = rng.normal(size=(batch, steps, units)).astype(np.float32)
    d_outputs[0, 0, 1] = bad                  # only step 0's gate gradients become non-finite
    with np.errstate(all="ignore"):
        got = ops.lstm_backward(ops.lstm_forward(x, kernel, recurrent, training=True).cache, d_outputs)
        expected = _reference.lstm_backward(_reference.lstm_forward(x, kernel, recurrent, training=True).cache,
                                            d_outputs)
    assert np.isnan(expected.d_recurrent_kernel).any()
    _assert_same_non_finite(got.d_recurrent_kernel, expected.d_recurrent_kernel, f"{kernel_variant}")


@pytest.mark.parametrize("size", SKIP_SIZES, ids=["rows", "units"])
def test_zeros_as_initial_state_give_the_bits_of_no_initial_state(kernel_variant, size):
    """The skip applies to zeros given as much as to none; results as without it (the reference)."""
    batch, steps, features, units = size
    rng = np.random.default_rng(7)
    x = rng.normal(size=(batch, steps, features)).astype(np.float32)
    kernel = (rng.normal(size=(features, 4 * units)) * 0.1).astype(np.float32)
    recurrent = (rng.normal(size=(units, 4 * units)) * 0.1).astype(np.float32)
    zeros = np.zeros((batch, units), np.float32)
    d_outputs = rng.normal(size=(batch, steps, units)).astype(np.float32)
    none = ops.lstm_forward(x, kernel, recurrent, training=True)
    given = ops.lstm_forward(x, kernel, recurrent, h0=zeros, c0=zeros, training=True)
    np.testing.assert_array_equal(none.outputs, given.outputs)
    grads_none, grads_given = ops.lstm_backward(none.cache, d_outputs), ops.lstm_backward(given.cache, d_outputs)
    for a, b in zip(grads_none, grads_given):
        if a is not None:
            np.testing.assert_array_equal(a, b)
    expected = _reference.lstm_backward(_reference.lstm_forward(x, kernel, recurrent, training=True).cache, d_outputs)
    np.testing.assert_allclose(grads_none.d_recurrent_kernel, expected.d_recurrent_kernel, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(none.outputs, _reference.lstm_forward(x, kernel, recurrent).outputs, atol=1e-5)

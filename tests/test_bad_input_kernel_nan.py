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
        # sigmoid is exactly 0 where the reference's exp overflows (LC_SIGMOID_ZERO), so NaN there too.
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

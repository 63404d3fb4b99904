"""The opt-in bfloat16 products (lstm_gemm_bf16.h) and their API, in every kernel variant.

One step from a given state has no error to accumulate, so the kernel's
product is checked against NumPy with the same operands rounded to bfloat16:
it must match to float32 rounding, while the float32 path is visibly off.
Variants with AVX512-BF16 run the native kernel, the others emulate it.
"""
from __future__ import annotations

import threading

import numpy as np
import pytest

import lstmcore
from lstmcore import ops
from lstmcore._native import dispatch

SHAPES = [(1, 3, 128), (33, 4, 50), (64, 4, 128), (5, 2, 17), (2, 3, 256), (13, 1, 7),
          (300, 2, 128),   # 300 rows of 128 units: more than one 64 KiB block of rounded rows
          (9, 40, 64), (70, 33, 50)]   # inputs wider than 16: the input projection in bfloat16 too
NARROW_INPUTS = 16


def bfloat16(a):
    """Round float32 values to bfloat16 (nearest, ties to even), returned as float32."""
    bits = np.asarray(a, np.float32).view(np.uint32).astype(np.uint64)
    bits = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16
    return bits.astype(np.uint32).view(np.float32)


def _problem(batch, features, units, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    draw = lambda *shape: (rng.standard_normal(shape) * scale).astype(np.float32)  # noqa: E731
    return dict(x=draw(batch, 1, features), kernel=draw(features, 4 * units),
                recurrent_kernel=draw(units, 4 * units) / np.float32(np.sqrt(units)),
                bias=draw(4 * units), h0=draw(batch, units), c0=draw(batch, units))


def _one_step_reference(p, rounded):
    """h and c after one step, float64 arithmetic, the recurrent operands rounded or not."""
    h0, r = (bfloat16(p["h0"]), bfloat16(p["recurrent_kernel"])) if rounded else (p["h0"], p["recurrent_kernel"])
    x, kernel = p["x"][:, 0], p["kernel"]
    if rounded and x.shape[1] > NARROW_INPUTS:
        x, kernel = bfloat16(x), bfloat16(kernel)
    z = (x.astype(np.float64) @ kernel + h0.astype(np.float64) @ r + p["bias"])
    i, f, g, o = np.split(z, 4, axis=1)
    sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    c = sigmoid(f) * p["c0"] + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c), c


@pytest.mark.parametrize("shape", SHAPES, ids=[f"B{b}-D{d}-H{h}" for b, d, h in SHAPES])
def test_one_step_matches_numpy_with_bfloat16_operands(kernel_variant, shape):
    p = _problem(*shape)
    got = ops.lstm_forward(p["x"], p["kernel"], p["recurrent_kernel"], p["bias"], h0=p["h0"], c0=p["c0"],
                           precision="bfloat16")
    h_want, c_want = _one_step_reference(p, rounded=True)
    np.testing.assert_allclose(got.outputs[:, 0], h_want, atol=2e-5, err_msg=kernel_variant)
    np.testing.assert_allclose(got.c_n, c_want, atol=2e-5, err_msg=kernel_variant)
    h_float32, _ = _one_step_reference(p, rounded=False)
    assert np.abs(got.outputs[:, 0] - h_float32).max() > 2e-4   # it really is rounded (10x the tolerance)


def test_native_exactly_where_an_avx512_variant_runs_on_a_cpu_with_avx512_bf16(kernel_variant):
    module = dispatch.active()
    expected = "avx512f" in module.built_for() and "avx512bf16" in dispatch.cpu_features()
    assert module.bfloat16_native() == expected


@pytest.mark.parametrize("batch, units", [(1, 128), (1, 50), (3, 256)],
                         ids=["batch-1-units-split", "batch-1-odd-last-panel", "H256-units-split"])
def test_threads_and_unit_split_do_not_change_the_result(kernel_variant, batch, units):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((batch, 120, 4), dtype=np.float32)
    kernel = (rng.standard_normal((4, 4 * units)) * 0.3).astype(np.float32)
    rkernel = (rng.standard_normal((units, 4 * units)) / np.sqrt(units)).astype(np.float32)
    one = ops.lstm_forward(x, kernel, rkernel, None, precision="bfloat16", threads=1).outputs
    two = ops.lstm_forward(x, kernel, rkernel, None, precision="bfloat16", threads=2).outputs
    # both paths project the inputs with the same narrow kernel and round the same h to bfloat16
    np.testing.assert_array_equal(one, two)
    full = ops.lstm_forward(x, kernel, rkernel, None).outputs
    assert 1e-6 < np.abs(one - full).max() < 5e-3


def test_lengths_reverse_and_nan_follow_the_float32_rules(kernel_variant):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 30, 3), dtype=np.float32)
    x[2, 5, 1] = np.nan
    kernel = (rng.standard_normal((3, 200)) * 0.3).astype(np.float32)
    rkernel = (rng.standard_normal((50, 200)) * 0.1).astype(np.float32)
    lengths = np.array([30, 0, 12, 30, 7, 1])
    for reverse in (False, True):
        got = ops.lstm_forward(x, kernel, rkernel, None, lengths=lengths, reverse=reverse, precision="bfloat16")
        want = ops.lstm_forward(x, kernel, rkernel, None, lengths=lengths, reverse=reverse)
        finite = ~np.isnan(want.outputs)
        np.testing.assert_array_equal(np.isnan(got.outputs), ~finite)
        np.testing.assert_allclose(got.outputs[finite], want.outputs[finite], atol=2e-3)
        assert (got.outputs[1] == 0).all() and (got.outputs[4, 7:] == 0).all()


@pytest.mark.parametrize("arguments, message", [
    (dict(precision="float16"), "precision must be one of 'float32', 'bfloat16'; received 'float16'"),
    (dict(precision="bfloat16", training=True), "precision='bfloat16' is for inference"),
])
def test_what_the_bfloat16_path_refuses(arguments, message):
    x = np.ones((2, 3, 1), np.float32)
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        ops.lstm_forward(x, np.ones((1, 8), np.float32), np.ones((2, 8), np.float32), None, **arguments)


def test_float64_inputs_are_refused_by_name():
    x = np.ones((2, 3, 1))
    with pytest.raises(ValueError, match="precision='bfloat16' needs float32 inputs; received float64"):
        ops.lstm_forward(x, np.ones((1, 8)), np.ones((2, 8)), None, precision="bfloat16")


def _model():
    lstmcore.set_seed(0)
    model = lstmcore.Sequential([lstmcore.layers.Input((40, 4)),
                                 lstmcore.layers.Bidirectional(lstmcore.layers.LSTM(32, return_sequences=True)),
                                 lstmcore.layers.LSTM(16), lstmcore.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def test_inference_precision_is_per_thread_and_leaves_training_alone():
    model, twin = _model(), _model()
    twin.set_weights(model.get_weights())
    x = np.random.default_rng(5).standard_normal((16, 40, 4)).astype(np.float32)
    y = np.zeros((16, 1), np.float32)
    full = model.predict(x)
    seen = []
    with lstmcore.inference_precision("bfloat16"):
        assert lstmcore.get_inference_precision() == "bfloat16"
        reduced = model.predict(x)
        other = threading.Thread(target=lambda: seen.append((lstmcore.get_inference_precision(), model.predict(x))))
        other.start()
        other.join()
        model.fit(x, y, epochs=1, verbose=0, shuffle=False)
    twin.fit(x, y, epochs=1, verbose=0, shuffle=False)
    assert lstmcore.get_inference_precision() == "float32"
    assert seen[0][0] == "float32"
    np.testing.assert_array_equal(seen[0][1], full)
    assert 0 < np.abs(reduced - full).max() < 1e-2
    for trained_inside, trained_outside in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(trained_inside, trained_outside)


def test_an_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="received 'half'"):
        with lstmcore.inference_precision("half"):
            pass


def test_predict_takes_the_precision_for_one_call():
    model = _model()
    x = np.random.default_rng(6).standard_normal((9, 40, 4)).astype(np.float32)
    with lstmcore.inference_precision("bfloat16"):
        in_context = model.predict(x)
        forced_full = model.predict(x, precision="float32")
    np.testing.assert_array_equal(model.predict(x, precision="bfloat16"), in_context)
    np.testing.assert_array_equal(forced_full, model.predict(x))
    assert not np.array_equal(in_context, forced_full)
    with pytest.raises(ValueError, match="received 'int8'"):
        model.predict(x, precision="int8")

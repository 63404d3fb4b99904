"""float32 results that do not depend on the kernel variant or on how the threads shared the work.

A result of record (an accuracy, a motif) must be the same on a laptop with AVX2 and on a server
with AVX-512, and on 2 cores or 16.  The kernels get there by doing the same IEEE operations in
the same order whatever the vector width: each row's recurrent sums are split by the batch, not
by the tile or the thread (lc_k_splits in lstm_gemm.h); the cell divides instead of refining a
CPU's reciprocal estimate (lstm_cell.h); the narrow inputs' dx folds 16 lane sums by one tree
(lstm_narrow_inputs.h).  And the team shares reductions in blocks fixed by the problem, not by
the thread count (the weight gradients, lstm_kernels.pxi).  The baseline variant (x86-64 without
FMA) rounds each product on its own and is left out: it is the fallback for CPUs from before 2013.
"""
import numpy as np
import pytest

from lstmcore import _reference, ops
from lstmcore._native import dispatch

from kernel_cases import forward_args, make_problem, upstream_gradients, varied_lengths

SIMD_VARIANTS = [v for v in dispatch.supported_variants() if v != "baseline"]

# batch 1, 2, 3 (their own k-splits), 7 and 9 (cut unevenly by 2 and 4 threads, and by the AVX2
# tiles' 6 rows), 64; units 50 (gate blocks ending inside a vector), 128, and 256 (the unit split);
# one, four (one-hot DNA) and 20 (wide) input features
SHAPES = [(1, 30, 4, 128), (2, 20, 1, 50), (3, 20, 4, 64), (7, 25, 20, 128), (9, 20, 4, 50),
          (64, 12, 4, 128), (1, 15, 3, 256), (5, 10, 20, 256)]
SHAPE_IDS = ["batch1", "batch2-H50", "batch3", "batch7-wide", "batch9-H50", "batch64", "units-split",
             "units-split-wide"]


def _run(problem, threads, reverse=False):
    """Outputs, final states and every gradient of a training call, as one list of arrays."""
    args, kwargs = forward_args(problem)
    result = ops.lstm_forward(*args, **kwargs, reverse=reverse, training=True, threads=threads)
    grads = ops.lstm_backward(result.cache, *upstream_gradients(problem), threads=threads)
    return list(result[:3]) + [grads.d_x, grads.d_kernel, grads.d_recurrent_kernel, grads.d_bias,
                               grads.d_h0, grads.d_c0]


def _assert_same_bits(first, second, what):
    for index, (a, b) in enumerate(zip(first, second)):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert np.array_equal(a, b, equal_nan=True), (
            f"{what}: array {index} differs by up to {np.nanmax(np.abs(a - b)):.3g}")


@pytest.mark.skipif(len(SIMD_VARIANTS) < 2, reason="one SIMD kernel variant on this CPU: nothing to compare")
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_every_simd_variant_trains_to_the_same_bits(shape, threads):
    batch, steps, features, units = shape
    problem = make_problem(batch, steps, features, units, np.float32, scale=0.4,
                           lengths=varied_lengths(batch, steps) if batch > 2 else None,
                           initial_state=batch % 2 == 1)
    results = {}
    for variant in SIMD_VARIANTS:
        with dispatch.using(variant):
            results[variant] = _run(problem, threads, reverse=batch == 9)
    for variant in SIMD_VARIANTS[1:]:
        _assert_same_bits(results[SIMD_VARIANTS[0]], results[variant], f"{SIMD_VARIANTS[0]} vs {variant}")


def _assert_every_simd_variant_forwards_to_the_same_bits(args):
    """One-thread forward outputs and final states of `args` in each SIMD variant, compared."""
    results = {}
    for variant in SIMD_VARIANTS:
        with dispatch.using(variant):
            results[variant] = list(ops.lstm_forward(*args, threads=1)[:3])
    for variant in SIMD_VARIANTS[1:]:
        _assert_same_bits(results[SIMD_VARIANTS[0]], results[variant], variant)


@pytest.mark.skipif(len(SIMD_VARIANTS) < 2, reason="one SIMD kernel variant on this CPU: nothing to compare")
def test_saturated_and_special_gates_give_the_same_bits_on_every_simd_variant():
    """Pre-activations far past exp's range, infinities and NaN: the activations' edge cases
    (sigmoid exactly 0 and 1, tanh of +-inf, NaN carried) agree too."""
    problem = make_problem(3, 6, 4, 50, np.float32, scale=40.0)
    problem["x"][0, 2, 1] = np.inf
    problem["x"][1, 3, 0] = -np.inf
    problem["x"][2, 4, 3] = np.nan
    args, _ = forward_args(problem)
    _assert_every_simd_variant_forwards_to_the_same_bits(args)


# Gate pre-activations through the edge of float32's exp: exp(-x) overflows below -88.7228
# (sigmoid exactly 0), 2^n of the reduction reaches n = 128 from -88.38 on (no float32 bits of its
# own: the AVX2 and scalar cells apply 2^127 times 2), the clamps sit at -89 and 86.  Not within
# 1e-4 of ln(FLT_MAX), where the last ulp of the polynomial decides between FLT_MAX and inf.
EDGE_PRE_ACTIVATIONS = [-1e30, -100.0, -89.5, -89.0, -88.9, -88.8, -88.75, -88.7, -88.6, -88.5, -88.4,
                        -88.37, -88.3, -88.0, -87.5, -87.0, -86.5, -86.0, -45.0, -17.0, -1.0, 0.0, 1.0,
                        17.0, 44.0, 45.0, 86.0, 86.5, 87.0, 88.0, 88.5, 89.0, 90.0, 1e30]


def _edge_cells():
    """One row a pre-activation, every gate of the row equal to it, one step from zero state:
    c = sigmoid(v) tanh(v) shows the sigmoid's bits down to its subnormal values."""
    v = np.array(EDGE_PRE_ACTIVATIONS, np.float32)
    units = 3
    x = v.reshape(-1, 1, 1).copy()
    kernel = np.ones((1, 4 * units), np.float32)
    return x, kernel, np.zeros((units, 4 * units), np.float32), np.zeros(4 * units, np.float32)


def test_gates_at_the_edge_of_exp_match_the_reference(kernel_variant):
    """The sigmoid is the reference's float32 one where exp(-x) is about to overflow: a clamp of
    -x at 88 gave 6.05e-39 for sigmoid(-88.5), whose value is 3.67e-39."""
    args = _edge_cells()
    with np.errstate(over="ignore"):
        expected = _reference.lstm_forward(*args)
    got = ops.lstm_forward(*args, threads=1)
    np.testing.assert_allclose(got.c_n, expected.c_n, rtol=2e-6, atol=0)
    # h = o tanh(c), tanh as 2 sigmoid(2c) - 1: absolute error about 6e-8 near 0 (lstm_cell.h)
    np.testing.assert_allclose(got.outputs, expected.outputs, rtol=2e-6, atol=2e-7)


@pytest.mark.skipif(len(SIMD_VARIANTS) < 2, reason="one SIMD kernel variant on this CPU: nothing to compare")
def test_gates_at_the_edge_of_exp_give_the_same_bits_on_every_simd_variant():
    _assert_every_simd_variant_forwards_to_the_same_bits(_edge_cells())


@pytest.mark.parametrize("variant", SIMD_VARIANTS)
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_the_forward_gives_the_same_bits_at_any_thread_count(variant, shape):
    """Rows cut 4 + 3 or 3 + 3 + 3 by the threads used to sum their last rows in tiles of other
    heights, with other k-splits, than one thread's tile (batch 7: 4.7e-6 apart at 2 threads)."""
    batch, steps, features, units = shape
    problem = make_problem(batch, steps, features, units, np.float32, scale=0.4,
                           lengths=varied_lengths(batch, steps) if batch > 2 else None)
    args, kwargs = forward_args(problem)
    with dispatch.using(variant):
        one = ops.lstm_forward(*args, **kwargs, threads=1)
        for threads in (2, 3, 4):
            _assert_same_bits(list(one[:3]), list(ops.lstm_forward(*args, **kwargs, threads=threads)[:3]),
                              f"{threads} threads")


WIDE_SHAPES = [(7, 30, 40, 64), (40, 60, 24, 64), (16, 140, 64, 300)]


@pytest.mark.parametrize("variant", SIMD_VARIANTS)
@pytest.mark.parametrize("shape", SHAPES + WIDE_SHAPES,
                         ids=SHAPE_IDS + ["wide-batch7", "wide-long", "wide-beyond-own-kernel"])
def test_training_gives_the_same_bits_at_any_thread_count(variant, shape):
    """Gradients too: the weight gradients' reductions went one block per thread, their partial
    sums added in thread order, so 2 threads gave other bits than 1.  "wide-beyond-own-kernel"
    (4H = 1200) takes the BLAS for the recurrent kernel's gradient, in fixed blocks of k."""
    batch, steps, features, units = shape
    problem = make_problem(batch, steps, features, units, np.float32, scale=0.3,
                           lengths=varied_lengths(batch, steps) if batch > 2 else None,
                           initial_state=batch == 7)
    with dispatch.using(variant):
        one = _run(problem, 1)
        for threads in (2, 3):
            _assert_same_bits(one, _run(problem, threads), f"{threads} threads")


@pytest.mark.parametrize("rows", [1, 2, 3, 5, 7, 13])
def test_a_rows_product_does_not_depend_on_the_rows_computed_with_it(kernel_variant, rows):
    """The packed product of a batch's rows, all at once or cut anywhere (a thread's share, a
    tile), gives each row the same bits: the k-split follows the batch (lc_k_splits).  On AVX-512
    up to 6 rows take four panels at a time and more rows two (lstm_gemm_avx512.h): 200 columns
    are three groups of four panels and a half, so the cuts here mix both tiles."""
    rng = np.random.default_rng(rows)
    a = rng.standard_normal((rows, 96)).astype(np.float32)
    b = rng.standard_normal((96, 200)).astype(np.float32)
    native = dispatch.active()
    whole = np.zeros((rows, 200), np.float32)
    native._packed_product(a, b, False, whole, False, batch=rows)
    for cut in range(1, rows):
        parts = [np.zeros((cut, 200), np.float32), np.zeros((rows - cut, 200), np.float32)]
        native._packed_product(np.ascontiguousarray(a[:cut]), b, False, parts[0], False, batch=rows)
        native._packed_product(np.ascontiguousarray(a[cut:]), b, False, parts[1], False, batch=rows)
        np.testing.assert_array_equal(np.concatenate(parts), whole, err_msg=f"cut at {cut}")
    np.testing.assert_allclose(whole, a.astype(np.float64) @ b, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("accumulate", [False, True], ids=["written", "accumulated"])
@pytest.mark.parametrize("depth, columns", [(128, 512), (50, 200), (7, 37), (512, 16)])
@pytest.mark.parametrize("batch", [1, 2, 5])
def test_one_row_a_panel_at_a_time_gives_the_two_panel_bits(kernel_variant, batch, depth, columns, accumulate):
    """The row split's entry (lc_gemm_packed_alone_f) takes one row a panel at a time, one stream
    of weights from L2 (faster at batch 1 on AMD Zen 5), where lc_gemm_packed_f takes two panels:
    the same bits, the columns past N untouched, for the recurrence's k-splits (batch 1, 2, more)
    and odd widths (a last panel of 8 or 5 columns)."""
    rng = np.random.default_rng(depth + columns)
    a = rng.standard_normal((1, depth)).astype(np.float32)
    b = rng.standard_normal((depth, columns)).astype(np.float32)
    native = dispatch.active()
    start = rng.standard_normal((1, columns + 3)).astype(np.float32)
    results = {}
    for alone in (False, True):
        c = start.copy()
        native._packed_product(a, b, False, c, accumulate, batch=batch, alone=alone)
        results[alone] = c
    np.testing.assert_array_equal(results[True], results[False])
    np.testing.assert_array_equal(results[True][:, columns:], start[:, columns:])
    want = a.astype(np.float64) @ b + (start[:, :columns] if accumulate else 0)
    np.testing.assert_allclose(results[True][:, :columns], want, rtol=1e-4, atol=1e-3)

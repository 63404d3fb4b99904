"""The large float32 products: the input projection of wide inputs (more than 16 features), their
input gradient, and weight gradients wider than 1024 columns.  sgemm, or lstmcore's own kernels
where lstm_gemm.h chose them for the CPU (AMD with AVX-512).  Both paths, forced through the
test hook on every kernel variant, against the NumPy reference; lstmcore's also for its promise
of the same bits at any thread count and block of steps."""
from __future__ import annotations

import numpy as np
import pytest

import lstmcore
from lstmcore import _reference, ops
from lstmcore._native import dispatch
from kernel_cases import TOLERANCE, forward_args, make_problem, upstream_gradients, varied_lengths

pytestmark = pytest.mark.usefixtures("kernel_variant")


@pytest.fixture(params=["blas", "own"])
def products(request):
    """Runs the test with the large products forced onto one path, then back to the CPU's choice."""
    native = dispatch.active()
    native._set_large_products(request.param)
    yield request.param
    native._set_large_products("auto")
    lstmcore.set_num_threads(None)


def _cpu_vendor():
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("vendor_id"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


# (batch, steps, features, units): 4H = 160 is five panels (the one-panel kernel for the last),
# 300 features make blocks of 218 rows (LC_PROJECTION_BLOCK_BYTES), 300 steps two inference blocks,
# 219 rows one block (not 218 + 1) on one thread, 257 steps of one row an inference block of 1 row
# 4H = 1056 takes the weight gradients past LC_TN_MAX_N (1024 columns)
SIZES = {"odd-panels": (5, 30, 40, 40), "blocks-of-rows": (3, 300, 300, 32), "batch-of-one": (1, 25, 24, 64),
         "one-row-past-a-block": (1, 219, 300, 32), "last-inference-block-one-row": (1, 257, 40, 16),
         "wide-weight-gradients": (2, 9, 24, 264)}


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_either_path_matches_the_reference(products, size, reverse):
    batch, steps, features, units = size
    problem = make_problem(batch, steps, features, units, np.float32, lengths=varied_lengths(batch, steps),
                           initial_state=True, scale=0.1)
    args, kwargs = forward_args(problem)
    native = ops.lstm_forward(*args, **kwargs, reverse=reverse, training=True)
    reference = _reference.lstm_forward(*args, **kwargs, reverse=reverse, training=True)
    for name, got, want in zip(("outputs", "h_n", "c_n"), native[:3], reference[:3]):
        np.testing.assert_allclose(got, want, err_msg=name, **TOLERANCE[np.float32])
    grads = upstream_gradients(problem)
    got = ops.lstm_backward(native.cache, *grads)
    want = _reference.lstm_backward(reference.cache, *grads)
    for name in ("d_x", "d_kernel", "d_recurrent_kernel"):
        np.testing.assert_allclose(getattr(got, name), getattr(want, name), err_msg=name, rtol=2e-3, atol=2e-4)


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_packed_projection_gives_the_same_bits_at_any_thread_count_and_block(size):
    """Every tile of the packed projection has 4 rows or more, so each gate is summed in k order
    whatever the threads' shares, the L2 blocks or the steps per block: 1 and 2 threads, and the
    inference forward (blocks of at most 256 steps) and the training forward (all steps at once),
    give one set of bits.  The AVX2 kernel's tiles of 1 and 2 rows sum in another order, so that
    variant (which never chooses the packed projection itself) is held to rounding only."""
    native = dispatch.active()
    native._set_large_products("own")
    try:
        batch, steps, features, units = size
        problem = make_problem(batch, steps, features, units, np.float32, lengths=varied_lengths(batch, steps),
                               scale=0.1)
        args, kwargs = forward_args(problem)
        runs = {}
        for threads in (1, 2):
            for training in (False, True):
                runs[threads, training] = ops.lstm_forward(*args, **kwargs, training=training, threads=threads)[:3]
        exact = native.simd_kernel() != "avx2+fma"
        for key, run in runs.items():
            for got, want in zip(run, runs[1, False]):
                if exact:
                    np.testing.assert_array_equal(got, want, err_msg=str(key))
                else:
                    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=str(key))
    finally:
        native._set_large_products("auto")


@pytest.mark.parametrize("rows", [1, 2, 3, 4, 5, 13, 16, 17, 30])
def test_the_packed_projection_sums_each_row_alike_in_any_block(rows):
    """lc_project_packed_f's rows against the same rows of one 30-row product (tiles of 10): the
    same bits whether they come alone (1 to 3 rows: padded to 4), in one block, or split into
    blocks of 12 (5462 features) with no short last block (13 rows in one block, not 12 + 1)."""
    native = dispatch.active()
    rng = np.random.default_rng(3)
    a = rng.standard_normal((30, 5462), dtype=np.float32)
    b = rng.standard_normal((5462, 48), dtype=np.float32)
    whole = np.zeros((30, 48), np.float32)
    native._packed_product(a, b, False, whole, False)
    got = native._packed_projection(np.ascontiguousarray(a[:rows]), b)
    np.testing.assert_allclose(got, a[:rows].astype(np.float64) @ b, rtol=1e-4, atol=1e-2)
    if native.simd_kernel() != "avx2+fma":      # AVX2 tiles of 1 and 2 rows sum in another order
        np.testing.assert_array_equal(got, whole[:rows])


@pytest.mark.parametrize("case", ["float32-wide", "float32-narrow", "float64-wide", "bfloat16-wide"])
def test_the_forced_choice_reaches_the_forward(case):
    """The hook's "own" runs lc_project_packed_f for float32 with more than 16 features, and
    only there: float64 keeps BLAS, bfloat16 its own product, narrow inputs their per-step pass;
    "blas" never runs it."""
    native = dispatch.active()
    dtype = np.float64 if case.startswith("float64") else np.float32
    features = 4 if case.endswith("narrow") else 24
    problem = make_problem(2, 6, features, 16, dtype, scale=0.1)
    args, kwargs = forward_args(problem)
    precision = "bfloat16" if case.startswith("bfloat16") else "float32"
    runs = {}
    try:
        for product in ("own", "blas"):
            native._set_large_products(product)
            before = native._own_product_calls()["projection"]
            ops.lstm_forward(*args, **kwargs, precision=precision)
            runs[product] = native._own_product_calls()["projection"] - before
    finally:
        native._set_large_products("auto")
    assert runs == {"own": 1 if case == "float32-wide" else 0, "blas": 0}


@pytest.mark.parametrize("case", ["float32-wide", "float32-narrow", "float64-wide", "float32-wide-4H-1056"])
def test_the_forced_choice_reaches_the_backward(case):
    """"own" takes float32 wide inputs' dx through the packed micro-kernel (once a call), and
    weight gradients wider than 1024 columns through lstm_gemm_tn.h where the variant has it;
    float64 and narrow inputs keep their paths; "blas" takes none of them."""
    native = dispatch.active()
    dtype = np.float64 if case.startswith("float64") else np.float32
    features = 4 if "narrow" in case else 24
    units = 264 if case.endswith("1056") else 16
    problem = make_problem(2, 6, features, units, dtype, scale=0.1)
    args, kwargs = forward_args(problem)
    runs = {}
    try:
        for product in ("own", "blas"):
            native._set_large_products(product)
            cache = ops.lstm_forward(*args, **kwargs, training=True).cache
            before = native._own_product_calls()
            ops.lstm_backward(cache, *upstream_gradients(problem))
            after = native._own_product_calls()
            runs[product] = {name: after[name] - before[name] for name in ("input gradient", "wide weight gradient")}
    finally:
        native._set_large_products("auto")
    wide_float32 = dtype == np.float32 and features > 4
    wide_gradients = wide_float32 and units == 264 and native.HAS_WEIGHT_GRADIENT_KERNEL
    assert runs["blas"] == {"input gradient": 0, "wide weight gradient": 0}
    assert runs["own"]["input gradient"] == (1 if wide_float32 else 0)
    assert (runs["own"]["wide weight gradient"] > 0) == wide_gradients


def test_the_backwards_own_products_give_the_same_bits_at_any_thread_count():
    """dx of wide inputs in two blocks of 1200 rows and 1056-wide weight gradients in k blocks,
    on lstmcore's kernels: 1, 2 and 3 threads give one set of bits."""
    native = dispatch.active()
    native._set_large_products("own")
    try:
        problem = make_problem(8, 300, 24, 264, np.float32, lengths=varied_lengths(8, 300), scale=0.1)
        args, kwargs = forward_args(problem)
        grads = upstream_gradients(problem)
        runs = {}
        for threads in (1, 2, 3):
            cache = ops.lstm_forward(*args, **kwargs, training=True, threads=threads).cache
            runs[threads] = ops.lstm_backward(cache, *grads, threads=threads)
        for threads in (2, 3):
            for name in ("d_x", "d_kernel", "d_recurrent_kernel", "d_bias"):
                np.testing.assert_array_equal(getattr(runs[threads], name), getattr(runs[1], name),
                                              err_msg=f"{name}, {threads} threads")
    finally:
        native._set_large_products("auto")


def test_the_packed_and_blas_projections_agree_to_rounding():
    native = dispatch.active()
    problem = make_problem(4, 40, 64, 48, np.float32, scale=0.1)
    args, kwargs = forward_args(problem)
    outputs = {}
    try:
        for product in ("blas", "own"):
            native._set_large_products(product)
            outputs[product] = ops.lstm_forward(*args, **kwargs).outputs
    finally:
        native._set_large_products("auto")
    np.testing.assert_allclose(outputs["own"], outputs["blas"], rtol=1e-5, atol=1e-6)
    assert not np.array_equal(outputs["own"], np.zeros_like(outputs["own"]))


def test_the_cpu_choice_is_lstmcores_kernels_on_amd_with_avx512_only():
    """The choice is made from the CPU, not timed, so a result never depends on a noisy clock:
    lstmcore's kernels where they were measured faster (AMD with AVX-512), sgemm elsewhere.  The
    avx2 variant forced on such a CPU follows the CPU (the variants keep one set of bits);
    baseline, with neither the tiles nor FMA, keeps sgemm."""
    native = dispatch.active()
    expected = (dispatch.active_name() != "baseline" and _cpu_vendor() == "AuthenticAMD"
                and "avx512f" in dispatch.cpu_features())
    assert native.own_large_products() == expected
    described = dispatch.describe()["large products"]
    assert described.startswith("lstmcore's kernels" if expected else "BLAS sgemm")

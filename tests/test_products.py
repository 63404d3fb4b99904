"""Dense and Conv1D products (lstmcore._products): float32 on lstmcore's kernels, the same bits on
every SIMD variant and thread count; float64 split over the library's threads, the BLAS pinned to
one thread."""
import numpy as np
import pytest

import lstmcore as lc
from lstmcore import _products, _threads
from lstmcore._native import dispatch

SIMD_VARIANTS = [name for name in dispatch.supported_variants() if name != "baseline"]


@pytest.mark.parametrize("transposed", [False, True])
def test_split_product_equals_one_product(transposed, monkeypatch):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((300, 700))
    a = np.ascontiguousarray(a.T).T if transposed else a          # a transposed view, as x.T in d_kernel
    b = rng.standard_normal((700, 90))
    lc.set_num_threads(3)
    try:
        with _threads.blas_pinned():
            assert _threads.is_blas_pinned()
            calls = []
            monkeypatch.setattr(_products, "_executor", lambda n, real=_products._executor: calls.append(n) or real(n))
            split = _products.matmul(a, b)
        assert calls == [3, 3]                        # two blocks went to the pool, one ran here
    finally:
        lc.set_num_threads(None)
    np.testing.assert_allclose(split, a @ b, rtol=1e-10, atol=1e-10)


# (rows, inner, columns) of the three products a layer makes: x @ W, x^T dz (a transposed view),
# dz @ W^T (a transposed view of the kernel).  2400 rows are two of _packed_rows_gemm's blocks,
# 2400 k rows many of _split_k_gemm's; 3 rows of a weight gradient go to the BLAS (fewer than 4).
FORMS = {"x @ W": (2400, 104, 90), "x^T dz": (104, 2400, 90), "dz @ W^T": (2400, 90, 104),
         "one row": (1, 33, 17), "two rows": (2, 40, 21)}


def _operands(form):
    rows, inner, columns = FORMS[form]
    rng = np.random.default_rng(rows + inner)
    if form == "x^T dz":
        a = np.ascontiguousarray(rng.standard_normal((inner, rows), dtype=np.float32)).T
    else:
        a = rng.standard_normal((rows, inner), dtype=np.float32)
    if form == "dz @ W^T":
        b = np.ascontiguousarray(rng.standard_normal((columns, inner), dtype=np.float32)).T
    else:
        b = rng.standard_normal((inner, columns), dtype=np.float32)
    return a, b


@pytest.mark.parametrize("form", FORMS)
def test_float32_products_run_on_lstmcores_kernels_and_match_float64(form, monkeypatch):
    monkeypatch.setattr(np, "matmul", lambda *args, **kwargs: pytest.fail("NumPy's matmul was called"))
    a, b = _operands(form)
    if not dispatch.active().LAYER_PRODUCTS:
        pytest.skip("the baseline variant keeps NumPy's BLAS")
    got = _products.matmul(a, b)
    assert got.dtype == np.float32 and got.shape == (a.shape[0], b.shape[1])
    np.testing.assert_allclose(got, a.astype(np.float64) @ b.astype(np.float64), rtol=1e-4, atol=2e-4)


@pytest.mark.parametrize("form", FORMS)
def test_float32_products_give_the_same_bits_on_every_variant_and_thread_count(form):
    a, b = _operands(form)
    results = {}
    for variant in SIMD_VARIANTS:
        with dispatch.using(variant):
            for threads in (1, 2, 3):
                lc.set_num_threads(threads)
                try:
                    results[variant, threads] = _products.matmul(a, b)
                finally:
                    lc.set_num_threads(None)
    first = next(iter(results.values()))
    for key, got in results.items():
        np.testing.assert_array_equal(got, first, err_msg=str(key))


def test_float32_products_write_into_out_even_when_it_is_a_view():
    a, b = _operands("x^T dz")
    contiguous = np.full((a.shape[0], b.shape[1]), np.nan, np.float32)
    assert _products.matmul(a, b, out=contiguous) is contiguous
    wider = np.full((a.shape[0], b.shape[1] + 2), 7.0, np.float32)
    view = wider[:, :b.shape[1]]
    assert _products.matmul(a, b, out=view) is view
    np.testing.assert_array_equal(view, contiguous)
    np.testing.assert_array_equal(wider[:, b.shape[1]:], 7.0)
    wide_type = np.zeros((a.shape[0], b.shape[1]), np.float64)      # converted, never written as float32
    assert _products.matmul(a, b, out=wide_type) is wide_type
    np.testing.assert_array_equal(wide_type, contiguous.astype(np.float64))


def test_small_products_are_plain_matmul(monkeypatch):
    monkeypatch.setattr(_products, "_executor", lambda n: pytest.fail("no split expected"))
    rng = np.random.default_rng(1)
    small = rng.standard_normal((8, 4))
    np.testing.assert_array_equal(_products.matmul(small, small.T), small @ small.T)
    with _threads.blas_pinned():
        np.testing.assert_array_equal(_products.matmul(small, small.T), small @ small.T)


def test_a_layer_called_outside_fit_pins_the_blas_for_its_split_and_restores_it(monkeypatch):
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((300, 700)), rng.standard_normal((700, 90))
    lc.set_num_threads(2)
    try:
        before = [lib.get_num_threads() for lib in _threads._blas_libraries()]
        seen = []
        real = _products._split_rows
        monkeypatch.setattr(_products, "_split_rows",
                            lambda *args: seen.append(_threads.is_blas_pinned()) or real(*args))
        assert not _threads.is_blas_pinned()
        split = _products.matmul(a, b)
        assert seen == [True] and not _threads.is_blas_pinned()
        assert [lib.get_num_threads() for lib in _threads._blas_libraries()] == before
    finally:
        lc.set_num_threads(None)
    np.testing.assert_allclose(split, a @ b, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("shape", [(1, 5), (7, 3), (1000, 37), (64, 1)])
def test_float32_sums_are_in_a_fixed_order_and_never_reach_the_blas(shape, monkeypatch):
    """column_sums and last_axis_sum (bias gradients, softmax, BatchNormalization) add in row or
    column order natively for float32: the BLAS's product with ones summed in its kernel's order,
    the CPU's.  A sequential float64 sum of the same floats rounded once matches them to float32
    rounding, and NumPy's dot is never called."""
    from lstmcore.activations import last_axis_sum
    from lstmcore.layers.base import column_sums

    monkeypatch.setattr(np, "dot", lambda *args, **kwargs: pytest.fail("np.dot was called"))
    m = np.random.default_rng(shape[0]).standard_normal(shape).astype(np.float32)
    by_column = np.zeros(shape[1], np.float32)
    for row in m:
        by_column = by_column + row                      # float32 adds in row order
    np.testing.assert_array_equal(column_sums(m), by_column)
    by_row = np.zeros(shape[0], np.float32)
    for column in m.T:
        by_row = by_row + column
    np.testing.assert_array_equal(last_axis_sum(m)[:, 0], by_row)
    out = np.full(shape[1], np.nan, np.float32)
    assert column_sums(m, out=out) is out and np.array_equal(out, by_column)

"""Dense and Conv1D products split over the library's threads, the BLAS pinned to one thread (lstmcore._products)."""
import numpy as np
import pytest

import lstmcore as lc
from lstmcore import _products, _threads


@pytest.mark.parametrize("transposed", [False, True])
def test_split_product_equals_one_product(transposed, monkeypatch):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((300, 700)).astype("float32")
    a = np.ascontiguousarray(a.T).T if transposed else a          # a transposed view, as x.T in d_kernel
    b = rng.standard_normal((700, 90)).astype("float32")
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
    np.testing.assert_allclose(split, a @ b, rtol=1e-5, atol=1e-4)


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

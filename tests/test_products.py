"""Dense and Conv1D products split over the library's threads while the BLAS is pinned (lstmcore._products)."""
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


def test_small_or_unpinned_products_are_plain_matmul(monkeypatch):
    monkeypatch.setattr(_products, "_executor", lambda n: pytest.fail("no split expected"))
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((300, 700)), rng.standard_normal((700, 90))
    assert not _threads.is_blas_pinned()
    np.testing.assert_array_equal(_products.matmul(a, b), np.matmul(a, b))   # not pinned: NumPy's own
    with _threads.blas_pinned():
        small = rng.standard_normal((8, 4))
        np.testing.assert_array_equal(_products.matmul(small, small.T), small @ small.T)

"""The weight gradients' product C = [C +] A^T B (lstm_gemm_tn.h) in every variant.

Training reaches it through d_rkernel and, for wide inputs, d_kernel; this
drives it directly (through the same _gemm call, so variants without the
kernel check their BLAS path) over every row-tile height, column tails of a
32-column strip and of a 512-column block, k blocks of 128 and their
remainders, against float64 NumPy, and checks that columns past N are never
written and that C's old values are ignored when not accumulating.
"""
from __future__ import annotations

import numpy as np
import pytest

from lstmcore._native import dispatch

ROWS = list(range(1, 27)) + [64, 128]
COLUMNS = [1, 15, 16, 17, 32, 33, 200, 512, 513, 1024, 1025]
DEPTHS = [0, 1, 5, 127, 128, 129, 300]


def _product(rows, depth, columns, accumulate, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((depth, rows), dtype=np.float32)
    b = rng.standard_normal((depth, columns), dtype=np.float32)
    sentinel = np.float32(12345.0)
    c = np.full((rows, columns + 3), sentinel, np.float32)
    if accumulate:
        c[:, :columns] = rng.standard_normal((rows, columns), dtype=np.float32)
    else:
        c[:, :columns] = np.nan        # never read when writing (BLAS's beta = 0)
    before = c.copy()
    dispatch.active()._weight_gradient_product(a, b, c, accumulate)
    want = a.T.astype(np.float64) @ b.astype(np.float64)
    if accumulate:
        want += before[:, :columns]
    return c, want, before


@pytest.mark.parametrize("accumulate", [False, True], ids=["write", "accumulate"])
def test_every_tile_and_block_shape_matches_float64(kernel_variant, accumulate):
    for rows in ROWS:
        for columns in COLUMNS if rows in (1, 4, 12, 13, 64) else COLUMNS[:7]:
            for depth in DEPTHS:
                c, want, before = _product(rows, depth, columns, accumulate)
                where = f"{kernel_variant} M={rows} K={depth} N={columns}"
                np.testing.assert_allclose(c[:, :columns], want, rtol=1e-5,
                                           atol=1e-5 * np.sqrt(max(depth, 1)), err_msg=where)
                np.testing.assert_array_equal(c[:, columns:], before[:, columns:], err_msg=where)


def test_nan_in_one_input_row_stays_in_its_output_row(kernel_variant):
    a = np.ones((300, 13), np.float32)     # k = 300: three k blocks
    a[200, 4] = np.nan
    b = np.ones((300, 40), np.float32)
    c = np.zeros((13, 40), np.float32)
    dispatch.active()._weight_gradient_product(a, b, c, False)
    assert np.isnan(c[4]).all()
    assert np.isfinite(np.delete(c, 4, axis=0)).all()


def test_variants_built_with_avx2_have_the_kernel_and_the_baseline_uses_blas(kernel_variant):
    module = dispatch.active()
    assert module.HAS_WEIGHT_GRADIENT_KERNEL == ("avx2" in module.built_for())
    if kernel_variant in ("baseline", "avx2", "avx512"):
        assert module.HAS_WEIGHT_GRADIENT_KERNEL == (kernel_variant != "baseline")

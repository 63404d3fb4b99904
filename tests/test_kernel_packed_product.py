"""The packed recurrent product (lstm_gemm.h, lstm_gemm_avx512.h) in every variant, every tile shape.

The recurrence only reaches the shapes its layer sizes give; this drives the
micro-kernel directly over every tile height (1 to 12 rows and beyond), lone
and partial panels, both operand layouts and both write modes, against
float64 NumPy, and checks that columns past N are never written.
"""
from __future__ import annotations

import numpy as np
import pytest

from lstmcore._native import dispatch

ROWS = list(range(1, 27)) + [64]
COLUMNS = [1, 7, 16, 17, 31, 32, 33, 48, 50, 64, 80, 200]
DEPTHS = [1, 3, 5, 64, 129]


def _product(rows, depth, columns, transpose, accumulate, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((rows, depth), dtype=np.float32)
    b = rng.standard_normal((columns, depth) if transpose else (depth, columns), dtype=np.float32)
    sentinel = np.float32(12345.0)
    c = np.full((rows, columns + 5), sentinel, np.float32)
    c[:, :columns] = rng.standard_normal((rows, columns), dtype=np.float32)
    before = c.copy()
    dispatch.active()._packed_product(a, b, transpose, c, accumulate)
    op_b = b.T if transpose else b
    want = a.astype(np.float64) @ op_b.astype(np.float64)
    if accumulate:
        want += before[:, :columns]
    return c, want, before


@pytest.mark.parametrize("transpose", [False, True], ids=["b", "b-transposed"])
@pytest.mark.parametrize("accumulate", [False, True], ids=["write", "accumulate"])
def test_every_tile_shape_matches_float64(kernel_variant, transpose, accumulate):
    for rows in ROWS:
        for columns in COLUMNS:
            for depth in DEPTHS:
                c, want, before = _product(rows, depth, columns, transpose, accumulate)
                where = f"{kernel_variant} M={rows} K={depth} N={columns}"
                np.testing.assert_allclose(c[:, :columns], want, rtol=1e-5, atol=1e-5 * np.sqrt(depth),
                                           err_msg=where)
                np.testing.assert_array_equal(c[:, columns:], before[:, columns:], err_msg=where)


@pytest.mark.parametrize("batch", [None, 3, 64], ids=["own-batch", "batch-3", "batch-64"])
def test_no_rows_write_nothing(kernel_variant, batch):
    """A product of zero rows is a no-op: the four-panel tiles' switch takes any row count it
    does not name for one row, so zero rows must not reach it (they wrote a row of C)."""
    buffer = np.full((2, 128), 7.0, np.float32)
    rows = buffer[:0]                                   # zero rows at the buffer's start
    dispatch.active()._packed_product(np.zeros((0, 32), np.float32), np.ones((32, 128), np.float32),
                                      False, rows, False, batch=batch)
    np.testing.assert_array_equal(buffer, 7.0)


def test_nan_in_one_row_stays_in_that_row(kernel_variant):
    a = np.ones((13, 8), np.float32)
    a[4, 3] = np.nan
    b = np.ones((8, 40), np.float32)
    c = np.zeros((13, 40), np.float32)
    dispatch.active()._packed_product(a, b, False, c, False)
    assert np.isnan(c[4]).all()
    assert np.isfinite(np.delete(c, 4, axis=0)).all()


@pytest.mark.parametrize("inputs", [1, 2, 3, 4, 5, 8, 13, 16])
def test_the_step_with_its_narrow_projection_inside_gives_the_stored_projections_bits(kernel_variant, inputs):
    """The row split's step starts each tile's sums from the narrow projection in registers
    (lc_gemm_packed_narrow_f, family N on AVX-512); the unit split stores the projection of its
    own columns and accumulates the product onto it.  Both must give the same bits, for every
    tile height, whole and partial pairs of panels and every narrow width, and match float64."""
    native = dispatch.active()
    rng = np.random.default_rng(inputs)
    for rows in [1, 2, 3, 4, 5, 11, 12, 13, 25]:
        for columns in [16, 32, 48, 80, 160]:
            a = rng.standard_normal((rows, 40), dtype=np.float32)
            b = rng.standard_normal((40, columns), dtype=np.float32)
            x = rng.standard_normal((rows, inputs), dtype=np.float32)
            w = rng.standard_normal((inputs, columns), dtype=np.float32)
            fused = native._packed_narrow_product(a, b, x, w, True)
            stored = native._packed_narrow_product(a, b, x, w, False)
            np.testing.assert_array_equal(fused, stored, err_msg=f"rows {rows} columns {columns}")
            want = x.astype(np.float64) @ w + a.astype(np.float64) @ b
            np.testing.assert_allclose(fused, want, rtol=1e-4, atol=1e-4)

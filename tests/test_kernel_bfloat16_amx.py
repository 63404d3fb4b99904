"""The bfloat16 product on AMX tiles (lstm_gemm_amx.h).

Its blocking and strides are checked on every CPU by a C harness that defines the tile
instructions in C (tests/native/amx_emulated.c).  On a CPU with AMX-BF16 (Intel Xeon from
Sapphire Rapids on) the real tiles must give the vector kernel's results up to the order of
the float32 sums, and NumPy's with the same bfloat16 operands.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from lstmcore import ops
from lstmcore._native import dispatch

from test_kernel_bfloat16 import _one_step_reference, _problem

ROOT = Path(__file__).resolve().parents[1]


def _cpu_flags():
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    return {flag for line in text.splitlines() if line.startswith("flags") for flag in line.split(":")[1].split()}


def _tiles(on):
    return dispatch.active()._set_bfloat16_amx(on)


@pytest.mark.parametrize("flags", [[], ["-march=native"]], ids=["portable", "native"])
def test_the_tile_blocking_against_a_c_model_of_the_instructions(tmp_path, flags):
    compiler = shutil.which("gcc") or shutil.which("cc")
    assert compiler, "the package builds with a C compiler; this harness needs one too"
    binary = tmp_path / "amx_emulated"
    subprocess.run([compiler, "-O2", *flags, f"-I{ROOT / 'lstmcore' / '_native'}",
                    str(ROOT / "tests" / "native" / "amx_emulated.c"), "-o", str(binary), "-lm"], check=True)
    run = subprocess.run([str(binary)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ok: 192 products"


def test_tiles_only_on_an_avx512_variant_of_a_cpu_with_amx(kernel_variant):
    module = dispatch.active()
    if module.bfloat16_amx():
        assert {"amx_bf16", "amx_tile"} <= _cpu_flags()
        assert module.bfloat16_native()
    if not {"amx_bf16", "amx_tile"} <= _cpu_flags() or not module.bfloat16_native():
        assert not module.bfloat16_amx()


@pytest.fixture
def tiles(kernel_variant):
    if not dispatch.active().bfloat16_amx():
        pytest.skip("no AMX tiles here: they need AMX-BF16 (Intel Xeon from Sapphire Rapids on) "
                    "and an AVX-512 variant")
    yield
    _tiles(True)


SHAPES = [(16, 4, 32), (17, 4, 128), (40, 64, 64), (64, 4, 128), (70, 128, 96)]


@pytest.mark.parametrize("shape", SHAPES, ids=[f"B{b}-D{d}-H{h}" for b, d, h in SHAPES])
def test_one_step_on_tiles_matches_numpy_and_the_vector_kernel(tiles, shape):
    p = _problem(*shape)
    args = (p["x"], p["kernel"], p["recurrent_kernel"], p["bias"])
    on_tiles = ops.lstm_forward(*args, h0=p["h0"], c0=p["c0"], precision="bfloat16")
    assert _tiles(False) is False
    vector = ops.lstm_forward(*args, h0=p["h0"], c0=p["c0"], precision="bfloat16")
    h_want, c_want = _one_step_reference(p, rounded=True)
    np.testing.assert_allclose(on_tiles.outputs[:, 0], h_want, atol=2e-5)
    np.testing.assert_allclose(on_tiles.c_n, c_want, atol=2e-5)
    np.testing.assert_allclose(on_tiles.outputs, vector.outputs, atol=2e-5)


@pytest.mark.parametrize("threads", [1, 2])
def test_a_sequence_on_tiles_stays_with_the_vector_kernel(tiles, threads):
    rng = np.random.default_rng(5)
    batch, steps, units = 48, 60, 256          # H >= 256: the team splits the units
    x = rng.standard_normal((batch, steps, 24), dtype=np.float32)
    kernel = (rng.standard_normal((24, 4 * units)) * 0.2).astype(np.float32)
    rkernel = (rng.standard_normal((units, 4 * units)) / np.sqrt(units)).astype(np.float32)
    lengths = rng.integers(1, steps + 1, batch)
    on_tiles = ops.lstm_forward(x, kernel, rkernel, None, lengths=lengths, precision="bfloat16",
                                threads=threads).outputs
    _tiles(False)
    vector = ops.lstm_forward(x, kernel, rkernel, None, lengths=lengths, precision="bfloat16",
                              threads=threads).outputs
    # the two sum in different orders; over 60 steps a last-bit difference in h now and then
    # rounds to the other bfloat16 (a step of 2^-8 relative), which the next steps carry.  On
    # the Xeon of family 6 model 207: 417 of 737,280 outputs more than 1e-4 apart, at most 3.8e-4.
    difference = np.abs(on_tiles - vector)
    assert difference.max() < 2e-3
    assert np.mean(difference > 1e-4) < 0.01
    assert np.all(on_tiles[np.arange(steps) >= lengths[:, None]] == 0)

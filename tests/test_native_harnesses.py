"""The C harnesses of benchmarks/native/ build against the kernel headers as they are and measure.

They time the product, the cell and the machine's read rate alone (the figures of
benchmarks/results/bounds_amd_zen4.md); a header change that breaks them should fail here, not
in the next session that needs them.  Built as their comments say, with -march=native (the
machine running the tests runs what it builds); the AVX-512 read harness runs only where the
CPU has AVX-512.
"""
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from lstmcore._native import dispatch

ROOT = Path(__file__).resolve().parents[1]
HARNESSES = ROOT / "benchmarks" / "native"
FLAGS = ["-O3", "-march=native", "-fno-math-errno", "-fno-trapping-math", f"-I{ROOT / 'lstmcore' / '_native'}"]


def _build(name, tmp_path, flags):
    compiler = shutil.which("gcc") or shutil.which("cc")
    assert compiler, "the package builds with a C compiler; the harnesses need one too"
    binary = tmp_path / name
    subprocess.run([compiler, *flags, str(HARNESSES / f"{name}.c"), "-o", str(binary), "-lm"], check=True)
    return binary


def _run(binary, *args):
    return subprocess.run([str(binary), *map(str, args)], check=True, capture_output=True, text=True).stdout


def test_the_product_harness_reports_rates(tmp_path):
    out = _run(_build("packed_product", tmp_path, FLAGS), 16, 3)
    match = re.search(r"H=16 rows=3: ([\d.]+) us, weights ([\d.]+) GB/s, ([\d.]+) GFLOP/s", out)
    assert match, out
    assert all(float(value) > 0 for value in match.groups())


def test_the_cell_harness_reports_both_passes(tmp_path):
    out = _run(_build("cell_passes", tmp_path, FLAGS), 20, 2)
    match = re.search(r"H=20 B=2: cell ([\d.]+) us a step; activations ([\d.]+) ns per 16 gates, "
                      r"second pass (-?[\d.]+) ns per 16 cells", out)
    assert match, out
    assert float(match.group(1)) > 0 and float(match.group(2)) > 0


@pytest.mark.skipif("avx512f" not in dispatch.cpu_features(), reason="the read harness is AVX-512 code")
def test_the_read_harness_reports_each_size(tmp_path):
    out = _run(_build("stream_read", tmp_path, ["-O2", "-mavx512f", "-mfma"]), 16, 64)
    rates = re.findall(r"(\d+) KiB:\s+([\d.]+) GB/s", out)
    assert [size for size, _ in rates] == ["16", "64"] and all(float(rate) > 0 for _, rate in rates), out


def test_the_fma_ceiling_harness_reports_each_width(tmp_path):
    out = _run(_build("fma_peak", tmp_path, ["-O2"]))
    widths = dict(re.findall(r"(\d+)-bit FMAs: ([\d.]+) GFLOP/s", out))
    assert float(widths["256"]) > 0, out
    assert ("512" in widths) == ("avx512f" in dispatch.cpu_features()), out


def test_the_instruction_rates_harness_reports_the_cells_instructions(tmp_path):
    out = _run(_build("instruction_rates", tmp_path, ["-O2"]), 4.0)
    if "avx512f" not in dispatch.cpu_features():
        assert out.strip() == "no AVX-512F on this CPU"
        return
    rates = dict(re.findall(r"^(\S+(?: \+ \S+)?)\s+([\d.]+) ns each = [\d.]+ cycles", out, re.M))
    assert set(rates) == {"vdivps", "vscalefps", "vrndscaleps", "vminps", "vaddps", "vmulps", "vfmadd231ps",
                          "vfmadd + vaddps"}, out
    assert all(float(ns) > 0 for ns in rates.values())

"""benchmarks/check_ratios.py reports the ratios that fell, and only those."""
import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "check_ratios.py"
spec = importlib.util.spec_from_file_location("check_ratios", SCRIPT)
check_ratios = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_ratios)

TABLE = """# bench
| config | B,T,D,H | mode | threads | torch ms | lstmcore ms | ratio |
|---|---|---|---|---|---|---|
| seed | 32,10,1,50 | inference | 1 | 0.5 | 0.2 | **{seed}** |
| dna | 64,200,4,128 | training | 2 | 100 | 50 | **{dna}** |

| config | mode | framework | 1 thr | 2 thr |
|---|---|---|---|---|
| dna | training | lstmcore | 1.00 | 0.90 |
"""


def write(path, seed, dna):
    path.write_text(TABLE.format(seed=seed, dna=dna))
    return path


def test_a_fall_beyond_the_tolerance_is_reported_and_exits_1(tmp_path, capsys):
    baseline = write(tmp_path / "base.md", 2.50, 2.00)
    fresh = write(tmp_path / "fresh.md", 1.50, 1.95)
    assert check_ratios.main([str(fresh), "--baseline", str(baseline)]) == 1
    out = capsys.readouterr().out
    assert "FELL  config=seed" in out and "2.50 -> 1.50" in out
    assert "config=dna" not in out            # 2.5 % lower: within the 15 % tolerance


def test_equal_or_better_ratios_pass(tmp_path, capsys):
    baseline = write(tmp_path / "base.md", 2.50, 2.00)
    fresh = write(tmp_path / "fresh.md", 2.60, 2.00)
    assert check_ratios.main([str(fresh), "--baseline", str(baseline)]) == 0
    assert "compared 2 ratios" in capsys.readouterr().out


def test_a_ratio_with_its_range_over_rounds_is_read_by_its_median(tmp_path, capsys):
    baseline = write(tmp_path / "base.md", "2.50x (2.10-2.90)", 2.00)
    fresh = write(tmp_path / "fresh.md", "1.50x (1.20-1.70)", 2.00)
    assert check_ratios.main([str(fresh), "--baseline", str(baseline)]) == 1
    assert "2.50 -> 1.50" in capsys.readouterr().out

"""The evaluation script on a small real subset: hare and lynx 1900-1920, the last 5 years, one seed."""
import importlib.util

import pytest

from population_testdata import REPO


@pytest.fixture(scope="module")
def evaluation():
    path = REPO / "plugins" / "population" / "evaluation" / "evaluate_real_data.py"
    spec = importlib.util.spec_from_file_location("evaluate_real_data", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_hare_lynx_one_step_beats_naive_and_reproduces_the_readme(evaluation, real_data):
    case, seed, lookback, scores = evaluation.run_case(("hare_lynx", 0))
    for series, (naive_rmse, naive_mae, ar2_rmse, ar2_mae) in (("hare_thousands", evaluation.README["hare_thousands"]),
                                                               ("lynx_thousands", evaluation.README["lynx_thousands"])):
        assert scores["naive"][series]["rmse"] == pytest.approx(naive_rmse, abs=1e-3)
        assert scores["ar2"][series]["mae"] == pytest.approx(ar2_mae, abs=1e-3)
        assert scores["lstm"][series]["rmse"] < naive_rmse
    assert scores["lstm"]["hare_thousands"]["rmse"] < evaluation.README["hare_thousands"][2]  # AR(2): 12.16
    table = evaluation.table({"hare_lynx": {"lookback": lookback, "lstm": {s: [v] for s, v in scores["lstm"].items()},
                                            "baselines": {s: {m: scores[m][s] for m in scores if m != "lstm"}
                                                          for s in scores["lstm"]}}})
    assert table[2].startswith("| lynx_thousands | 5 | 2 |")

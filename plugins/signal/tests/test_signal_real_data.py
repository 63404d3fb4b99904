"""A reduced run of evaluation/evaluate_real_data.py: one seed on TwoLeadECG (23 training traces, about
10 s), and the published numbers the table sets beside ours, read from the baselines files.

Measured (evaluation/RESULTS.md): TwoLeadECG 0.9991 (seed 0), where 1-NN DTW gets 0.8683 and
Karim et al.'s LSTM-FCN 0.9991.
"""
import importlib.util
from pathlib import Path

import pytest

EVALUATION = Path(__file__).resolve().parents[1] / "evaluation" / "evaluate_real_data.py"


@pytest.fixture(scope="module")
def evaluation():
    spec = importlib.util.spec_from_file_location("evaluate_real_data", EVALUATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not module.DATA.exists():
        pytest.skip(f"real data absent: {module.DATA}")
    return module


def test_two_lead_ecg_beats_1nn_dtw_with_the_default_model(evaluation):
    result = evaluation.fit_and_score(("TwoLeadECG", 0, None))
    assert result["accuracy"] >= 0.95 > evaluation.published("TwoLeadECG")["1-NN DTW (learned w)"]


def test_published_numbers_are_the_readmes(evaluation):
    numbers = evaluation.published("ECG200")
    expected = {"1-NN ED": 0.88, "1-NN DTW (learned w)": 0.88, "1-NN DTW (full)": 0.77, "LSTM-FCN": 0.87,
                "ALSTM-FCN": 0.90, "FCN (Fawaz, mean of 5)": 0.888, "ResNet (Fawaz, mean of 5)": 0.874}
    assert numbers == pytest.approx(expected, abs=1e-9)
    assert evaluation.published("TwoLeadECG")["LSTM-FCN"] == pytest.approx(0.99912)
    assert evaluation.published("ECGFiveDays")["1-NN DTW (learned w)"] == pytest.approx(0.7967)


def test_the_table_has_a_row_per_data_set_with_median_and_times(evaluation):
    results = [{"dataset": "ECG200", "seed": s, "accuracy": a, "seconds": 2.0}
               for s, a in enumerate((0.8, 0.9, 0.85))]
    text = evaluation.markdown(evaluation.summarise(results, ["ECG200"]), "cmd", 6.0, 2)
    row = next(line for line in text.splitlines() if line.startswith("| ECG200"))
    assert "**0.8500**" in row and "0.8000, 0.9000, 0.8500" in row and row.endswith("| 2.0 | 6.0 |")

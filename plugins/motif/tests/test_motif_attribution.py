"""Gradient x input against finite differences; ISM against single predictions of each mutant."""
import numpy as np
import pytest

import lstmcore
from lstmcore.attribution import (gradient_x_input, in_silico_mutagenesis, strand_probabilities_of_mutants,
                                        target_log_probability)
from lstmcore_motif.model import build_classifier

HYPER = {"units": 3, "dropout": 0.0, "learning_rate": 0.01, "optimizer": "adam"}


def small_model(pooling, dtype="float64"):
    lstmcore.set_seed(3)
    previous = lstmcore.floatx()
    lstmcore.set_floatx(dtype)
    try:
        return build_classifier({"encoder": {"name": "dna", "gaps": "error"}, "classes": ["a", "b"]},
                                dict(HYPER, pooling=pooling))
    finally:
        lstmcore.set_floatx(previous)


def one_hot(length, seed=0, dtype=np.float64):
    return np.eye(4, dtype=dtype)[np.random.default_rng(seed).integers(0, 4, length)]


@pytest.mark.parametrize("both_strands", [False, True], ids=["one-strand", "reverse-complement-averaged"])
@pytest.mark.parametrize("pooling", ["max", "mean", "last"])
def test_gradient_equals_central_finite_differences(pooling, both_strands):
    model = small_model(pooling)
    x = one_hot(9)[None] * 0.9 + 0.025       # off the one-hot corners, so max pooling is smooth here
    lengths = np.array([9])
    gradient, contribution = gradient_x_input(model, x, lengths, np.array([1]), both_strands)
    step = 1e-6
    numeric = np.zeros_like(x)
    for t in range(x.shape[1]):
        for c in range(4):
            plus, minus = x.copy(), x.copy()
            plus[0, t, c] += step
            minus[0, t, c] -= step
            numeric[0, t, c] = (target_log_probability(model, plus, lengths, np.array([1]), both_strands)[0]
                                - target_log_probability(model, minus, lengths, np.array([1]), both_strands)[0]) / (2 * step)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(contribution, gradient * x)


@pytest.mark.parametrize("both_strands", [False, True], ids=["one-strand", "reverse-complement-averaged"])
@pytest.mark.parametrize("pooling", ["max", "last"])
def test_ism_scores_equal_single_predictions_of_each_mutant(pooling, both_strands):
    model = small_model(pooling, "float32")
    x = one_hot(12, seed=1, dtype=np.float32)
    result = in_silico_mutagenesis(model, x, 1, both_strands)
    for p in range(x.shape[0]):
        for b in range(4):
            mutant = x.copy()
            mutant[p] = 0.0
            mutant[p, b] = 1.0
            single = target_log_probability(model, mutant[None], None, np.array([1]), both_strands)[0]
            assert result.mutant[p, b] == pytest.approx(single, abs=2e-6)
    assert result.delta[np.arange(12), x.argmax(1)] == pytest.approx(0.0, abs=1e-7)


def test_prefix_reuse_gives_the_same_mutant_predictions_as_full_forward_passes():
    model = small_model("max", "float32")
    x = one_hot(25, seed=2, dtype=np.float32)
    fast = strand_probabilities_of_mutants(model, x, reuse_prefix=True)
    full = strand_probabilities_of_mutants(model, x, reuse_prefix=False)
    np.testing.assert_allclose(fast, full, atol=1e-6)

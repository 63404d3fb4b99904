"""Windows and transforms exact on hand-made series; the ensemble folded into one model; the losses."""
import numpy as np
import pytest

from lstmcore_population import transforms
from lstmcore_population.windows import cut_windows, last_window, model_inputs


def test_windows_hand_made_two_series_lookback2_horizon2():
    targets = np.array([[1, 10], [2, 20], [3, 30], [4, 40], [5, 50]], float)
    x, y, origins = cut_windows(targets, targets, lookback=2, horizon=2)
    assert origins.tolist() == [2, 3]
    assert x.tolist() == [[[1, 10], [2, 20]], [[2, 20], [3, 30]]]
    assert y.tolist() == [[3, 30, 4, 40], [4, 40, 5, 50]]  # step-major: (t, s0), (t, s1), (t+1, s0) ...


def test_windows_differenced_targets_are_changes_from_the_last_input():
    targets = np.array([[1.0], [2.0], [4.0], [7.0]])
    _, y, _ = cut_windows(targets, targets, lookback=2, horizon=1, difference=True)
    assert y.ravel().tolist() == [2.0, 3.0]


def test_windows_with_a_missing_target_are_dropped_and_flags_are_channels():
    values = np.array([[1.0], [np.nan], [3.0], [4.0], [5.0]])
    observed = np.isfinite(values)
    inputs = model_inputs(np.nan_to_num(values), observed, None)
    assert inputs[:, 1].tolist() == [1, 0, 1, 1, 1]
    _, y, origins = cut_windows(inputs, values, lookback=1, horizon=1)
    assert origins.tolist() == [2, 3, 4]  # the window whose target is row 1 is gone
    assert last_window(inputs, 2).shape == (1, 2, 2)


@pytest.mark.parametrize("kind", ["log1p", "boxcox", "none"])
def test_inverse_transform_is_exact(kind):
    counts = np.array([[0, 5], [3, 50], [10, 500], [7, 120], [1, 9]], float)
    params = transforms.fit_transform(counts, kind)
    np.testing.assert_allclose(transforms.inverse(transforms.forward(counts, params), params), counts,
                               rtol=1e-9, atol=1e-9)


def test_log1p_scaling_by_hand():
    counts = np.array([[0.0], [np.e - 1], [np.e ** 2 - 1]])  # log1p: 0, 1, 2 -> mean 1, std sqrt(2/3)
    params = transforms.fit_transform(counts, "log1p")
    assert params["mean"] == pytest.approx([1.0])
    assert params["scale"] == pytest.approx([np.sqrt(2 / 3)])
    np.testing.assert_allclose(transforms.forward(counts, params).ravel(), np.array([-1, 0, 1]) / np.sqrt(2 / 3))


def test_transforms_fit_on_the_observed_values_only():
    with_gap = transforms.fit_transform(np.array([[1.0], [np.nan], [3.0]]), "log1p")
    without = transforms.fit_transform(np.array([[1.0], [3.0]]), "log1p")
    assert with_gap == without


def test_merged_ensemble_equals_the_mean_of_its_members():
    import lstmcore
    from lstmcore_population.model import build_network, merge_members

    lstmcore.set_seed(3)
    members = [build_network(3, 4, 5, loss="mse", learning_rate=0.01) for _ in range(3)]
    wide = build_network(3, 4, 15, loss="mse", learning_rate=0.01)
    merge_members(members, wide)
    x = np.random.default_rng(0).normal(size=(6, 7, 3)).astype(np.float32)
    expected = np.mean([m.predict(x) for m in members], axis=0)
    np.testing.assert_allclose(wide.predict(x), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["poisson_log", "negative_binomial"])
def test_count_loss_gradients_match_finite_differences(name):
    from lstmcore import registry
    from lstmcore.plugin.testing import check_loss_gradient

    loss = registry.losses.get(name)()
    rng = np.random.default_rng(0)
    check_loss_gradient(loss, rng.poisson(3.0, size=(5, 3)).astype(np.float64), rng.normal(0.5, 0.5, size=(5, 3)))


def test_negative_binomial_is_minimal_at_the_true_mean():
    from lstmcore_population.losses import NegativeBinomialLog

    loss, y = NegativeBinomialLog(5.0), np.full((1, 1), 4.0)
    values = [loss(y, np.full((1, 1), np.log(mu))) for mu in (2.0, 4.0, 8.0)]
    assert values[1] < values[0] and values[1] < values[2]

"""The task toolkit: splits, scores, cross-validation, the task's validation split, the gradient seam."""
from __future__ import annotations

import numpy as np
import pytest

import lstmcore
from lstmcore import toolkit as tk


# --- scores -----------------------------------------------------------------------------------
def test_classification_scores_by_hand():
    y = np.array([0, 0, 1, 1, 1])
    probabilities = np.array([[0.9, 0.1], [0.4, 0.6], [0.3, 0.7], [0.2, 0.8], [0.6, 0.4]])
    report = tk.classification_scores(y, probabilities, ["neg", "pos"])
    assert report["accuracy"] == pytest.approx(3 / 5)
    assert report["balanced_accuracy"] == pytest.approx((1 / 2 + 2 / 3) / 2)
    # positives' scores 0.7, 0.8, 0.4 against negatives' 0.1, 0.6: 5 of 6 pairs ordered
    assert report["auroc"] == pytest.approx(5 / 6)
    assert report["precision[pos]"] == pytest.approx(2 / 3) and report["recall[pos]"] == pytest.approx(2 / 3)
    assert report["precision[neg]"] == pytest.approx(1 / 2) and report["recall[neg]"] == pytest.approx(1 / 2)
    assert report["macro_f1"] == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert report["confusion[neg->pos]"] == 1 and report["confusion[pos->neg]"] == 1
    assert report["log_loss"] == pytest.approx(-np.mean(np.log([0.9, 0.4, 0.7, 0.8, 0.4])))
    assert report["n"] == 5


def test_binary_auroc_counts_ties_as_half_and_ranks_non_finite_last():
    assert tk.binary_auroc([1.0, 2.0], [1.0, 0.0]) == pytest.approx((1 + 0.5 + 1 + 1) / 4)
    assert tk.binary_auroc([-np.inf, 3.0], [0.0]) == pytest.approx(0.5)
    assert np.isnan(tk.binary_auroc([], [1.0]))


def test_scores_of_data_with_one_class_warn_nothing():
    """Evaluation data of one class is legitimate: AUROC is NaN and no library warning reaches the user."""
    import warnings

    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = tk.classification_scores(np.array([0, 0, 0]), probabilities, ["a", "b"])
    assert np.isnan(report["auroc"]) and report["accuracy"] == pytest.approx(2 / 3)


def test_regression_scores_by_hand():
    actual, forecast = np.array([10.0, 12.0, 8.0]), np.array([11.0, 12.0, 5.0])
    report = tk.regression_scores(actual, forecast, history=np.array([1.0, 3.0, 2.0, 6.0]),
                                  lower=forecast - 1.5, upper=forecast + 1.5)
    assert report["mae"] == pytest.approx(4 / 3)
    assert report["rmse"] == pytest.approx(np.sqrt(10 / 3))
    assert report["mase"] == pytest.approx((4 / 3) / (7 / 3))   # naive errors in the history: 2, 1, 4
    assert report["smape"] == pytest.approx(100 * np.mean([2 / 21, 0.0, 6 / 13]))
    assert report["coverage"] == pytest.approx(2 / 3)


# --- splits -----------------------------------------------------------------------------------
def test_stratified_folds_cover_every_example_once_with_the_classes_spread():
    y = np.array([0] * 12 + [1] * 6)
    folds = tk.StratifiedKFold(3, seed=1).split(y.size, y)
    tests = np.concatenate([test for _, test in folds])
    assert sorted(tests.tolist()) == list(range(18))
    assert all(np.bincount(y[test]).tolist() == [4, 2] for _, test in folds)


def test_group_folds_never_split_a_group():
    groups = np.repeat(["a", "b", "c", "d"], 3)
    for train, test in tk.GroupKFold(2).split(groups.size, groups=groups):
        assert not set(groups[train]) & set(groups[test])


@pytest.mark.parametrize("window", [None, 4])
def test_rolling_origin_trains_on_the_past_only(window):
    folds = tk.RollingOrigin(folds=3, horizon=2, gap=1, window=window).split(12)
    assert len(folds) == 3
    for train, test in folds:
        assert train.max() + 1 + 1 == test.min()          # the gap
        assert test.size == 2 and (window is None or train.size == window)
    assert folds[-1][1].tolist() == [10, 11]


def test_rolling_origin_says_how_many_examples_it_needs():
    with pytest.raises(ValueError, match="needs at least 8 examples. Received: 5"):
        tk.RollingOrigin(folds=3, horizon=2, gap=1).split(5)


def test_parse_cv():
    y = np.array([0, 0, 0, 1, 1, 1])
    assert isinstance(tk.parse_cv("loo", y, ["a", "b"]), tk.LeaveOneOut)
    assert tk.parse_cv("3", y, ["a", "b"]) == tk.StratifiedKFold(3, 0)
    with pytest.raises(tk.UserInputError, match="class 'a' has 2"):
        tk.parse_cv("3", np.array([0, 0, 1, 1, 1, 1]), ["a", "b"])


def test_time_ordered_holdout_keeps_the_end_of_each_series():
    groups = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
    train, held = tk.time_ordered_holdout(10, 0.4, groups)
    assert train.tolist() == [0, 1, 2, 5, 6, 7] and held.tolist() == [3, 4, 8, 9]


def test_shuffled_holdout_rounds_the_training_side_up():
    train, held = tk.shuffled_holdout(10, 0.25, np.random.default_rng(0))
    assert train.size == 8 and held.size == 2   # ceil(10 * 0.75) = 8 train (Keras's fit: 7)
    assert sorted(np.concatenate([train, held]).tolist()) == list(range(10))


# --- the task's validation split ---------------------------------------------------------------
class _Recorder:
    """A stand-in model that records what fit was given."""

    def fit(self, x, y, **kwargs):
        self.x, self.y, self.kwargs = x, y, kwargs


class _Series(tk.Task):
    time_ordered = True


def test_a_time_ordered_task_validates_on_the_end_of_each_series_never_shuffled():
    x = np.arange(10, dtype=np.float32).reshape(10, 1, 1)
    encoded = tk.Encoded(x, np.arange(10.0), groups=np.repeat([0, 1], 5))
    model = _Recorder()
    _Series().fit(model, encoded, epochs=1, batch_size=2, validation_split=0.4)
    assert model.x.ravel().tolist() == [0, 1, 2, 5, 6, 7]
    assert model.kwargs["validation_data"][0].ravel().tolist() == [3, 4, 8, 9]


def test_encoded_subset_keeps_a_subclass_and_its_fields():
    from lstmcore_motif.task import StrandedEncoded

    encoded = StrandedEncoded(np.zeros((4, 2, 4)), np.arange(4), np.array([2, 1, 2, 2]), reverse_complement=True)
    subset = encoded.subset(np.array([3, 1]))
    assert isinstance(subset, StrandedEncoded) and subset.reverse_complement
    assert subset.y.tolist() == [3, 1] and subset.lengths.tolist() == [2, 1]


# --- cross-validation ---------------------------------------------------------------------------
class _MeanTask(tk.Task):
    """Predicts, for every example, the training part's mean target: out-of-fold by construction."""

    def build_model(self, state, hyperparameters):
        return _Recorder()

    def fit(self, model, encoded, **kwargs):
        model.mean = float(encoded.y.mean())

    def predict(self, model, encoded, state=None, **kwargs):
        return np.full((encoded.x.shape[0], 1), model.mean)


def test_cross_validate_predicts_every_example_from_a_model_that_never_saw_it():
    y = np.arange(6, dtype=np.float64)
    encoded = tk.Encoded(np.zeros((6, 1, 1)), y)
    predictions = tk.cross_validate(_MeanTask(), encoded, {}, {}, tk.LeaveOneOut(), outputs=1, progress=False)
    assert predictions.ravel() == pytest.approx([(y.sum() - v) / 5 for v in y])


# --- the gradient seam --------------------------------------------------------------------------
def _one_step(scale):
    lstmcore.set_seed(0)
    model = lstmcore.Sequential([lstmcore.layers.LSTM(3, input_shape=(4, 2)), lstmcore.layers.Dense(1)])
    model.compile(optimizer=lstmcore.optimizers.SGD(0.1), loss="mse")
    start = [w.copy() for w in model.get_weights()]
    seen = []
    if scale is not None:
        def scaled(flat, segments):
            seen.append((flat.size, int(np.sum(segments))))
            flat *= scale
        model.gradient_transforms.append(scaled)
    rng = np.random.default_rng(1)
    model.train_on_batch(rng.standard_normal((5, 4, 2)).astype("float32"), rng.standard_normal((5, 1)))
    return [w - s for w, s in zip(model.get_weights(), start)], seen


def test_a_gradient_transform_sees_the_flat_buffer_before_the_optimizer():
    plain, _ = _one_step(None)
    doubled, seen = _one_step(2.0)
    frozen, _ = _one_step(0.0)
    assert seen and seen[0][0] == seen[0][1] == sum(d.size for d in plain)
    for p, d, f in zip(plain, doubled, frozen):
        np.testing.assert_allclose(d, 2 * p, rtol=1e-5, atol=1e-7)
        assert not f.any()


# --- the guide's example ----------------------------------------------------------------------------
def test_the_guides_classification_task_on_the_toolkit_runs_and_cross_validates():
    import re
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[1] / "docs" / "plugins.md").read_text()
    code = next(block for block in re.findall(r"```python\n(.*?)```", guide, flags=re.DOTALL)
                if "class PromoterTask" in block)
    namespace = {}
    exec(code, namespace)
    task = namespace["PromoterTask"]()
    rng = np.random.default_rng(0)
    records = [tk.SequenceRecord(i, s, label=label, source="generated")
               for i, s, label in tk.planted_sequences(rng, 24, ["CACGTG"], lengths=(12, 16))]
    hyperparameters = dict(task.hyperparameters, units=4, epochs=1, batch_size=8)
    state = task.fit_encoder(records, hyperparameters)
    report = task.evaluate(None, records, state, options={"cv": "3"}, hyperparameters=hyperparameters)
    assert report["n"] == 24 and 0.0 <= report["accuracy"] <= 1.0 and "confusion[motif->motif]" in report


def test_rolling_origin_of_one_fold_is_the_last_horizon():
    (train, test), = tk.RollingOrigin(folds=1, horizon=3, gap=2).split(20)
    np.testing.assert_array_equal(train, np.arange(15))
    np.testing.assert_array_equal(test, np.arange(17, 20))

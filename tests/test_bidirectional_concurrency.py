"""Bidirectional runs its two directions at once when threads and work allow."""
import numpy as np
import pytest

import lstmcore as lc
import lstmcore.layers.wrappers as wrappers


@pytest.fixture(autouse=True)
def restore_threads():
    yield
    lc.set_num_threads(None)


def tagger(dropout=0.0):
    lc.set_seed(3)
    model = lc.Sequential([
        lc.layers.Bidirectional(lc.layers.LSTM(16, return_sequences=True, dropout=dropout),
                                input_shape=(None, 4)),
        lc.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def data():
    rng = np.random.default_rng(0)
    x = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (8, 600))]
    return x, rng.integers(0, 2, (8, 600)), rng.integers(1, 601, 8)


def trained_weights(threads, concurrent, monkeypatch, dropout=0.3):
    monkeypatch.setattr(wrappers, "_CONCURRENT_MIN_WORK", 1 if concurrent else 10**12)
    lc.set_num_threads(threads)
    x, y, lengths = data()
    model = tagger(dropout)
    model.fit(x, y, epochs=2, batch_size=4, verbose=0, lengths=lengths)
    return model.get_weights()


def test_concurrent_directions_train_like_sequential_ones(monkeypatch):
    concurrent = trained_weights(2, True, monkeypatch)
    sequential = trained_weights(1, False, monkeypatch)
    for a, b in zip(concurrent, sequential):      # other thread splits: equal to rounding
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_concurrent_directions_with_dropout_are_bit_reproducible(monkeypatch):
    first = trained_weights(2, True, monkeypatch)
    second = trained_weights(2, True, monkeypatch)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_the_second_direction_really_runs_on_another_thread(monkeypatch):
    import threading

    seen = set()
    real_run = lc.layers.LSTM._run

    def recording_run(self, *args, **kwargs):
        seen.add(threading.current_thread().name)
        return real_run(self, *args, **kwargs)

    monkeypatch.setattr(lc.layers.LSTM, "_run", recording_run)
    monkeypatch.setattr(wrappers, "_CONCURRENT_MIN_WORK", 1)
    lc.set_num_threads(2)
    x, _, lengths = data()
    tagger().predict(x, lengths=lengths)
    assert any(name.startswith("lstmcore-bidirectional") for name in seen)
    assert threading.current_thread().name in seen

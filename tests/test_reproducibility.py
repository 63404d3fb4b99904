"""The same seed and thread count give bit-identical trained weights."""
import numpy as np
import pytest

import lstmcore as lc
from lstmcore import layers as L


def _train(seed, threads):
    lc.set_num_threads(threads)
    try:
        lc.set_seed(seed)
        model = lc.Sequential([
            L.Bidirectional(L.LSTM(6, return_sequences=True, dropout=0.2), input_shape=(12, 4)),
            L.Dropout(0.3),
            L.LSTM(5),
            L.Dense(2, activation="softmax"),
        ])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        rng = np.random.default_rng(123)
        x, y = rng.standard_normal((80, 12, 4)), rng.integers(0, 2, 80)
        model.fit(x, y, epochs=2, batch_size=16, validation_split=0.2, verbose=0,
                  lengths=rng.integers(1, 13, 80))
        return model.get_weights()
    finally:
        lc.set_num_threads(None)


@pytest.mark.parametrize("threads", [1, 2], ids=["1-thread", "2-threads"])
def test_same_seed_same_threads_gives_bit_identical_weights(threads):
    first, second = _train(7, threads), _train(7, threads)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_different_seeds_give_different_weights():
    first, second = _train(7, 1), _train(8, 1)
    assert not all(np.array_equal(a, b) for a, b in zip(first, second))

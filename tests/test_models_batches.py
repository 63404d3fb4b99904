"""fit / evaluate / predict on data that comes in batches: a Sequence, a generator, an iterable."""
import numpy as np
import pytest

import lstmcore as lc
from lstmcore import layers as L
from lstmcore.utils import PyDataset


def _data(samples=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(samples, 6, 2)).astype("float32")
    return x, x.sum(axis=(1, 2))[:, None] / 4


def _model(seed=0):
    lc.set_seed(seed)
    model = lc.Sequential([L.Input(shape=(6, 2)), L.LSTM(5), L.Dense(1)])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    return model


class Batches(PyDataset):
    def __init__(self, x, y, batch_size):
        super().__init__()
        self.x, self.y, self.batch_size = x, y, batch_size
        self.epochs_ended = 0

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index):
        pick = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[pick], self.y[pick]

    def on_epoch_end(self):
        self.epochs_ended += 1


class Reiterable:
    """An iterable of batches that can be read again (as a tf.data.Dataset or a DataLoader is)."""

    def __init__(self, batches):
        self.batches = batches

    def __iter__(self):
        return iter(self.batches)


def test_a_sequence_trains_exactly_as_the_same_arrays_in_the_same_order():
    x, y = _data()
    on_arrays, on_batches = _model(), _model()
    on_arrays.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    batches = Batches(x, y, 8)
    history = on_batches.fit(batches, epochs=3, verbose=0)
    assert batches.epochs_ended == 3
    for mine, theirs in zip(on_arrays.get_weights(), on_batches.get_weights()):
        np.testing.assert_array_equal(mine, theirs)
    assert history.history["loss"][-1] == pytest.approx(on_arrays.history.history["loss"][-1], rel=1e-6)
    assert on_batches.evaluate(batches, verbose=0) == pytest.approx(on_arrays.evaluate(x, y, batch_size=8, verbose=0))
    np.testing.assert_array_equal(on_batches.predict(batches), on_arrays.predict(x, batch_size=8))


def test_a_generator_gives_steps_per_epoch_batches_each_epoch():
    x, y = _data()
    read = []

    def forever():
        while True:
            for start in range(0, 40, 8):
                read.append(start)
                yield x[start:start + 8], y[start:start + 8]

    model = _model()
    history = model.fit(forever(), steps_per_epoch=3, epochs=4, verbose=0)
    assert len(history.history["loss"]) == 4 and len(read) == 12


def test_a_generator_read_dry_stops_training_with_a_warning():
    x, y = _data()
    batches = ((x[s:s + 8], y[s:s + 8]) for s in range(0, 40, 8))
    model = _model()
    with pytest.warns(UserWarning, match="ran out of data"):
        history = model.fit(batches, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 1


def test_a_list_of_batches_is_read_again_each_epoch_with_weights_and_validation():
    x, y = _data()
    weights = np.linspace(0.5, 1.5, 40).astype("float32")
    batches = Reiterable([(x[s:s + 10], y[s:s + 10], weights[s:s + 10]) for s in range(0, 40, 10)])
    model = _model()
    history = model.fit(batches, epochs=2, verbose=0, validation_data=iter(batches.batches[:2]))
    assert len(history.history["loss"]) == 2 and "val_loss" in history.history
    reference = _model()
    reference.fit(x, y, sample_weight=weights, batch_size=10, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(model.get_weights()[0], reference.get_weights()[0], rtol=1e-6)


def test_several_inputs_and_outputs_in_batches():
    lc.set_seed(2)
    a, b = lc.Input(shape=(6, 2), name="a"), lc.Input(shape=(3,), name="b")
    joined = L.Concatenate()([L.LSTM(4)(a), b])
    model = lc.Model([a, b], [L.Dense(1, name="sum")(joined), L.Dense(1, name="other")(joined)])
    model.compile(optimizer="adam", loss="mse")
    x, y = _data()
    extra = np.ones((40, 3), "float32")
    batches = Reiterable([({"a": x[s:s + 8], "b": extra[s:s + 8]}, {"sum": y[s:s + 8], "other": -y[s:s + 8]})
                          for s in range(0, 40, 8)])
    history = model.fit(batches, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    first, second = model.predict(batches)
    np.testing.assert_allclose(first, model.predict([x, extra])[0], rtol=1e-6)


def test_batch_source_errors_say_what_is_wrong():
    x, y = _data()
    model = _model()
    with pytest.raises(ValueError, match="y must be None when x yields batches"):
        model.fit(Batches(x, y, 8), y, verbose=0)
    with pytest.raises(ValueError, match="must hold targets"):
        model.fit(iter([x[:8]]), verbose=0)
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        model.fit(Batches(x, y, 8), steps_per_epoch=0, verbose=0)
    with pytest.raises(ValueError, match="yielded no batches"):
        model.predict(iter([]))

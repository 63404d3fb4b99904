"""lstmcore.utils and the Keras 2 preprocessing path against Keras's definitions and documented examples."""
import numpy as np
import pytest

import lstmcore as lc
from lstmcore import utils
from lstmcore.preprocessing import sequence as keras2_sequence


# ----- to_categorical ------------------------------------------------------------------------------
def test_to_categorical_one_hot_rows_as_keras():
    np.testing.assert_array_equal(utils.to_categorical([0, 2, 1]), np.eye(3)[[0, 2, 1]])
    result = utils.to_categorical(np.array([[1], [0]]), num_classes=4)
    assert result.shape == (2, 4) and result.dtype == np.float32
    np.testing.assert_array_equal(result, [[0, 1, 0, 0], [1, 0, 0, 0]])
    grid = utils.to_categorical(np.array([[0, 1, 2], [2, 1, 0]]))
    assert grid.shape == (2, 3, 3)
    np.testing.assert_array_equal(grid.argmax(-1), [[0, 1, 2], [2, 1, 0]])
    assert utils.to_categorical([1.0, 0.0], dtype="float64").dtype == np.float64


@pytest.mark.parametrize("labels, options, message", [
    ([0, 3], {"num_classes": 3}, r"labels must lie in \[0, 3\). Received: label 3"),
    ([0, -1], {}, r"labels must lie in \[0, 1\). Received: label -1"),
    ([0.5], {}, "expects integer class labels. Received: non-integer values"),
    ([0], {"num_classes": 0}, "num_classes must be a positive integer or None. Received: num_classes=0"),
])
def test_to_categorical_bad_labels_are_named(labels, options, message):
    with pytest.raises(ValueError, match=message):
        utils.to_categorical(labels, **options)


# ----- pad_sequences ------------------------------------------------------------------------------
SEQUENCES = [[1, 2, 3, 4], [5, 6], [7]]


@pytest.mark.parametrize("padding, truncating, expected", [
    ("pre", "pre", [[2, 3, 4], [0, 5, 6], [0, 0, 7]]),
    ("post", "pre", [[2, 3, 4], [5, 6, 0], [7, 0, 0]]),
    ("pre", "post", [[1, 2, 3], [0, 5, 6], [0, 0, 7]]),
    ("post", "post", [[1, 2, 3], [5, 6, 0], [7, 0, 0]]),
])
def test_pad_sequences_padding_and_truncating_as_keras(padding, truncating, expected):
    result = utils.pad_sequences(SEQUENCES, maxlen=3, padding=padding, truncating=truncating)
    assert result.dtype == np.int32
    np.testing.assert_array_equal(result, expected)


def test_pad_sequences_defaults_values_dtypes_and_steps_with_features():
    np.testing.assert_array_equal(utils.pad_sequences(SEQUENCES), [[1, 2, 3, 4], [0, 0, 5, 6], [0, 0, 0, 7]])
    filled = utils.pad_sequences([[1.5], []], maxlen=2, dtype="float32", value=-1.0)
    np.testing.assert_array_equal(filled, [[-1.0, 1.5], [-1.0, -1.0]])
    vectors = utils.pad_sequences([np.ones((2, 3)), np.ones((1, 3))], padding="post", dtype="float64")
    assert vectors.shape == (2, 2, 3)
    np.testing.assert_array_equal(vectors[1, 1], 0)
    assert utils.pad_sequences([[1, 2]], maxlen=0).shape == (1, 0)


@pytest.mark.parametrize("arguments, message", [
    ({"padding": "middle"}, "padding must be 'pre' or 'post'. Received: padding='middle'"),
    ({"truncating": "both"}, "truncating must be 'pre' or 'post'. Received: truncating='both'"),
    ({"value": "x"}, "dtype 'int32' is not compatible with value 'x'"),
    ({"maxlen": -1}, "maxlen must be a non-negative integer or None. Received: maxlen=-1"),
])
def test_pad_sequences_bad_arguments_are_named(arguments, message):
    with pytest.raises(ValueError, match=message):
        utils.pad_sequences(SEQUENCES, **arguments)


def test_pad_sequences_names_a_non_iterable_and_a_ragged_step():
    with pytest.raises(ValueError, match="non-iterable at position 1"):
        utils.pad_sequences([[1], 2])
    with pytest.raises(ValueError, match=r"Every step must have shape \(3,\). Received: sequence 1"):
        utils.pad_sequences([np.ones((2, 3)), np.ones((2, 2))], dtype="float32")


# ----- timeseries_dataset_from_array ------------------------------------------------------------------
def _windows(dataset):
    xs, ys = zip(*dataset)
    return np.concatenate(xs), np.concatenate(ys)


def test_timeseries_windows_keras_documented_example_1():
    """Keras's docstring: indices 0..98, sequence_length=10, sampling_rate=2, sequence_stride=3."""
    data = np.arange(99)
    dataset = utils.timeseries_dataset_from_array(data, None, sequence_length=10, sampling_rate=2,
                                                  sequence_stride=3, batch_size=8)
    windows = np.concatenate(list(dataset))
    np.testing.assert_array_equal(windows[0], np.arange(0, 20, 2))
    np.testing.assert_array_equal(windows[1], np.arange(3, 23, 2))
    np.testing.assert_array_equal(windows[2], np.arange(6, 26, 2))
    np.testing.assert_array_equal(windows[-1], np.arange(78, 98, 2))
    assert len(windows) == 27 and len(dataset) == 4


def test_timeseries_targets_predict_the_next_step_keras_documented_example_2():
    data = np.arange(100)
    x, y = next(iter(utils.timeseries_dataset_from_array(data[:-10], data[10:], sequence_length=10)))
    np.testing.assert_array_equal(x[0], data[:10])
    assert y[0] == data[10]


def test_timeseries_last_window_reaches_the_last_step_with_sampling_rate():
    """Keras 3 counts end - start - (sequence_length - 1) * sampling_rate start positions."""
    x, y = _windows(utils.timeseries_dataset_from_array(np.arange(10), np.arange(10) * 10, 3, sampling_rate=2,
                                                        batch_size=4))
    np.testing.assert_array_equal(x, [[0, 2, 4], [1, 3, 5], [2, 4, 6], [3, 5, 7], [4, 6, 8], [5, 7, 9]])
    np.testing.assert_array_equal(y, [0, 10, 20, 30, 40, 50])


def test_timeseries_start_and_end_index_and_multichannel_data():
    data = np.arange(40).reshape(20, 2)
    targets = np.arange(20)
    x, y = _windows(utils.timeseries_dataset_from_array(data, targets, 4, sequence_stride=2, start_index=3,
                                                        end_index=15, batch_size=2))
    assert x.shape == (5, 4, 2)
    np.testing.assert_array_equal(x[:, :, 0] // 2, [[3, 4, 5, 6], [5, 6, 7, 8], [7, 8, 9, 10], [9, 10, 11, 12],
                                                    [11, 12, 13, 14]])
    np.testing.assert_array_equal(y, [3, 5, 7, 9, 11])


def test_timeseries_shuffle_is_reproducible_and_unbatched_yields_single_windows():
    first = _windows(utils.timeseries_dataset_from_array(np.arange(30), np.arange(30), 5, shuffle=True, seed=7,
                                                         batch_size=4))
    again = _windows(utils.timeseries_dataset_from_array(np.arange(30), np.arange(30), 5, shuffle=True, seed=7,
                                                         batch_size=4))
    np.testing.assert_array_equal(first[0], again[0])
    assert sorted(first[1].tolist()) == list(range(26)) and first[1].tolist() != list(range(26))
    np.testing.assert_array_equal(first[0][:, 0], first[1])
    single = list(utils.timeseries_dataset_from_array(np.arange(6), np.arange(6), 3, batch_size=None))
    assert len(single) == 4 and single[1][0].tolist() == [1, 2, 3] and single[1][1] == 1


@pytest.mark.parametrize("arguments, message", [
    ({"sampling_rate": 0}, "sampling_rate must be a positive integer. Received: sampling_rate=0"),
    ({"sequence_stride": 10}, "sequence_stride must be lower than the length of the data"),
    ({"start_index": 10}, r"start_index must be in \[0, 10\)"),
    ({"start_index": 5, "end_index": 5}, "end_index must be higher than start_index"),
    ({"batch_size": 0}, "batch_size must be a positive integer. Received: batch_size=0"),
])
def test_timeseries_bad_arguments_are_named(arguments, message):
    with pytest.raises(ValueError, match=message):
        utils.timeseries_dataset_from_array(np.arange(10), None, 3, **arguments)


# ----- Sequence / PyDataset, set_random_seed, the Keras 2 path -----------------------------------------
class _Batches(utils.Sequence):
    def __init__(self, x, batch_size):
        super().__init__(workers=1)
        self.x, self.batch_size, self.epochs_ended = x, batch_size, 0

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index):
        part = self.x[index * self.batch_size:(index + 1) * self.batch_size]
        return part, part.sum(axis=1)

    def on_epoch_end(self):
        self.epochs_ended += 1


def test_sequence_gives_batches_by_index_and_in_order():
    batches = _Batches(np.arange(10.0).reshape(5, 2), 2)
    assert len(batches) == batches.num_batches == 3
    assert [x.shape[0] for x, _ in batches] == [2, 2, 1]
    np.testing.assert_array_equal(batches[2][1], [17.0])
    batches.on_epoch_end()
    assert batches.epochs_ended == 1
    assert utils.PyDataset is utils.Sequence
    with pytest.raises(NotImplementedError, match="must define __getitem__"):
        utils.PyDataset()[0]


def test_set_random_seed_makes_initialisation_repeat():
    utils.set_random_seed(3)
    first = lc.layers.Dense(4)
    first.build((None, 3))
    draw = np.random.random()
    utils.set_random_seed(3)
    second = lc.layers.Dense(4)
    second.build((None, 3))
    np.testing.assert_array_equal(first.kernel, second.kernel)
    assert np.random.random() == draw
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        utils.set_random_seed(-1)


def test_keras2_preprocessing_path_reexports_the_same_functions():
    assert keras2_sequence.pad_sequences is utils.pad_sequences
    assert lc.preprocessing.timeseries_dataset_from_array is utils.timeseries_dataset_from_array


def test_timeseries_generator_keras2_documented_example():
    data = np.array([[i] for i in range(50)])
    targets = np.array([[i] for i in range(50)])
    generator = keras2_sequence.TimeseriesGenerator(data, targets, length=10, sampling_rate=2, batch_size=2)
    assert len(generator) == 20
    x, y = generator[0]
    np.testing.assert_array_equal(x, [[[0], [2], [4], [6], [8]], [[1], [3], [5], [7], [9]]])
    np.testing.assert_array_equal(y, [[10], [11]])
    x, y = generator[19]
    np.testing.assert_array_equal(y, [[48], [49]])
    reversed_x, _ = keras2_sequence.TimeseriesGenerator(data, targets, length=3, reverse=True, stride=2)[0]
    np.testing.assert_array_equal(reversed_x[:2, :, 0], [[2, 1, 0], [4, 3, 2]])
    with pytest.raises(ValueError, match="data and targets must have the same length"):
        keras2_sequence.TimeseriesGenerator(data, targets[:5], length=3)


def test_fit_trains_on_a_timeseries_dataset_and_on_a_sequence():
    series = np.sin(np.arange(300) / 5).astype(np.float32)[:, None]
    dataset = utils.timeseries_dataset_from_array(series[:-10], series[10:, 0], sequence_length=10, batch_size=32)
    lc.set_seed(0)
    model = lc.Sequential([lc.layers.Input(shape=(10, 1)), lc.layers.Conv1D(4, 3, padding="causal"),
                           lc.layers.LSTM(8), lc.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    losses = model.fit(dataset, epochs=3, verbose=0).history["loss"]
    assert losses[-1] < losses[0]
    x, y = np.concatenate([b[0] for b in dataset]), np.concatenate([b[1] for b in dataset])

    class Windows(utils.Sequence):
        def __len__(self):
            return 9

        def __getitem__(self, index):
            return x[index * 32:(index + 1) * 32], y[index * 32:(index + 1) * 32]

    assert len(model.fit(Windows(), epochs=2, verbose=0).history["loss"]) == 2

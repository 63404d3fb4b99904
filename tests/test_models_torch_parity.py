"""Predictions equal PyTorch's for weights converted with lstmcore.interop."""
import numpy as np
import pytest

import lstmcore as lc
from lstmcore import interop
from lstmcore import layers as L

torch = pytest.importorskip("torch")

TOLERANCE = {"float32": dict(rtol=1e-5, atol=2e-6), "float64": dict(rtol=1e-10, atol=1e-12)}
TORCH_DTYPE = {"float32": torch.float32, "float64": torch.float64}


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lstm_stack_with_linear_matches_torch(dtype):
    lstm = torch.nn.LSTM(3, 8, num_layers=2, batch_first=True).to(TORCH_DTYPE[dtype])
    linear = torch.nn.Linear(8, 2).to(TORCH_DTYPE[dtype])
    model = lc.Sequential([L.LSTM(8, return_sequences=True), L.LSTM(8), L.Dense(2)], dtype=dtype)
    model.build((None, 7, 3))
    first, second = interop.torch_lstm_layers(lstm.state_dict())
    model.layers[0].set_weights(first)
    model.layers[1].set_weights(second)
    model.layers[2].set_weights(interop.dense_weights_from_torch(linear.state_dict()))

    x = np.random.default_rng(0).standard_normal((5, 7, 3)).astype(dtype)
    with torch.no_grad():
        outputs, _ = lstm(torch.from_numpy(x))
        expected = linear(outputs[:, -1]).numpy()
    np.testing.assert_allclose(model.predict(x), expected, **TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bidirectional_with_lengths_matches_packed_torch(dtype):
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    lstm = torch.nn.LSTM(4, 5, batch_first=True, bidirectional=True).to(TORCH_DTYPE[dtype])
    model = lc.Sequential([L.Bidirectional(L.LSTM(5, return_sequences=True))], dtype=dtype)
    model.build((None, 9, 4))
    (weights,) = interop.torch_lstm_layers(lstm.state_dict())
    model.layers[0].set_weights(weights)

    lengths = np.array([9, 3, 6, 1, 7])
    x = np.random.default_rng(1).standard_normal((5, 9, 4)).astype(dtype)
    for b, n in enumerate(lengths):
        x[b, n:] = 0.0
    with torch.no_grad():
        packed = pack_padded_sequence(torch.from_numpy(x), torch.from_numpy(lengths), batch_first=True,
                                      enforce_sorted=False)
        outputs, (h_n, _) = lstm(packed)
        expected, _ = pad_packed_sequence(outputs, batch_first=True, total_length=9)
    np.testing.assert_allclose(model.predict(x, lengths=lengths), expected.numpy(), **TOLERANCE[dtype])

    last = lc.Sequential([L.Bidirectional(L.LSTM(5))], dtype=dtype)
    last.build((None, 9, 4))
    last.layers[0].set_weights(weights)
    expected_last = torch.cat([h_n[0], h_n[1]], dim=1).numpy()
    np.testing.assert_allclose(last.predict(x, lengths=lengths), expected_last, **TOLERANCE[dtype])


def test_weights_round_trip_to_torch_and_back():
    model = lc.Sequential([L.Bidirectional(L.LSTM(4, return_sequences=True)), L.LSTM(3), L.Dense(2)])
    model.build((None, 6, 2))
    bi = torch.nn.LSTM(2, 4, batch_first=True, bidirectional=True)
    uni = torch.nn.LSTM(8, 3, batch_first=True)
    linear = torch.nn.Linear(3, 2)
    to_tensors = lambda entries: {k: torch.from_numpy(v) for k, v in entries.items()}
    bi.load_state_dict(to_tensors(interop.bidirectional_weights_to_torch(model.layers[0].get_weights())))
    uni.load_state_dict(to_tensors(interop.lstm_weights_to_torch(model.layers[1].get_weights())))
    linear.load_state_dict(to_tensors(interop.dense_weights_to_torch(model.layers[2].get_weights())))
    x = np.random.default_rng(2).standard_normal((3, 6, 2)).astype(np.float32)
    with torch.no_grad():
        hidden, _ = bi(torch.from_numpy(x))
        outputs, _ = uni(hidden)
        expected = linear(outputs[:, -1]).numpy()
    np.testing.assert_allclose(model.predict(x), expected, **TOLERANCE["float32"])
    back = interop.bidirectional_weights_from_torch(bi.state_dict())
    for got, want in zip(back, model.layers[0].get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_lstm_training_gradients_match_torch():
    """One SGD step with the same weights and data moves both frameworks' weights alike."""
    lstm = torch.nn.LSTM(2, 4, batch_first=True).double()
    linear = torch.nn.Linear(4, 1).double()
    model = lc.Sequential([L.LSTM(4), L.Dense(1)], dtype="float64")
    model.build((None, 5, 2))
    model.layers[0].set_weights(interop.lstm_weights_from_torch(lstm.state_dict()))
    model.layers[1].set_weights(interop.dense_weights_from_torch(linear.state_dict()))
    model.compile(optimizer=lc.optimizers.SGD(0.1), loss="mse")
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((6, 5, 2)), rng.standard_normal((6, 1))
    model.train_on_batch(x, y)

    optimizer = torch.optim.SGD(list(lstm.parameters()) + list(linear.parameters()), lr=0.1)
    outputs, _ = lstm(torch.from_numpy(x))
    loss = torch.nn.functional.mse_loss(linear(outputs[:, -1]), torch.from_numpy(y))
    loss.backward()
    optimizer.step()
    np.testing.assert_allclose(model.layers[0].get_weights()[0],
                               interop.lstm_weights_from_torch(lstm.state_dict())[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(model.layers[1].get_weights()[0],
                               interop.dense_weights_from_torch(linear.state_dict())[0], rtol=1e-10, atol=1e-12)

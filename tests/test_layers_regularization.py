"""SpatialDropout1D: whole channels dropped in training, identity at inference."""
import numpy as np
import pytest

from lstmcore import layers as L
from layer_checks import assert_config_round_trip


def test_spatial_dropout_drops_whole_channels_and_scales_the_rest():
    layer = L.SpatialDropout1D(0.5, seed=1, dtype="float64")
    x = np.ones((40, 7, 6))
    out = layer.forward(x, training=True)
    assert np.all(out == out[:, :1, :])  # one decision per (sequence, channel), for every step
    assert set(np.unique(out)) == {0.0, 2.0}
    assert 0.3 < (out[:, 0, :] == 0).mean() < 0.7
    grad = layer.backward(np.ones_like(x))
    np.testing.assert_array_equal(grad, out)


def test_spatial_dropout_is_identity_at_inference_and_round_trips():
    layer = L.SpatialDropout1D(0.3)
    x = np.random.default_rng(0).standard_normal((2, 5, 3)).astype(np.float32)
    np.testing.assert_array_equal(layer(x), x)
    config = assert_config_round_trip(layer).get_config()
    assert config["rate"] == 0.3 and "noise_shape" not in config
    with pytest.raises(ValueError, match=r"expects input of shape \(batch, steps, channels\)"):
        layer.forward(np.ones((2, 3)), training=True)

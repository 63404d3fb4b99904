"""The activations beyond the LSTM's own: Keras 3's definitions, and derivatives from the output."""
import numpy as np
import pytest

import lstmcore as lc
from lstmcore import activations

SELU_ALPHA, SELU_SCALE = 1.67326324235437728481, 1.05070098735548049342
# Keras 3's definitions (keras/src/activations/activations.py), written out in NumPy
KERAS = {
    "elu": lambda z: np.where(z > 0, z, np.expm1(z)),
    "selu": lambda z: SELU_SCALE * np.where(z > 0, z, SELU_ALPHA * np.expm1(z)),
    "softplus": lambda z: np.log1p(np.exp(z)),
    "softsign": lambda z: z / (1 + np.abs(z)),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.2 * z),
    "relu6": lambda z: np.minimum(np.maximum(z, 0), 6),
    "hard_sigmoid": lambda z: np.minimum(np.maximum(z + 3, 0), 6) / 6,
    "exponential": np.exp,
}
# away from the kinks (0, 6, +-3), where a central difference is exact enough
POINTS = np.array([-7.5, -4.2, -2.5, -1.3, -0.4, 0.3, 1.1, 2.6, 4.4, 7.2])


@pytest.mark.parametrize("name", sorted(KERAS))
def test_forward_is_keras_definition(name):
    np.testing.assert_allclose(activations.get(name)(POINTS), KERAS[name](POINTS), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", sorted(KERAS))
def test_derivative_from_the_output_matches_finite_differences(name):
    activation, h = activations.get(name), 1e-6
    numeric = (KERAS[name](POINTS + h) - KERAS[name](POINTS - h)) / (2 * h)
    analytic = activation.backward(activation(POINTS), np.ones_like(POINTS))
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", ["gelu", "swish", "silu", "mish"])
def test_activations_whose_derivative_needs_the_input_are_refused_with_the_reason(name):
    with pytest.raises(ValueError, match=rf"activation='{name}' is not supported: its derivative needs the layer's "
                                         r"input.*one of: elu, exponential"):
        lc.layers.Dense(2, activation=name)


def test_a_layer_with_a_new_activation_saves_and_loads(tmp_path):
    model = lc.Sequential([lc.Input(shape=(3,)), lc.layers.Dense(4, activation="selu"),
                           lc.layers.Dense(1, activation="softplus")])
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    model.save(tmp_path / "m.lstm")
    np.testing.assert_array_equal(lc.load_model(tmp_path / "m.lstm").predict(x, verbose=0), model.predict(x, verbose=0))

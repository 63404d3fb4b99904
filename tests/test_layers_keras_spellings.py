"""Ported Keras scripts: layers lstmcore leaves out say what to use; Keras 1/2 argument spellings still work."""
import re
import subprocess
import sys

import numpy as np
import pytest

import lstmcore as lc
from lstmcore import layers as L


@pytest.mark.parametrize("name, advice", [
    ("GRU", "use LSTM"), ("SimpleRNN", "use LSTM"), ("Attention", "use Bidirectional(LSTM(..., return_sequences=True))"),
    ("MultiHeadAttention", "GlobalMaxPooling1D"), ("Conv2D", "use Conv1D"), ("TransformerEncoder", "LSTM"),
])
def test_missing_keras_layers_raise_an_import_error_that_says_what_to_use(name, advice):
    with pytest.raises(ImportError, match=f"{name}: lstmcore is an LSTM library and has no {name} layer; .*"
                       + advice.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        exec(f"from lstmcore.layers import {name}", {})
    with pytest.raises(ImportError, match="lstmcore is an LSTM library"):
        getattr(L, name)


def test_the_import_error_reaches_a_ported_script_unchanged():
    script = "import lstmcore as keras\nfrom lstmcore.layers import GRU\n"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "lstmcore.layers.unavailable.LayerNotInLstmcore: GRU: lstmcore is an LSTM library and has no GRU layer; "
        "use LSTM (or Bidirectional(LSTM(...)))")


def test_other_unknown_names_stay_attribute_errors():
    assert not hasattr(L, "NoSuchLayer")
    with pytest.raises(ImportError, match="cannot import name 'NoSuchLayer'"):
        exec("from lstmcore.layers import NoSuchLayer", {})


@pytest.mark.parametrize("cls", [lc.optimizers.Adam, lc.optimizers.SGD, lc.optimizers.RMSprop, lc.optimizers.AdamW])
def test_keras2_lr_is_accepted_with_a_deprecation_warning(cls):
    with pytest.warns(DeprecationWarning, match=rf"{cls.__name__}\(lr=...\) is Keras 2's spelling; use learning_rate"):
        optimizer = cls(lr=0.05)
    assert optimizer.learning_rate == 0.05


def test_keras2_decay_divides_the_rate_by_one_plus_decay_times_iterations():
    with pytest.warns(DeprecationWarning) as record:
        optimizer = lc.optimizers.SGD(lr=0.1, decay=0.5)
    assert [str(w.message).split("=")[0] for w in record] == ["SGD(lr", "SGD(decay"]
    variable, grad = np.zeros(1), np.ones(1)
    for _ in range(3):
        optimizer.apply_gradients([(grad, variable)])
    # Keras 2: lr_t = lr / (1 + decay * t) for t = 0, 1, 2
    np.testing.assert_allclose(variable, -(0.1 + 0.1 / 1.5 + 0.1 / 2.0))
    clone = lc.optimizers.SGD.from_config(optimizer.get_config())
    assert clone.learning_rate == pytest.approx(0.1)
    assert lc.optimizers.Adam(decay=0.0).learning_rate == 0.001


def test_unknown_optimizer_arguments_are_still_errors():
    with pytest.raises(TypeError, match="Adam.__init__\\(\\) got an unexpected keyword argument 'lrate'"):
        lc.optimizers.Adam(lrate=0.1)


def test_keras1_dense_output_dim_and_init():
    with pytest.warns(DeprecationWarning) as record:
        layer = L.Dense(output_dim=3, init="zeros")
    assert [str(w.message) for w in record] == ["Dense(output_dim=...) is Keras 1's spelling; use units=...",
                                                "Dense(init=...) is Keras 1's spelling; use kernel_initializer=..."]
    assert record[0].filename == __file__
    layer.build((None, 2))
    assert layer.units == 3 and not layer.kernel.any()
    assert L.Dense.from_config(layer.get_config()).units == 3


def test_default_layer_names_are_keras_names():
    """A Keras script's model.get_layer("conv1d") finds the layer: the class name snake-cased as
    keras/src/utils/naming.py does it (digits stay attached: conv1d, not conv1_d)."""
    model = lc.Sequential([lc.Input(shape=(12, 4)), L.Conv1D(4, 3), L.MaxPooling1D(2), L.SpatialDropout1D(0.1),
                           L.Bidirectional(L.LSTM(3, return_sequences=True)), L.TimeDistributed(L.Dense(2)),
                           L.GlobalAveragePooling1D(), L.BatchNormalization(), L.Dense(1)])
    prefixes = ["conv1d", "max_pooling1d", "spatial_dropout1d", "bidirectional", "time_distributed",
                "global_average_pooling1d", "batch_normalization", "dense"]
    for layer, prefix in zip(model.layers, prefixes):
        assert re.fullmatch(rf"{prefix}(_\d+)?", layer.name), (layer.name, prefix)
    assert model.get_layer(model.layers[0].name) is model.layers[0]


def test_keras_spellings_of_schedules_and_clear_session():
    """keras.optimizers.schedules.X (attribute and import) and keras.backend.clear_session()."""
    from lstmcore.optimizers.schedules import CosineDecay, ExponentialDecay

    assert lc.optimizers.schedules.ExponentialDecay is lc.optimizers.ExponentialDecay is ExponentialDecay
    assert CosineDecay is lc.optimizers.CosineDecay
    L.Dense(1), L.Dense(1)
    lc.backend.clear_session()
    assert L.Dense(1).name == "dense" and L.Dense(1).name == "dense_1"

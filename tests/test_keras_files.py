"""Keras's own files: .keras models, Keras 3 .weights.h5 and legacy .h5, written by real Keras.

The fixtures in tests/data/keras were written by Keras 3.15 (tensorflow-cpu) with
tests/data/keras/make_fixtures.py, beside the inputs and the outputs Keras computed;
when Keras is installed the last test writes them afresh and checks those too.
"""
import importlib.util
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import lstmcore as lc
from lstmcore.saving.keras_files import KerasFileError

FIXTURES = Path(__file__).parent / "data" / "keras"
MODELS = ["danq_like", "two_inputs", "masked"]   # masked: padded sequences, Keras ops in the graph


def _inputs_and_outputs(folder, name):
    data = np.load(folder / f"{name}.npz")
    xs = [data[key] for key in sorted(data) if key.startswith("x")]
    ys = [data[key] for key in sorted(data) if key.startswith("y")]
    return (xs if len(xs) > 1 else xs[0]), ys


def _predict(model, x):
    out = model.predict(x, verbose=0)
    return out if isinstance(out, list) else [out]


def _check_against_keras(folder, name, suffix):
    x, expected = _inputs_and_outputs(folder, name)
    model = lc.load_model(folder / f"{name}{suffix}")
    for mine, theirs in zip(_predict(model, x), expected):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)
    return model


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_keras_model_files_load_and_predict_as_keras_did(name, suffix):
    model = _check_against_keras(FIXTURES, name, suffix)
    assert isinstance(model, lc.Model)


@pytest.mark.parametrize("name", MODELS)
def test_keras_weights_files_load_into_the_same_model(name):
    model = lc.load_model(FIXTURES / f"{name}.keras")
    for weight in model.weights:
        weight[...] = 0
    model.load_weights(FIXTURES / f"{name}.weights.h5")
    x, expected = _inputs_and_outputs(FIXTURES, name)
    for mine, theirs in zip(_predict(model, x), expected):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)


def _datasets(path):
    import h5py

    found = {}
    with h5py.File(path, "r") as h5:
        h5.visititems(lambda key, item: found.__setitem__(key, np.asarray(item))
                      if isinstance(item, h5py.Dataset) and key.startswith("layers/") else None)
    return found


@pytest.mark.parametrize("name", MODELS)
def test_save_weights_under_a_keras_name_writes_keras_layout(name, tmp_path):
    model = lc.load_model(FIXTURES / f"{name}.keras")
    model.save_weights(tmp_path / "out.weights.h5")
    mine, theirs = _datasets(tmp_path / "out.weights.h5"), _datasets(FIXTURES / f"{name}.weights.h5")
    assert sorted(mine) == sorted(theirs)
    for key in theirs:
        np.testing.assert_array_equal(mine[key], theirs[key], err_msg=key)


def test_saving_a_model_under_a_keras_name_is_refused_and_writes_nothing(tmp_path):
    model = lc.Sequential([lc.Input(shape=(3, 2)), lc.layers.LSTM(2)])
    for name in ("m.keras", "m.h5"):
        with pytest.raises(ValueError, match=r"not Keras's \.keras / \.h5 format.*name it '\.lstm'"):
            model.save(tmp_path / name)
        assert not (tmp_path / name).exists()


def _keras_zip(path, layer_spec):
    config = {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 5, 2], "dtype": "float32", "name": "in"}},
        layer_spec]}}
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("model.weights.h5", b"")


def test_a_layer_lstmcore_lacks_is_named_with_advice(tmp_path):
    _keras_zip(tmp_path / "gru.keras", {"class_name": "GRU", "config": {"name": "gru", "units": 3}})
    with pytest.raises(KerasFileError, match=r"gru\.keras: .*GRU.*use LSTM"):
        lc.load_model(tmp_path / "gru.keras")


def test_channels_first_convolution_is_refused_by_name(tmp_path):
    _keras_zip(tmp_path / "cf.keras", {"class_name": "Conv1D", "config": {
        "name": "conv", "filters": 2, "kernel_size": [3], "data_format": "channels_first"}})
    with pytest.raises(KerasFileError, match=r"layer 'conv' \(Conv1D\) uses data_format='channels_first'"):
        lc.load_model(tmp_path / "cf.keras")


def _rewired_masked_file(path):
    """masked.keras with its token LSTM reading the mask operation's result as data."""
    with zipfile.ZipFile(FIXTURES / "masked.keras") as archive:
        config, weights = json.loads(archive.read("config.json")), archive.read("model.weights.h5")
    lstm = next(spec for spec in config["config"]["layers"] if spec["name"] == "token_lstm")
    lstm["inbound_nodes"][0]["args"][0]["config"]["keras_history"] = ["not_equal", 0, 0]
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("model.weights.h5", weights)


def test_a_keras_operation_used_as_data_is_refused_by_name(tmp_path):
    """Only the mask computations Keras records for Masking and mask_zero are read; an operation whose
    result feeds a layer as data is named, not dropped."""
    _rewired_masked_file(tmp_path / "ops.keras")
    with pytest.raises(KerasFileError, match=r"ops\.keras: .*the Keras operation 'not_equal' \(NotEqual\) as data"):
        lc.load_model(tmp_path / "ops.keras")


def test_a_broken_keras_file_is_named(tmp_path):
    (tmp_path / "broken.keras").write_bytes(b"not a zip")
    with pytest.raises(KerasFileError, match=r"broken\.keras: is not a Keras 3 \.keras file"):
        lc.load_model(tmp_path / "broken.keras")
    (tmp_path / "broken.h5").write_bytes(b"not hdf5")
    with pytest.raises(KerasFileError, match=r"broken\.h5: is not an HDF5 file"):
        lc.load_model(tmp_path / "broken.h5")


@pytest.mark.skipif(importlib.util.find_spec("keras") is None,
                    reason="Keras is not installed: the committed fixtures above were written by it")
def test_files_written_now_by_the_installed_keras(tmp_path):
    subprocess.run([sys.executable, str(FIXTURES / "make_fixtures.py"), str(tmp_path)], check=True,
                   capture_output=True)
    for name in MODELS:
        for suffix in (".keras", ".h5"):
            _check_against_keras(tmp_path, name, suffix)

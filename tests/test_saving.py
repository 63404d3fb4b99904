"""Model files: bit-identical round trips, named errors for bad files, atomic writes."""
import json
import os

import numpy as np
import pytest
import safetensors.numpy

import lstmcore as lc
from lstmcore import layers as L
from lstmcore.saving import model_file as saving
from lstmcore.saving import ModelFileError


def _trained_model(seed=0):
    lc.set_seed(seed)
    model = lc.Sequential([
        L.Masking(0.0, input_shape=(8, 3)),
        L.Bidirectional(L.LSTM(4, return_sequences=True, kernel_regularizer="l2"), merge_mode="sum"),
        L.LayerNormalization(),
        L.Dropout(0.1),
        L.LSTM(5, dropout=0.2),
        L.Dense(3, activation="softmax"),
    ])
    model.compile(optimizer=lc.optimizers.AdamW(learning_rate=lc.optimizers.ExponentialDecay(0.01, 10, 0.9),
                                                clipnorm=1.0),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy", "auc"])
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal((24, 8, 3)), rng.integers(0, 3, 24)
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    return model, x, y


def test_save_then_load_gives_bit_identical_predictions_and_config(tmp_path):
    model, x, y = _trained_model()
    path = tmp_path / "model.lstm"
    model.save(path)
    loaded = lc.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert [type(layer).__name__ for layer in loaded.layers] == [type(layer).__name__ for layer in model.layers]
    assert loaded.layers[1].merge_mode == "sum" and loaded.layers[4].dropout == 0.2
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert [m.name for m in loaded.metrics] == ["accuracy", "auc"]


def test_training_resumes_exactly_after_load(tmp_path):
    model, x, y = _trained_model()
    model.save(tmp_path / "m.lstm")
    loaded = lc.load_model(tmp_path / "m.lstm")
    assert loaded.optimizer.iterations == model.optimizer.iterations
    lc.set_seed(5)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    lc.set_seed(5)
    loaded.fit(x, y, epochs=1, batch_size=8, verbose=0)
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_model_file_is_plain_safetensors_with_named_weights(tmp_path):
    model, _, _ = _trained_model()
    path = tmp_path / "m.safetensors"
    model.save(path)
    tensors = safetensors.numpy.load_file(str(path))
    np.testing.assert_array_equal(tensors["layers.1.forward.kernel"], model.layers[1].forward_layer.kernel)
    assert "layers.5.bias" in tensors and "optimizer.model.m" in tensors
    info = saving.read_metadata(path)
    assert info["format"] == "lstmcore.model" and info["format_version"] == saving.FORMAT_VERSION
    assert info["library_version"] == lc.__version__
    assert info["compile"]["loss"]["name"] == "sparse_categorical_crossentropy"


def test_extra_metadata_round_trips(tmp_path):
    model, _, _ = _trained_model()
    saving.save_model(model, tmp_path / "m.lstm", extra={"task": "motif", "alphabet": "ACGT"})
    assert lc.load_model(tmp_path / "m.lstm").extra_metadata == {"task": "motif", "alphabet": "ACGT"}


def test_truncated_file_raises_the_named_error(tmp_path):
    model, _, _ = _trained_model()
    path = tmp_path / "m.lstm"
    model.save(path)
    data = path.read_bytes()
    for cut in (4, 100, len(data) - 10):
        broken = tmp_path / f"cut{cut}.lstm"
        broken.write_bytes(data[:cut])
        with pytest.raises(ModelFileError, match=f"cut{cut}.lstm"):
            lc.load_model(broken)


def test_corrupt_header_raises_the_named_error(tmp_path):
    model, _, _ = _trained_model()
    path = tmp_path / "m.lstm"
    model.save(path)
    data = bytearray(path.read_bytes())
    data[10:30] = b"\xff" * 20
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=r"m\.lstm.*corrupt"):
        lc.load_model(path)


def test_foreign_files_raise_the_named_error(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("ACGT\n" * 100)
    with pytest.raises(ModelFileError, match="notes.txt"):
        lc.load_model(text)
    other = tmp_path / "other.safetensors"
    safetensors.numpy.save_file({"w": np.zeros(3, np.float32)}, str(other))
    with pytest.raises(ModelFileError, match=r"other\.safetensors.*not an lstmcore model file"):
        lc.load_model(other)
    assert issubclass(ModelFileError, ValueError)


def test_newer_format_version_is_refused_by_name(tmp_path):
    path = tmp_path / "future.lstm"
    header = {"format": "lstmcore.model", "format_version": 99, "library_version": "9.0"}
    safetensors.numpy.save_file({"w": np.zeros(1, np.float32)}, str(path), metadata={"lstmcore": json.dumps(header)})
    with pytest.raises(ModelFileError, match=r"future\.lstm.*version 99"):
        lc.load_model(path)


def test_interrupted_save_leaves_the_old_file_intact(tmp_path, monkeypatch):
    model, x, _ = _trained_model()
    path = tmp_path / "m.lstm"
    model.save(path)
    before = path.read_bytes()

    def write_half_then_fail(handle, data):
        handle.write(data[: len(data) // 2])
        raise KeyboardInterrupt("interrupted mid-write")

    monkeypatch.setattr(saving, "_write_bytes", write_half_then_fail)
    model.fit(x, np.zeros(len(x), int), epochs=1, verbose=0)
    with pytest.raises(KeyboardInterrupt):
        model.save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.lstm"]  # no temporary file left behind


def test_overwrite_false_refuses_to_replace(tmp_path):
    model, _, _ = _trained_model()
    model.save(tmp_path / "m.lstm")
    with pytest.raises(FileExistsError, match="m.lstm"):
        model.save(tmp_path / "m.lstm", overwrite=False)


def test_save_and_load_weights(tmp_path):
    model, x, _ = _trained_model(seed=1)
    model.save_weights(tmp_path / "w.safetensors")
    other, _, _ = _trained_model(seed=2)
    other.load_weights(tmp_path / "w.safetensors")
    np.testing.assert_array_equal(other.predict(x), model.predict(x))
    with pytest.raises(ModelFileError, match="weights only"):
        lc.load_model(tmp_path / "w.safetensors")


def test_no_pickle_anywhere_in_the_saving_code():
    import inspect

    source = inspect.getsource(saving)
    assert "pickle" not in source.replace("unpickled", "").replace("no pickle", "")

"""Keras files edited or crafted: the config is checked against the shapes of the arrays the file stores and
against the limits before any layer is built, and each inconsistency is one KerasFileError naming the file
(issue 20's last gap).

Every crafted file is a copy of a fixture real Keras wrote (tests/data/keras): its config.json (a .keras) or its
model_config attribute (a legacy .h5) edited, or its weights edited with h5py.  Each refusal is checked to
allocate nothing: `Layer.add_weight` fails the test if it runs, and the memory traced stays under 4 MiB.
"""
import json
import re
import shutil
import tracemalloc
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest

import lstmcore as lc
from lstmcore.saving import keras_files
from lstmcore.saving.keras_files import KerasFileError
from lstmcore.saving.validation import MAX_CONFIG_INTEGER, MAX_LAYERS, MAX_MODEL_FILE_BYTES

from bad_input_support import assert_one_line_error, run

FIXTURES = Path(__file__).parent / "data" / "keras"
HUGE = 2 ** 24  # units at the limit: allowed alone, far too many weights with an input to match


def edited_keras(source, target, edit_config=None, edit_weights=None):
    """A copy of a .keras zip with `edit_config(config)` applied to config.json and `edit_weights(h5)` to
    model.weights.h5 (opened read-write with h5py); every other member copied as it is."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as copy:
        for member in original.infolist():
            data = original.read(member.filename)
            if member.filename == "config.json" and edit_config:
                config = json.loads(data)
                edit_config(config)
                data = json.dumps(config)
            if member.filename == "model.weights.h5" and edit_weights:
                data = _edited_h5_bytes(data, Path(f"{target}.weights.h5"), edit_weights)
            copy.writestr(member, data)
    return target


def _edited_h5_bytes(data, scratch, edit_weights):
    scratch.write_bytes(data)
    with h5py.File(scratch, "r+") as h5:
        edit_weights(h5)
    return scratch.read_bytes()


def edited_h5(source, target, edit_config=None, edit_weights=None):
    """A copy of a legacy .h5 model with `edit_config(config)` applied to its model_config attribute and
    `edit_weights(group)` to its model_weights group."""
    shutil.copyfile(source, target)
    with h5py.File(target, "r+") as h5:
        if edit_config:
            config = json.loads(h5.attrs["model_config"])
            edit_config(config)
            h5.attrs["model_config"] = json.dumps(config)
        if edit_weights:
            edit_weights(h5["model_weights"])
    return target


EDITORS = {".keras": edited_keras, ".h5": edited_h5}


def layer(config, name):
    """The config of the layer named `name` in a Keras model config."""
    return next(spec for spec in config["config"]["layers"] if spec["config"]["name"] == name)["config"]


def crafted(tmp_path, model, suffix, edit_config=None, edit_weights=None):
    return EDITORS[suffix](FIXTURES / f"{model}{suffix}", tmp_path / f"crafted{suffix}", edit_config, edit_weights)


def assert_refused_without_allocating(path, fragment, monkeypatch, loader=lc.load_model):
    """`loader(path)` raises one KerasFileError "PATH: ..." holding `fragment`, before any weight exists."""
    import lstmcore.layers.base as base

    monkeypatch.setattr(base.Layer, "add_weight",
                        lambda *a, **k: (_ for _ in ()).throw(AssertionError("a weight was allocated")))
    tracemalloc.start()
    try:
        with pytest.raises(KerasFileError, match=re.escape(fragment)) as caught:
            loader(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(caught.value).startswith(f"{path}: ") and "\n" not in str(caught.value), caught.value
    assert peak < 4 * 2 ** 20, peak


def _input_on_the_first_layer(config):
    """Keras 2's way: no InputLayer, the input shape on the first layer (`batch_input_shape`)."""
    first = config["config"]["layers"].pop(0)
    config["config"]["layers"][0]["config"]["batch_input_shape"] = first["config"]["batch_shape"]


def _no_input_shape(config):
    config["config"]["layers"].pop(0)


def _nested(depth):
    return [] if depth == 0 else [_nested(depth - 1)]


SEQUENTIAL = {  # danq_like: Input(24, 4), Conv1D(6, 5), MaxPooling1D, Dropout, Bidirectional(LSTM 4), LSTM 3, Dense 2
    "units of 10^9": (lambda c: layer(c, "lstm_1").update(units=10 ** 9),
                      f"layer 4 has units=1,000,000,000, beyond the limit of {MAX_CONFIG_INTEGER:,}"),
    "an input of 10^7 features": (lambda c: layer(c, "input_layer").update(batch_shape=[None, 24, 10 ** 7]),
                                  "layer 0 (Conv1D 'conv1d'): its config implies kernel (5, 10000000, 6) but the "
                                  "file stores (5, 4, 6)"),
    "an input beyond the limit": (lambda c: layer(c, "input_layer").update(batch_shape=[None, 24, 2 ** 25]),
                                  f"its input shape [None, 24, 33554432] is not a list of positive sizes (or null) "
                                  f"up to {MAX_CONFIG_INTEGER:,}"),
    "a merge that narrows the next input": (lambda c: layer(c, "bidirectional").update(merge_mode="sum"),
                                            "layer 4 (LSTM 'lstm_1'): its config implies kernel (4, 12) but the file "
                                            "stores (8, 12)"),
    "units the weights do not have": (lambda c: layer(c, "lstm_1").update(units=1280),
                                      "layer 4 (LSTM) has units=1,280 in its config, which does not match its "
                                      "weights in the file"),
    # lstmcore's own config of a Bidirectional has no backward layer; a Keras config may give it another size
    "a backward layer of its own size": (lambda c: layer(c, "bidirectional")["backward_layer"]["config"].update(
        units=4096), "layer 3 (Bidirectional 'bidirectional'): its config implies backward.kernel (6, 16384) "
                     "but the file stores (6, 16)"),
    "a config nested too deep": (lambda c: layer(c, "dense").update(extra=_nested(70)),
                                 "layer 5 has a config nested more than 64 deep"),
    "two layers of one name": (lambda c: layer(c, "dense").update(name="lstm_1"), "two layers are named 'lstm_1'"),
    "a model class lstmcore lacks": (lambda c: c.update(class_name="MyModel"),
                                     "the Keras model class 'MyModel' is not supported"),
    # it would load unbuilt, its weights never copied: a model predicting from fresh random weights
    "no input shape": (_no_input_shape, "its model config has no input shape (no input layer, no batch_input_shape)"),
}

FUNCTIONAL = {  # two_inputs: tokens -> Embedding, signal (7, 2); Concatenate, BatchNormalization, ..., LSTM 5
    "units of 10^9": (lambda c: layer(c, "lstm_2").update(units=10 ** 9),
                      f"layer 'lstm_2' has units=1,000,000,000, beyond the limit of {MAX_CONFIG_INTEGER:,}"),
    "an input of 10^7 features": (lambda c: layer(c, "signal").update(batch_shape=[None, 7, 10 ** 7]),
                                  "layer 'norm' (BatchNormalization): its config implies gamma (10000003,) but the "
                                  "file stores (5,)"),
    "a call of a layer it does not have": (
        lambda c: next(s for s in c["config"]["layers"] if s["name"] == "lstm_2")["inbound_nodes"][0]["args"][0][
            "config"].update(keras_history=["nowhere", 0, 0]),
        "call 0 of layer 'lstm_2' name the layer 'nowhere', which the model does not have"),
}


CONFIGS = {**{("danq_like", case): edit for case, edit in SEQUENTIAL.items()},
           **{("two_inputs", case): edit for case, edit in FUNCTIONAL.items()}}


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
@pytest.mark.parametrize("model, case", sorted(CONFIGS))
def test_a_crafted_config_is_refused_before_allocating(tmp_path, monkeypatch, suffix, model, case):
    edit, fragment = CONFIGS[model, case]
    assert_refused_without_allocating(crafted(tmp_path, model, suffix, edit), fragment, monkeypatch)


def _replace(group, key, shape):
    """An array of `shape` declared in place of group[key] and never written: HDF5 stores none of its bytes."""
    del group[key]
    group.create_dataset(key, shape=shape, dtype="float32", chunks=True)


def _append(group, key, shape):
    group.create_dataset(key, data=np.zeros(shape, "float32"))


LSTM_VARS = "layers/lstm/cell/vars"  # lstm_1's arrays in danq_like.keras: kernel, recurrent_kernel, bias


def _swap_vars_for_an_array(cell):
    """`vars` made a huge declared array: iterating it for its keys would read it."""
    del cell["vars"]
    cell.create_dataset("vars", shape=(HUGE, 4 * HUGE), dtype="float32", chunks=True)


def _huge_lstm_weights(h5):
    for key, shape in (("0", (8, 4 * HUGE)), ("1", (HUGE, 4 * HUGE)), ("2", (4 * HUGE,))):
        _replace(h5[LSTM_VARS], key, shape)
    _replace(h5["layers/dense/vars"], "0", (HUGE, 2))


DOT_KERAS_WEIGHTS = {
    "a missing weight": (None, lambda h5: h5[LSTM_VARS].__delitem__("2"),
                         "layer 4 (LSTM 'lstm_1'): its config implies 3 weights (kernel, recurrent_kernel, bias) but "
                         "the file stores 2: layers/lstm/cell/vars/0 (8, 12), layers/lstm/cell/vars/1 (3, 12)"),
    "a weight too many": (None, lambda h5: _append(h5[LSTM_VARS], "3", (12,)),
                          "layer 4 (LSTM 'lstm_1'): its config implies 3 weights (kernel, recurrent_kernel, bias) but "
                          "the file stores 4"),
    "a layer's weights missing": (None, lambda h5: h5["layers"].__delitem__("dense"),
                                  "layer 5 (Dense) has units=2 but no weights in the file"),
    "a weight of another shape": (None, lambda h5: _replace(h5[LSTM_VARS], "1", (3, 13)),
                                  "layer 4 (LSTM 'lstm_1'): its config implies recurrent_kernel (3, 12) but the file "
                                  "stores (3, 13)"),
    "petabytes declared that the config agrees with": (
        lambda c: layer(c, "lstm_1").update(units=HUGE), _huge_lstm_weights,
        f"beyond the limit of {MAX_MODEL_FILE_BYTES:,} bytes for a model"),
    "a group where an array should be": (None, lambda h5: h5[LSTM_VARS].create_group("3"),
                                         "layers/lstm/cell/vars/3: a group where Keras writes an array"),
    "an array where a group should be": (None, lambda h5: _swap_vars_for_an_array(h5["layers/lstm/cell"]),
                                         "/layers/lstm/cell/vars is an array where Keras writes a group"),
}


LEGACY_LSTM = "lstm_1/danq_like/lstm_1/lstm_cell"


def _drop_listed_bias(group):
    del group[f"{LEGACY_LSTM}/bias"]
    group["lstm_1"].attrs["weight_names"] = [n for n in group["lstm_1"].attrs["weight_names"] if "bias" not in n]


def _rename_dense(group):
    group.move("dense", "extra")
    group.attrs["layer_names"] = [("extra" if _text(n) == "dense" else _text(n)) for n in group.attrs["layer_names"]]


def _text(name):
    return name.decode() if isinstance(name, bytes) else name


LEGACY_WEIGHTS = {
    "a listed weight missing": (None, lambda g: g.__delitem__(f"{LEGACY_LSTM}/bias"),
                                "the weight 'danq_like/lstm_1/lstm_cell/bias' of layer 'lstm_1' is missing"),
    "a weight neither stored nor listed": (None, _drop_listed_bias,
                                           "layer 4 (LSTM 'lstm_1'): its config implies 3 weights (kernel, "
                                           "recurrent_kernel, bias) but the file stores 2"),
    "a listed layer without its group": (None, lambda g: g.attrs.__setitem__("layer_names", ["conv1d", "extra"]),
                                         "it lists the layer 'extra' but holds no weights for it"),
    "weights of a layer the config lacks": (None, _rename_dense,
                                            "it stores weights for a layer 'extra' that its model config does not "
                                            "have"),
    "a weight of another shape": (None, lambda g: _replace(g, f"{LEGACY_LSTM}/kernel", (9, 12)),
                                  "layer 4 (LSTM 'lstm_1'): its config implies kernel (8, 12) but the file stores "
                                  "(9, 12)"),
}
WEIGHTS = {**{(".keras", case): edits for case, edits in DOT_KERAS_WEIGHTS.items()},
           **{(".h5", case): edits for case, edits in LEGACY_WEIGHTS.items()}}


@pytest.mark.parametrize("suffix, case", sorted(WEIGHTS))
def test_crafted_weights_are_refused_before_allocating(tmp_path, monkeypatch, suffix, case):
    edit_config, edit_weights, fragment = WEIGHTS[suffix, case]
    path = crafted(tmp_path, "danq_like", suffix, edit_config, edit_weights)
    assert_refused_without_allocating(path, fragment, monkeypatch)


GENUINE = {"unedited": ("danq_like", lambda c: None), "unedited functional": ("two_inputs", lambda c: None),
           "Keras 2's input shape on the first layer": ("danq_like", _input_on_the_first_layer)}


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
@pytest.mark.parametrize("case", sorted(GENUINE))
def test_a_genuine_copy_still_loads_and_predicts_as_keras_did(tmp_path, suffix, case):
    """The editors alone break nothing (what each case above refuses is its edit), and a Sequential whose input
    shape is its first layer's, as Keras 2 wrote it, loads with its weights."""
    model, edit = GENUINE[case]
    path = crafted(tmp_path, model, suffix, edit, lambda h5: None)
    data = np.load(FIXTURES / f"{model}.npz")
    xs = [data[key] for key in sorted(data) if key.startswith("x")]
    out = lc.load_model(path).predict(xs if len(xs) > 1 else xs[0], verbose=0)
    for mine, theirs in zip(out if isinstance(out, list) else [out], [data[k] for k in sorted(data) if k[0] == "y"]):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)


def test_a_zip_member_beyond_the_file_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(keras_files, "MAX_MODEL_FILE_BYTES", 1000)
    path = crafted(tmp_path, "danq_like", ".keras")
    size = zipfile.ZipFile(path).getinfo("config.json").file_size
    assert_refused_without_allocating(path, f"its config.json is {size:,} bytes, beyond the limit of 1,000",
                                      monkeypatch)


def test_a_config_nested_beyond_what_python_parses_is_one_error(tmp_path, monkeypatch):
    path = tmp_path / "deep.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", "[" * 200_000 + "]" * 200_000)
        archive.writestr("model.weights.h5", b"")
    assert_refused_without_allocating(path, "its model config is not JSON that can be read (nested too deeply)",
                                      monkeypatch)


def test_more_layers_than_the_limit_are_refused_before_any_is_made(tmp_path, monkeypatch):
    def too_many(config):
        dropout = layer(config, "dropout")
        config["config"]["layers"][1:] = [{"class_name": "Dropout", "config": dict(dropout, name=f"d{i}")}
                                          for i in range(MAX_LAYERS)]

    import lstmcore.layers.base as base

    monkeypatch.setattr(base.Layer, "__init__", lambda *a, **k: (_ for _ in ()).throw(AssertionError("made")))
    with pytest.raises(KerasFileError, match=re.escape(f"has {MAX_LAYERS + 1} layers (the limit is {MAX_LAYERS:,})")):
        lc.load_model(crafted(tmp_path, "danq_like", ".keras", too_many))


def test_weights_of_a_huge_declared_shape_are_compared_before_they_are_read(tmp_path, monkeypatch):
    """model.load_weights of a crafted Keras weights file: the shapes are compared before an array is read."""
    model = lc.load_model(FIXTURES / "danq_like.keras")
    path = tmp_path / "crafted.weights.h5"
    shutil.copyfile(FIXTURES / "danq_like.weights.h5", path)
    with h5py.File(path, "r+") as h5:
        _replace(h5[LSTM_VARS], "1", (HUGE, 4 * HUGE))
    assert_refused_without_allocating(path, f"layers/lstm: layer 'lstm_1' needs weights of shapes "
                                            f"[(8, 12), (3, 12), (12,)]; the file has [(8, 12), ({HUGE}, {4 * HUGE}), "
                                            "(12,)]", monkeypatch, model.load_weights)


def test_the_command_line_reads_no_keras_file_and_says_so_in_one_line(tmp_path, capsys):
    """`lstmcore info` and `predict` read lstmcore's own model files only: a crafted Keras file is one line."""
    path = crafted(tmp_path, "danq_like", ".keras", SEQUENTIAL["units of 10^9"][0])
    code, out, err = run(["info", path], capsys)
    assert_one_line_error(code, err, path, "is not a valid lstmcore model file")

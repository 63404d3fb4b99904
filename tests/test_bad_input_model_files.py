"""Model files edited or crafted: the whole config is checked against the weights, the task's state and sane
limits before anything is built, and each inconsistency is one line naming the file (issue 20)."""
import re
import tracemalloc

import numpy as np
import pytest

import lstmcore
from lstmcore import layers as L
from lstmcore.saving import ModelFileError
from lstmcore.saving.validation import MAX_CONFIG_INTEGER

from bad_input_support import assert_one_line_error, crafted_model, crafted_tensors, run, snapshot, \
    assert_unchanged, train_small_model


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("model-files")
    return (folder, *train_small_model(folder))


def _inner_lstm(header):
    return header["model"]["config"]["layers"][0]["config"]["layer"]


def _set(path, value):
    def edit(header):
        target = header
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return edit


CRAFTED = {
    "task format of the wrong type": (_set(["extra", "task_format"], "1"), "task format '1' is not a version"),
    "task format from the future": (_set(["extra", "task_format"], 99), "newer lstmcore"),
    "task name not a name": (_set(["extra", "task"], 5), "the task name 5 is not a name"),
    "state without classes": (lambda h: h["extra"]["state"].pop("classes"), "no list of class names"),
    "state without encoder": (lambda h: h["extra"]["state"].pop("encoder"), "has no encoder"),
    "state not an object": (_set(["extra", "state"], [1]), "no encoder state"),
    "a single class": (_set(["extra", "state", "classes"], ["a"]), "two or more distinct"),
    "a class twice": (_set(["extra", "state", "classes"], ["a", "a"]), "two or more distinct"),
    "more classes than outputs": (_set(["extra", "state", "classes"], ["a", "b", "c"]),
                                  "not one probability per class (None, 3)"),
    "wrong return_sequences": (lambda h: _inner_lstm(h)["config"].update(return_sequences=True),
                               "outputs shape (None, None, 2)"),
    "a wrapped class that is not what gets built": (lambda h: _inner_lstm(h).update(class_name="Dense"),
                                                    "names the layer it wraps 'Dense'"),
    "an unknown layer class": (lambda h: _inner_lstm(h).update(class_name="GRU"), "'GRU'"),
    "units of 10^9": (lambda h: _inner_lstm(h)["config"].update(units=10 ** 9), "beyond the limit"),
    "units that do not match the weights": (lambda h: _inner_lstm(h)["config"].update(units=8),
                                            "units=8 in its config, which does not match its weights"),
    "an input of 10^7 features": (_set(["model", "config", "input_shape"], [None, None, 10 ** 7]),
                                  ("layer 0 (Bidirectional '", "'): its config implies forward.kernel "
                                   "(10000000, 16) but the file stores (4, 16)")),
    "a merge mode that narrows the next layer's input": (
        lambda h: h["model"]["config"]["layers"][0]["config"].update(merge_mode="sum"),
        ("layer 1 (Dense '", "'): its config implies kernel (4, 2) but the file stores (8, 2)")),
    "an unknown encoder": (_set(["extra", "state", "encoder", "name"], "klingon"), "Unknown encoder 'klingon'"),
    "an encoder of the wrong width": (_set(["extra", "state", "encoder", "name"], "protein"), "makes 20 channels"),
    "an unknown optimizer": (_set(["compile", "optimizer", "name"], "klingon"), "Unknown optimizer 'klingon'"),
    "compile settings not an object": (_set(["compile"], [1]), "compile settings"),
    "a model config that is a list": (_set(["model"], [1]), "model config is missing"),
    "layers that are not specs": (_set(["model", "config", "layers"], [1, 2]), "is not a layer spec"),
    "hyper-parameters that are a list": (_set(["extra", "hyperparameters"], [1]), "'hyperparameters' is not"),
}


def _fragments(fragment):
    """A case's expected message: one fragment, or several (around a layer name, which the trained model takes
    from the names layers made earlier in the session took)."""
    return (fragment,) if isinstance(fragment, str) else fragment


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_a_crafted_model_file_is_one_line_through_predict(trained, tmp_path, capsys, case):
    folder, data, unlabelled, model = trained
    edit, fragment = CRAFTED[case]
    crafted = crafted_model(model, tmp_path / "crafted.lstm", edit)
    before = snapshot(crafted, unlabelled)
    output = tmp_path / "calls.tsv"
    code, out, err = run(["-q", "predict", crafted, unlabelled, "-o", output], capsys)
    assert_one_line_error(code, err, crafted, *_fragments(fragment))
    assert not output.exists()
    assert_unchanged(before)


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_info_on_a_crafted_model_file_never_gives_a_traceback(trained, tmp_path, capsys, case):
    """`lstmcore info` reads the header only (it works without the task's plugin): it describes what it can,
    or says in one line what is damaged."""
    folder, data, unlabelled, model = trained
    crafted = crafted_model(model, tmp_path / "crafted.lstm", CRAFTED[case][0])
    code, out, err = run(["info", crafted], capsys)
    if code == 0:
        assert out.startswith(f"file: {crafted}\n") and err == ""
    else:
        assert_one_line_error(code, err, crafted)


@pytest.mark.parametrize("case", ["a single class", "units of 10^9", "an unknown encoder", "wrong return_sequences"])
def test_a_crafted_model_file_is_one_line_through_evaluate(trained, tmp_path, capsys, case):
    folder, data, unlabelled, model = trained
    edit, fragment = CRAFTED[case]
    crafted = crafted_model(model, tmp_path / "crafted.lstm", edit)
    code, out, err = run(["evaluate", crafted, data], capsys)
    assert_one_line_error(code, err, crafted, *_fragments(fragment))


def test_huge_units_are_refused_before_allocating(trained, tmp_path, monkeypatch):
    """The limit check comes before any weight exists: building is never reached."""
    folder, data, unlabelled, model = trained
    crafted = crafted_model(model, tmp_path / "huge.lstm", CRAFTED["units of 10^9"][0])
    import lstmcore.layers.base as base

    def no_allocation(*args, **kwargs):
        raise AssertionError("a weight was allocated for a file that should have been refused")

    monkeypatch.setattr(base.Layer, "add_weight", no_allocation)
    with pytest.raises(ModelFileError, match=f"beyond the limit of {MAX_CONFIG_INTEGER:,}"):
        lstmcore.load_model(crafted)


def test_mismatched_units_are_refused_before_allocating(trained, tmp_path, monkeypatch):
    folder, data, unlabelled, model = trained
    crafted = crafted_model(model, tmp_path / "wide.lstm",
                            lambda h: _inner_lstm(h)["config"].update(units=4096))
    import lstmcore.layers.base as base

    monkeypatch.setattr(base.Layer, "add_weight", lambda *a, **k: (_ for _ in ()).throw(AssertionError("allocated")))
    with pytest.raises(ModelFileError, match="units=4,096 in its config, which does not match"):
        lstmcore.load_model(crafted)


def test_the_untouched_model_still_loads_and_predicts(trained):
    folder, data, unlabelled, model = trained
    loaded = lstmcore.load_model(model)
    assert loaded.predict(np.zeros((2, 5, 4), np.float32)).shape == (2, 2)


@pytest.mark.parametrize("damage", ["truncated", "empty", "random", "huge header"])
def test_damaged_files_still_give_one_line(trained, tmp_path, capsys, damage):
    """What held before issue 20 holds still."""
    folder, data, unlabelled, model = trained
    content = model.read_bytes()
    bad = tmp_path / "bad.lstm"
    bad.write_bytes({"truncated": content[:len(content) // 2], "empty": b"",
                     "random": np.random.default_rng(0).bytes(500),
                     "huge header": (2 ** 60).to_bytes(8, "little") + content[8:]}[damage])
    code, out, err = run(["predict", bad, unlabelled, "-o", tmp_path / "x.tsv"], capsys)
    assert_one_line_error(code, err, bad)


# --- weight shapes that follow from a layer's input, compared before the build (issue 20) ---------------------

def _zero_byte(name, shape):
    """A tensor edit adding `name` of `shape` with a 0 in it: no bytes in the file, any size in its shape."""
    return lambda tensors: tensors.update({name: np.zeros(shape, np.float32)})


TENSOR_CRAFTED = {
    "LSTM units of 10^6 beside a zero-byte tensor holding 10^6": (
        lambda h: _inner_lstm(h)["config"].update(units=10 ** 6), _zero_byte("layers.0.forward.junk", (10 ** 6, 0)),
        ("layer 0 (Bidirectional '", "'): its config implies forward.kernel (4, 4000000) but the file stores (4, 16)")),
    "a weight the file lacks": (
        lambda h: None, lambda tensors: tensors.pop("layers.1.bias"),
        ("layer 1 (Dense '", "'): its config implies bias (2,) but the file stores no such weight")),
}


@pytest.mark.parametrize("case", sorted(TENSOR_CRAFTED))
def test_crafted_tensors_are_one_line_through_predict(trained, tmp_path, capsys, case):
    """The sizes check (each size a dimension of some weight of the layer) is fooled by a zero-byte tensor of any
    shape; the weights the config implies, compared one by one, are not."""
    folder, data, unlabelled, model = trained
    edit_header, edit_tensors, fragment = TENSOR_CRAFTED[case]
    crafted = crafted_tensors(crafted_model(model, tmp_path / "header.lstm", edit_header), tmp_path / "crafted.lstm",
                              edit_tensors)
    output = tmp_path / "calls.tsv"
    code, out, err = run(["-q", "predict", crafted, unlabelled, "-o", output], capsys)
    assert_one_line_error(code, err, crafted, "is not a valid lstmcore model file", *fragment)
    assert not output.exists()


def _sequential(*layers):
    lstmcore.set_seed(0)
    return lstmcore.Sequential(list(layers))


def _input_shape(shape):
    return _set(["model", "config", "input_shape"], shape)


def _layer_config(index, **settings):
    return lambda h: h["model"]["config"]["layers"][index]["config"].update(settings)


# class: (the model, a header edit, a tensor edit or None, the message); each weight-bearing layer class
INPUT_SIZE_CASES = {
    "LSTM": (lambda: _sequential(lstmcore.Input(shape=(None, 4)), L.LSTM(3, name="lstm")),
             _input_shape([None, None, 10 ** 7]), None,
             "layer 0 (LSTM 'lstm'): its config implies kernel (10000000, 12) but the file stores (4, 12)"),
    "Bidirectional": (
        lambda: _sequential(lstmcore.Input(shape=(None, 4)), L.Bidirectional(L.LSTM(3), name="bi")),
        _input_shape([None, None, 10 ** 7]), None,
        "layer 0 (Bidirectional 'bi'): its config implies forward.kernel (10000000, 12) but the file stores (4, 12)"),
    "Dense": (lambda: _sequential(lstmcore.Input(shape=(6,)), L.Dense(3, name="dense")),
              _input_shape([None, 10 ** 7]), None,
              "layer 0 (Dense 'dense'): its config implies kernel (10000000, 3) but the file stores (6, 3)"),
    "Conv1D": (lambda: _sequential(lstmcore.Input(shape=(None, 4)), L.Conv1D(5, 3, name="conv")),
               _input_shape([None, None, 10 ** 7]), None,
               "layer 0 (Conv1D 'conv'): its config implies kernel (3, 10000000, 5) but the file stores (3, 4, 5)"),
    "Embedding": (lambda: _sequential(lstmcore.Input(shape=(6,)), L.Embedding(7, 3, name="embedding")),
                  _layer_config(0, input_dim=10 ** 7), _zero_byte("layers.0.junk", (10 ** 7, 0)),
                  "layer 0 (Embedding 'embedding'): its config implies embeddings (10000000, 3) but the file "
                  "stores (7, 3)"),
    "Embedding with its sizes swapped": (
        lambda: _sequential(lstmcore.Input(shape=(6,)), L.Embedding(7, 3, name="embedding")),
        _layer_config(0, input_dim=3, output_dim=7), None,
        "layer 0 (Embedding 'embedding'): its config implies embeddings (3, 7) but the file stores (7, 3)"),
    "BatchNormalization": (
        lambda: _sequential(lstmcore.Input(shape=(None, 4)), L.BatchNormalization(name="norm")),
        _input_shape([None, None, 10 ** 7]), None,
        "layer 0 (BatchNormalization 'norm'): its config implies gamma (10000000,) but the file stores (4,)"),
    "LayerNormalization": (
        lambda: _sequential(lstmcore.Input(shape=(None, 4)), L.LayerNormalization(name="norm")),
        _input_shape([None, None, 10 ** 7]), None,
        "layer 0 (LayerNormalization 'norm'): its config implies gamma (10000000,) but the file stores (4,)"),
    "TimeDistributed": (
        lambda: _sequential(lstmcore.Input(shape=(5, 6)), L.TimeDistributed(L.Dense(3), name="td")),
        _input_shape([None, 5, 10 ** 7]), None,
        "layer 0 (TimeDistributed 'td'): its config implies kernel (10000000, 3) but the file stores (6, 3)"),
    "a bias switched on that the file lacks": (
        lambda: _sequential(lstmcore.Input(shape=(None, 4)), L.Conv1D(5, 3, use_bias=False, name="conv")),
        _layer_config(0, use_bias=True), None,
        "layer 0 (Conv1D 'conv'): its config implies bias (5,) but the file stores no such weight"),
    "a later layer, behind one without weights": (
        lambda: _sequential(lstmcore.Input(shape=(None, 4)), L.Bidirectional(L.LSTM(3, return_sequences=True),
                                                                              name="bi"),
                            L.Dropout(0.1, name="drop"), L.Dense(2, name="dense")),
        _layer_config(0, merge_mode="ave"), None,
        "layer 2 (Dense 'dense'): its config implies kernel (3, 2) but the file stores (6, 2)"),
}


def _crafted_file(tmp_path, case):
    """(the model, its file, the crafted file, the message expected)."""
    build, edit_header, edit_tensors, fragment = INPUT_SIZE_CASES[case]
    model, genuine = build(), tmp_path / "genuine.lstm"
    model.save(genuine)
    crafted = crafted_model(genuine, tmp_path / "header.lstm", edit_header)
    if edit_tensors is not None:
        crafted = crafted_tensors(crafted, tmp_path / "crafted.lstm", edit_tensors)
    return model, genuine, crafted, fragment


@pytest.mark.parametrize("case", sorted(INPUT_SIZE_CASES))
def test_weights_the_input_size_implies_are_compared_before_allocating(tmp_path, monkeypatch, case):
    """lstmcore.load_model of a file whose config implies other weight shapes than it stores: one message naming
    the layer, the weight and both shapes, and nothing allocated (add_weight never runs; under 8 MB traced,
    where the 10^7-wide weights would take 40 MB and more)."""
    model, genuine, crafted, fragment = _crafted_file(tmp_path, case)
    import lstmcore.layers.base as base

    monkeypatch.setattr(base.Layer, "add_weight",
                        lambda *a, **k: (_ for _ in ()).throw(AssertionError("a weight was allocated")))
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match=re.escape(fragment)):
            lstmcore.load_model(crafted)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2 ** 20, peak


@pytest.mark.parametrize("case", sorted(INPUT_SIZE_CASES))
def test_the_genuine_file_of_each_layer_class_still_loads(tmp_path, case):
    model, genuine, crafted, fragment = _crafted_file(tmp_path, case)
    loaded = lstmcore.load_model(genuine)
    for mine, theirs in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(mine, theirs)
    assert [w.shape for w in loaded.get_weights()] == [w.shape for w in model.get_weights()]

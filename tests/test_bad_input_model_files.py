"""Model files edited or crafted: the whole config is checked against the weights, the task's state and sane
limits before anything is built, and each inconsistency is one line naming the file (issue 20)."""
import numpy as np
import pytest

import lstmcore
from lstmcore.saving import ModelFileError
from lstmcore.saving.validation import MAX_CONFIG_INTEGER

from bad_input_support import assert_one_line_error, crafted_model, run, snapshot, assert_unchanged, \
    train_small_model


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
                                  "takes 10000000 features"),
    "an unknown encoder": (_set(["extra", "state", "encoder", "name"], "klingon"), "Unknown encoder 'klingon'"),
    "an encoder of the wrong width": (_set(["extra", "state", "encoder", "name"], "protein"), "makes 20 channels"),
    "an unknown optimizer": (_set(["compile", "optimizer", "name"], "klingon"), "Unknown optimizer 'klingon'"),
    "compile settings not an object": (_set(["compile"], [1]), "compile settings"),
    "a model config that is a list": (_set(["model"], [1]), "model config is missing"),
    "layers that are not specs": (_set(["model", "config", "layers"], [1, 2]), "is not a layer spec"),
    "hyper-parameters that are a list": (_set(["extra", "hyperparameters"], [1]), "'hyperparameters' is not"),
}


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_a_crafted_model_file_is_one_line_through_predict(trained, tmp_path, capsys, case):
    folder, data, unlabelled, model = trained
    edit, fragment = CRAFTED[case]
    crafted = crafted_model(model, tmp_path / "crafted.lstm", edit)
    before = snapshot(crafted, unlabelled)
    output = tmp_path / "calls.tsv"
    code, out, err = run(["-q", "predict", crafted, unlabelled, "-o", output], capsys)
    assert_one_line_error(code, err, crafted, fragment)
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
    assert_one_line_error(code, err, crafted, fragment)


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

"""Functional models' files (lstmcore.models.Model) crafted or edited: every layer of the graph is checked
against its weights and the limits, and the graph's references are checked, before anything is built or
allocated; each problem is one line naming the file (issue 20)."""
import re
import tracemalloc

import numpy as np
import pytest

import lstmcore as lc
import lstmcore.layers.base as base
from lstmcore import layers as L
from lstmcore.saving import ModelFileError
from lstmcore.saving.model_file import check_spec, read_metadata_and_shapes
from lstmcore.saving.task_models import read_task_metadata, save_task_model
from lstmcore.saving.validation import MAX_CONFIG_INTEGER

from bad_input_support import assert_one_line_error, assert_unchanged, crafted_model, run, snapshot, \
    train_small_model


def _graph():
    """sequence -> Bidirectional(LSTM 3) -> [Dense 'features' | Dense 'side'] -> Concatenate -> Dense 'probabilities'
    (two inputs of a merge, a wrapper, named layers: what a crafted file can get wrong)."""
    sequence = lc.Input(shape=(None, 4), name="sequence")
    encoded = L.Bidirectional(L.LSTM(3, name="lstm"), name="bi")(sequence)
    joined = L.Concatenate(name="join")([L.Dense(5, activation="tanh", name="features")(encoded),
                                         L.Dense(2, activation="tanh", name="side")(encoded)])
    model = lc.Model(sequence, L.Dense(2, activation="softmax", name="probabilities")(joined), name="graph")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """(folder, unlabelled FASTA, the graph saved by `lstmcore train`'s writer for task sequence-classification,
    the graph saved by model.save)."""
    folder = tmp_path_factory.mktemp("functional")
    data, unlabelled, sequential = train_small_model(folder)
    record = read_task_metadata(sequential)
    lc.set_seed(0)
    model = _graph()
    task_file = save_task_model(model, folder / "graph-task.lstm", "sequence-classification", record["state"],
                                record["hyperparameters"])
    plain = folder / "graph.lstm"
    model.save(plain)
    return folder, unlabelled, task_file, plain


def _layer(header, name):
    return next(spec for spec in header["model"]["config"]["layers"] if spec["name"] == name)


def _graph_config(header):
    return header["model"]["config"]


def _rename(spec, name):
    spec["name"] = spec["config"]["name"] = name


CRAFTED = {
    "units of 10^9 in one layer": (
        lambda h: _layer(h, "features")["config"].update(units=10 ** 9),
        f"layer 'features' has units=1,000,000,000, beyond the limit of {MAX_CONFIG_INTEGER:,}"),
    "units that disagree with the weights": (
        lambda h: _layer(h, "features")["config"].update(units=4096),
        "layer 'features' (Dense) has units=4,096 in its config, which does not match its weights in the file"),
    "a wrapped layer whose units disagree": (
        lambda h: _layer(h, "bi")["config"]["layer"]["config"].update(units=1000),
        "layer 'bi' (Bidirectional) has units=1,000 in its config, which does not match its weights"),
    "a layer class that is not what gets built": (
        lambda h: _layer(h, "bi")["config"]["layer"].update(class_name="Dense"),
        "names the layer it wraps 'Dense'"),
    "an outputs entry naming a missing layer": (
        lambda h: _graph_config(h).update(output_layers=[["no_such_layer", 0, 0]]),
        "its output_layers name the layer 'no_such_layer', which the model does not have"),
    "an input naming a layer that is not an input": (
        lambda h: _graph_config(h).update(input_layers=[["join", 0, 0]]),
        "its input_layers name the layer 'join', which is not an input layer"),
    "a cycle": (
        lambda h: _layer(h, "features")["inbound_nodes"][0].update(args=[["probabilities", 0, 0]]),
        "its graph has a cycle through layer"),
    "a layer reading its own output": (
        lambda h: _layer(h, "side")["inbound_nodes"][0].update(args=[["side", 0, 0]]),
        "its graph has a cycle through layer 'side'"),
    "a call index out of range": (
        lambda h: _layer(h, "join")["inbound_nodes"][0]["args"][1].__setitem__(1, 3),
        "call 0 of layer 'join' name call 3 of layer 'side', which is called 1 time(s)"),
    "an output index out of range": (
        lambda h: _graph_config(h).update(output_layers=[["probabilities", 0, 2]]),
        "its output_layers name output 2 of layer 'probabilities', which returns 1"),
    "a reference that is not one": (
        lambda h: _layer(h, "join")["inbound_nodes"][0]["args"].__setitem__(0, ["bi", -1, 0]),
        "call 0 of layer 'join' hold ['bi', -1, 0], not a [layer name, call index, output index]"),
    "a layer the outputs never reach": (
        lambda h: _layer(h, "join")["inbound_nodes"][0].update(args=[["features", 0, 0], ["features", 0, 0]]),
        "its layer 'side' is not on the way from the inputs to the outputs"),
    "two layers of one name": (lambda h: _rename(_layer(h, "side"), "features"), "two layers are named 'features'"),
    "inputs whose shapes do not join": (
        lambda h: _layer(h, "side")["inbound_nodes"][0].update(args=[["sequence", 0, 0]]),
        "call 0 of layer 'join' (Concatenate) cannot take the input shape"),
    "an input of 10^9 features": (
        lambda h: _layer(h, "sequence")["config"].update(shape=[None, 10 ** 9]),
        "the shape of input layer 'sequence' [None, 1000000000] is not a list of positive sizes"),
    "no layers": (lambda h: _graph_config(h).update(layers=[]), "its model config has no list of layers"),
    "an input of 10^7 features": (
        lambda h: _layer(h, "sequence")["config"].update(shape=[None, 10 ** 7]),
        "layer 'bi' (Bidirectional): its config implies forward.kernel (10000000, 12) but the file stores (4, 12)"),
    "a merge mode that narrows the next layers' input": (
        lambda h: _layer(h, "bi")["config"].update(merge_mode="sum"),
        "layer 'features' (Dense): its config implies kernel (3, 5) but the file stores (6, 5)"),
    "a merge that takes one input twice": (
        lambda h: _layer(h, "join")["inbound_nodes"][0]["args"].insert(0, ["features", 0, 0]),
        "layer 'probabilities' (Dense): its config implies kernel (12, 2) but the file stores (7, 2)"),
}


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_a_crafted_graph_file_is_one_line_through_predict(files, tmp_path, capsys, case):
    folder, unlabelled, task_file, plain = files
    edit, fragment = CRAFTED[case]
    crafted = crafted_model(task_file, tmp_path / "crafted.lstm", edit)
    before = snapshot(crafted, unlabelled)
    output = tmp_path / "calls.tsv"
    code, out, err = run(["-q", "predict", crafted, unlabelled, "-o", output], capsys)
    assert_one_line_error(code, err, crafted, "is not a valid lstmcore model file", fragment)
    assert not output.exists()
    assert_unchanged(before)


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_a_crafted_graph_file_is_refused_before_any_weight_is_allocated(files, tmp_path, monkeypatch, case):
    folder, unlabelled, task_file, plain = files
    edit, fragment = CRAFTED[case]
    crafted = crafted_model(plain, tmp_path / "crafted.lstm", edit)

    def no_allocation(*args, **kwargs):
        raise AssertionError("a weight was allocated for a file that should have been refused")

    monkeypatch.setattr(base.Layer, "add_weight", no_allocation)
    with pytest.raises(ModelFileError) as error:
        lc.load_model(crafted)
    assert fragment in error.value.reason


def test_the_untouched_graph_files_load_and_predict(files):
    folder, unlabelled, task_file, plain = files
    header, shapes = read_metadata_and_shapes(plain)
    assert check_spec(plain, header["model"], shapes) == ((None, None, 4), (None, 2))
    x = np.random.default_rng(0).random((3, 7, 4)).astype("float32")
    original = lc.load_model(plain).predict(x, verbose=0)
    assert original.shape == (3, 2)
    np.testing.assert_array_equal(lc.load_model(task_file).predict(x, verbose=0), original)


def test_a_shared_layer_and_several_outputs_still_load(tmp_path):
    """A layer called twice and a layer returning several arrays: the references the checks must accept."""
    lc.set_seed(1)
    a, b = lc.Input(shape=(5, 3), name="a"), lc.Input(shape=(4, 2), name="b")
    _, h, c = L.LSTM(6, return_state=True, name="encoder")(a)
    decoded = L.LSTM(6, return_sequences=True, name="decoder")(b, initial_state=[h, c])
    shared = L.Dense(2, name="shared")
    model = lc.Model([a, b], [shared(decoded), shared(h)])
    model.save(tmp_path / "shared.lstm")
    header, shapes = read_metadata_and_shapes(tmp_path / "shared.lstm")
    assert check_spec("x", header["model"], shapes) == (None, None)
    x = [np.ones((2, 5, 3), "float32"), np.ones((2, 4, 2), "float32")]
    for mine, loaded in zip(model.predict(x, verbose=0), lc.load_model(tmp_path / "shared.lstm").predict(x, verbose=0)):
        np.testing.assert_array_equal(mine, loaded)


def _two_inputs_one_dense(path):
    """x (3 features) and y (3 features) -> one Dense 'shared', called on each: two outputs."""
    lc.set_seed(2)
    x, y = lc.Input(shape=(3,), name="x"), lc.Input(shape=(3,), name="y")
    shared = L.Dense(2, name="shared")
    lc.Model([x, y], [shared(x), shared(y)]).save(path)
    return path


def test_every_call_of_a_shared_layer_must_fit_its_weights(tmp_path, monkeypatch):
    """The loader builds a shared layer at whichever call it replays first: each call's input is compared."""
    crafted = crafted_model(_two_inputs_one_dense(tmp_path / "shared.lstm"), tmp_path / "crafted.lstm",
                            lambda h: _layer(h, "y")["config"].update(shape=[10 ** 7]))
    monkeypatch.setattr(base.Layer, "add_weight", lambda *a, **k: (_ for _ in ()).throw(AssertionError("allocated")))
    with pytest.raises(ModelFileError, match=re.escape(
            "call 1 of layer 'shared' (Dense): its config implies kernel (10000000, 2) but the file stores (3, 2)")):
        lc.load_model(crafted)


def test_a_graph_of_10_million_features_is_refused_within_a_few_megabytes(files, tmp_path):
    """Measured, not only add_weight kept away: the (10^7, 12) kernels would be 480 MB each."""
    folder, unlabelled, task_file, plain = files
    crafted = crafted_model(plain, tmp_path / "crafted.lstm", CRAFTED["an input of 10^7 features"][0])
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match=re.escape(CRAFTED["an input of 10^7 features"][1])):
            lc.load_model(crafted)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2 ** 20, peak

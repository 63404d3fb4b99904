"""Data that used to be misread silently, or crash: header quoting, the alphabet, undecodable headers, --config,
NaN and inf, zero samples, a wrong feature count, and threads predicting at once with masking (issue 20)."""
import re
import sys
import threading

import numpy as np
import pytest

import lstmcore as lc
from lstmcore.errors import UserInputError
from lstmcore.io.fasta import read_fasta, write_fasta
from lstmcore.io.labels import attach_labels, header_fields
from lstmcore.io.npz import read_npz, require_array
from lstmcore.io.tables import read_table

from bad_input_support import assert_one_line_error, labelled_records, run, train_small_model


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    return (folder, *train_small_model(folder))


# --- headers ----------------------------------------------------------------------------------------------

def test_header_fields_are_parsed_with_quotes():
    assert header_fields('s1 label="my class" note=x') == {"label": "my class", "note": "x"}
    assert header_fields("s1 label='my class'") == {"label": "my class"}
    assert header_fields("s1 5' UTR label=a") == {"label": "a"}       # an apostrophe in the description
    assert header_fields("s1 label=my class") == {"label": "my"}       # unquoted: ends at the space
    assert header_fields("label=x") == {}                               # the id is not a field
    with pytest.raises(ValueError, match="never closed"):
        header_fields('s1 label="my class')
    with pytest.raises(ValueError, match="twice"):
        header_fields("s1 label=a label=b")


def test_a_quoted_class_with_a_space_trains_as_that_class(tmp_path, capsys):
    data = tmp_path / "quoted.fa"
    records = labelled_records()
    data.write_text("".join(f'>{rid} label="{"my class" if label == "a" else "other"}"\n{seq}\n'
                            for rid, seq, label in records))
    model = tmp_path / "q.lstm"
    code, out, err = run(["-q", "train", "sequence-classification", data, "-o", model, "--epochs", "1"], capsys)
    assert code == 0, err
    assert lc.saving.read_metadata(model)["extra"]["state"]["classes"] == ["my class", "other"]


def test_an_unclosed_quote_names_the_record(tmp_path, capsys):
    data = tmp_path / "unclosed.fa"
    data.write_text('>s1 label="my class\nACGTACGT\n>s2 label=b\nACGTTT\n')
    code, out, err = run(["-q", "train", "sequence-classification", data, "-o", tmp_path / "m.lstm"], capsys)
    assert_one_line_error(code, err, data, "record s1", "never closed")


def test_a_non_utf8_header_names_its_record_and_line(tmp_path, capsys):
    data = tmp_path / "latin1.fa"
    data.write_bytes(b">s1 label=a\nACGTACGT\n>s2 label=caf\xe9\nACGTTT\n")
    with pytest.raises(UserInputError, match=r"record s2: is not UTF-8 text: the header on line 3 has the "
                                             r"byte 0xe9 at column 14"):
        read_fasta(data)
    code, out, err = run(["-q", "train", "sequence-classification", data, "-o", tmp_path / "m.lstm"], capsys)
    assert_one_line_error(code, err, data, "record s2", "line 3", "column 14")


def test_a_non_utf8_table_line_is_named(tmp_path):
    table = tmp_path / "labels.tsv"
    table.write_bytes(b"id\tlabel\ns1\ta\ns2\tb\xff\n")
    with pytest.raises(UserInputError, match="line 3 has the byte 0xff at column 5"):
        read_table(table)


# --- the alphabet -----------------------------------------------------------------------------------------

def test_the_detected_alphabet_is_reported(trained, tmp_path, capsys):
    folder, data, unlabelled, model = trained
    code, out, err = run(["-q", "train", "sequence-classification", data, "-o", tmp_path / "m.lstm",
                          "--epochs", "1"], capsys)
    assert code == 0 and err.strip().splitlines() == [
        "alphabet: dna (detected from the letters; --alphabet sets it)"], err


def test_dna_soft_masked_with_x_is_an_error_not_a_protein_model(tmp_path, capsys):
    data = tmp_path / "masked.fa"
    records = [(rid, seq[:4] + "XXX" + seq[4:], label) for rid, seq, label in labelled_records()]
    write_fasta(data, records)
    code, out, err = run(["-q", "train", "sequence-classification", data, "-o", tmp_path / "m.lstm"], capsys)
    assert_one_line_error(code, err, data, "record s0", "look like nucleotides", "'X'", "position 5",
                          "--alphabet protein")
    assert not (tmp_path / "m.lstm").exists()


def test_the_alphabet_option_sets_it(tmp_path, capsys):
    data = tmp_path / "masked.fa"
    write_fasta(data, [(rid, seq + "XX", label) for rid, seq, label in labelled_records()])
    model = tmp_path / "m.lstm"
    code, out, err = run(["-q", "train", "sequence-classification", data, "-o", model, "--epochs", "1",
                          "--alphabet", "protein"], capsys)
    assert code == 0, err
    assert lc.saving.read_metadata(model)["extra"]["state"]["encoder"]["name"] == "protein"
    assert "alphabet:" not in err  # nothing was detected, so nothing is reported


def test_real_protein_is_still_detected(tmp_path, capsys):
    data = tmp_path / "protein.fa"
    write_fasta(data, labelled_records(letters="ACDEFGHIKLMNPQRSTVWY"))
    code, out, err = run(["-q", "train", "sequence-classification", data, "-o", tmp_path / "p.lstm",
                          "--epochs", "1"], capsys)
    assert code == 0 and "alphabet: protein" in err, err


# --- --config ---------------------------------------------------------------------------------------------

def test_config_naming_a_folder(trained, tmp_path, capsys):
    folder, data, unlabelled, model = trained
    code, out, err = run(["train", "sequence-classification", data, "-o", tmp_path / "m", "--config", tmp_path],
                         capsys)
    assert_one_line_error(code, err, tmp_path, "is a folder")


@pytest.mark.parametrize("config, fragment", [
    ('{"units": 10000000}', "units must be between 1 and 4096"),
    ('{"units": 0}', "units must be between 1 and 4096"),
    ('{"dropout": 1.0}', "dropout must be between"),
    ('{"learning_rate": -1}', "learning_rate must be between"),
    ('{"units": "many"}', "must be of type int"),
    ("{not json", "not valid JSON"),
])
def test_config_inline_is_checked_against_sane_limits(trained, tmp_path, capsys, config, fragment):
    folder, data, unlabelled, model = trained
    code, out, err = run(["train", "sequence-classification", data, "-o", tmp_path / "m", "--config", config],
                         capsys)
    assert_one_line_error(code, err, "--config", fragment)
    assert not (tmp_path / "m").exists()


def test_config_file_with_huge_units(trained, tmp_path, capsys):
    folder, data, unlabelled, model = trained
    config = tmp_path / "big.json"
    config.write_text('{"units": 10000000}')
    code, out, err = run(["train", "sequence-classification", data, "-o", tmp_path / "m", "--config", config],
                         capsys)
    assert_one_line_error(code, err, config, "record units", "between 1 and 4096")


def test_a_model_too_large_for_memory_is_one_line(trained, tmp_path, capsys, monkeypatch):
    from lstmcore.tasks.sequence_classification import SequenceClassificationTask

    folder, data, unlabelled, model = trained

    def out_of_memory(self, state, hyperparameters):
        raise MemoryError("Unable to allocate 2.84 PiB")

    monkeypatch.setattr(SequenceClassificationTask, "build_model", out_of_memory)
    code, out, err = run(["-q", "train", "sequence-classification", data, "-o", tmp_path / "m"], capsys)
    assert_one_line_error(code, err, "larger than this machine's memory")


# --- NaN and inf, zero samples, wrong shapes (the API) -----------------------------------------------------

def _classifier(masking=None):
    lc.set_seed(0)
    front = [lc.layers.Masking(masking, input_shape=(None, 3))] if masking is not None else []
    model = lc.Sequential(front + [lc.layers.LSTM(4, **({} if front else {"input_shape": (None, 3)})),
                                   lc.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(6, 5, 3)).astype(np.float32), rng.integers(0, 2, 6)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_fit_evaluate_predict_reject_non_finite_input_naming_sample_and_step(bad):
    model = _classifier()
    x, y = _data()
    x[4, 2, 1] = bad
    weights = [w.copy() for w in model.get_weights()]
    for call in (lambda: model.fit(x, y, verbose=0), lambda: model.evaluate(x, y, verbose=0),
                 lambda: model.predict(x), lambda: model.train_on_batch(x, y), lambda: model.predict_on_batch(x),
                 lambda: model.fit(x[:2], y[:2], validation_data=(x, y), verbose=0)):
        with pytest.raises(ValueError, match=r"non-finite value .* at sample 4, step 2, feature 1"):
            call()
    for before, after in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(before, after)  # nothing was trained on it


def test_non_finite_targets_are_left_to_terminate_on_nan():
    """Targets are not inputs: NaN in y is what TerminateOnNaN is for (Keras's behaviour, kept)."""
    regressor = lc.Sequential([lc.layers.LSTM(2, input_shape=(None, 3)), lc.layers.Dense(1)])
    regressor.compile(optimizer="adam", loss="mse")
    x, _ = _data()
    y = np.zeros((6, 1), np.float32)
    y[3, 0] = np.nan
    history = regressor.fit(x, y, verbose=0, batch_size=6, callbacks=[lc.callbacks.TerminateOnNaN()])
    assert np.isnan(history.history["loss"][0])


def test_a_functional_model_rejects_nan_too():
    inputs = lc.layers.Input(shape=(None, 3))
    outputs = lc.layers.Dense(2, activation="softmax")(lc.layers.LSTM(4)(inputs))
    model = lc.models.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x, y = _data()
    x[1, 0, 0] = np.nan
    with pytest.raises(ValueError, match="at sample 1, step 0, feature 0"):
        model.fit(x, y, verbose=0)


def test_all_nan_steps_are_padding_when_masking_asks_for_it():
    x, y = _data()
    padded = x.copy()
    padded[2, 3:] = np.nan
    zeros = x.copy()
    zeros[2, 3:] = 0.0
    nan_masked, zero_masked = _classifier(float("nan")), _classifier(0.0)
    zero_masked.set_weights(nan_masked.get_weights())
    np.testing.assert_allclose(nan_masked.predict(padded), zero_masked.predict(zeros), rtol=1e-6)
    nan_masked.fit(padded, y, epochs=1, verbose=0)
    assert all(np.isfinite(w).all() for w in nan_masked.get_weights())
    partly = padded.copy()
    partly[0, 1, 2] = np.nan  # one NaN feature in a real step is still an error
    with pytest.raises(ValueError, match="at sample 0, step 1, feature 2"):
        nan_masked.predict(partly)


def test_fit_and_evaluate_on_zero_samples_are_errors():
    model = _classifier()
    x, y = _data()
    with pytest.raises(ValueError, match="fit needs at least one sample"):
        model.fit(x[:0], y[:0], verbose=0)
    with pytest.raises(ValueError, match="evaluate needs at least one sample"):
        model.evaluate(x[:0], y[:0], verbose=0)
    assert model.predict(x[:0]).shape == (0, 2)  # an empty prediction is still an empty table


def test_a_wrong_feature_count_blames_x_not_the_kernel(trained):
    folder, data, unlabelled, model = trained
    loaded = lc.load_model(model)
    for call in (lambda x: loaded.predict(x), lambda x: loaded.fit(x, np.zeros(2, int), verbose=0),
                 lambda x: loaded.evaluate(x, np.zeros(2, int), verbose=0)):
        with pytest.raises(ValueError, match=r"^x must have shape \(samples, None, 4\).*x\.shape=\(2, 5, 5\)"):
            call(np.zeros((2, 5, 5), np.float32))


def test_npz_arrays_can_be_required_finite(tmp_path):
    path = tmp_path / "a.npz"
    values = np.ones((3, 4))
    values[2, 1] = np.inf
    np.savez(path, x=values)
    arrays = read_npz(path)
    assert require_array(arrays, "x", path).shape == (3, 4)
    with pytest.raises(UserInputError, match=r"record x: holds inf at index \[2, 1\]"):
        require_array(arrays, "x", path, finite=True)


def test_tables_refuse_nan_with_the_row(tmp_path):
    table = tmp_path / "values.csv"
    table.write_text("id,value\na,1.5\nb,inf\n")
    with pytest.raises(UserInputError, match=r"record b: column 'value' holds 'inf', not a finite number \(line 3\)"):
        read_table(table).numeric("value")


# --- threads ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("front", ["masking", "embedding", "lengths"])
def test_four_threads_predict_as_one_with_per_call_lengths(front):
    """4 threads x 20 predictions equal one thread's, with a layer that finds lengths in each call."""
    lc.set_seed(1)
    rng = np.random.default_rng(2)
    if front == "embedding":
        model = lc.Sequential([lc.layers.Embedding(6, 3, mask_zero=True), lc.layers.LSTM(5), lc.layers.Dense(2)])
    else:
        layers = [lc.layers.Masking(0.0, input_shape=(None, 3))] if front == "masking" else []
        model = lc.Sequential(layers + [lc.layers.LSTM(5, input_shape=(None, 3)), lc.layers.Dense(2)])
    batches, lengths = [], []
    for _ in range(20):
        count, steps = int(rng.integers(1, 40)), int(rng.integers(3, 30))
        length = rng.integers(1, steps + 1, count)
        if front == "embedding":
            x = rng.integers(1, 6, (count, steps))
        else:
            x = rng.normal(size=(count, steps, 3)).astype(np.float32)
        for i in range(count):
            x[i, length[i]:] = 0
        batches.append(x)
        lengths.append(length if front == "lengths" else None)
    expected = [model.predict(x, batch_size=7, lengths=n) for x, n in zip(batches, lengths)]
    results, errors = {}, []

    def predict_all(thread):
        try:
            for i, (x, n) in enumerate(zip(batches, lengths)):
                results[thread, i] = model.predict(x, batch_size=7, lengths=n)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: a shared per-call state shows up
    try:
        threads = [threading.Thread(target=predict_all, args=(t,)) for t in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []
    for (thread, i), result in results.items():
        np.testing.assert_array_equal(result, expected[i])
    assert len(results) == 80


@pytest.mark.parametrize("overrides, fragment", [
    ({"batch_size": 0}, "batch_size must be at least 1"),
    ({"epochs": -2}, "epochs must be at least 1"),
    ({"gaps": "bogus"}, "must be one of 'error', 'zero', 'skip'. Received: 'bogus'"),
])
def test_schedule_and_mode_hyperparameters_are_checked_for_every_task(overrides, fragment):
    """epochs and batch_size of 0 or less (a division by zero, a schedule of no steps) and a mode a task
    does not have are one line naming --config and the hyper-parameter, for any task."""
    from lstmcore.tasks.contract import Task, resolve_hyperparameters

    class Scheduled(Task):
        name = "scheduled"
        hyperparameters = {"epochs": 5, "batch_size": 32, "gaps": "error"}
        hyperparameter_choices = {"gaps": ("error", "zero", "skip")}

    with pytest.raises(UserInputError, match=rf"^--config: record {next(iter(overrides))}: .*{re.escape(fragment)}"):
        resolve_hyperparameters(Scheduled(), overrides, "--config")
    assert resolve_hyperparameters(Scheduled(), {"epochs": 1, "gaps": "skip"}, "--config")["gaps"] == "skip"


def test_fasta_with_a_byte_order_mark_reads_and_old_mac_line_ends_are_named(tmp_path):
    """A UTF-8 BOM (Windows editors) is not data; lines ended by carriage returns alone are one line naming
    the conversion, not a record without sequence."""
    bom = tmp_path / "bom.fa"
    bom.write_bytes(b"\xef\xbb\xbf>a\nACGT\n")
    assert [(r.id, r.sequence) for r in read_fasta(bom)] == [("a", "ACGT")]
    mac = tmp_path / "mac.fa"
    mac.write_bytes(b">a\rACGT\r>b\rAAAA\r")
    with pytest.raises(UserInputError, match=r"mac\.fa: line 1 holds a carriage return inside it.*tr '\\r' '\\n'"):
        read_fasta(mac)


def test_config_json_that_is_not_an_object_names_config(trained, tmp_path, capsys):
    folder, data, unlabelled, model = trained
    code, out, err = run(["train", "sequence-classification", data, "-o", tmp_path / "m", "--config", "[1, 2]"],
                         capsys)
    assert_one_line_error(code, err, "--config", "must hold a JSON object of hyper-parameters, not list")

"""Issue #22: the architecture chosen by length, early stopping, and a model that does not learn says so."""
import json

import numpy as np
import pytest

import lstmcore
from lstmcore import toolkit as tk
from lstmcore.saving.task_models import describe_model_file

from lstmcore_motif.architecture import choose_architecture
from lstmcore_motif.learning_check import StopIfNotLearning, chance_accuracy
from lstmcore_motif.model import train_classifier

from motif_testdata import run

DNA_STATE = {"encoder": {"name": "dna", "gaps": "error"}, "classes": ["background", "motif"]}
SMALL = {"units": 4, "conv_filters": 6, "conv_kernel_size": 5, "conv_pool_size": 4, "dropout": 0.0}


def planted_fasta(path, count, length, seed=0, shuffle_labels=False):
    """`count` sequences of `length` nt, CACGTG planted in every second one (labels shuffled if asked)."""
    rng = np.random.default_rng(seed)
    records = tk.planted_sequences(rng, count, ["CACGTG"], lengths=(length, length + 1))
    if shuffle_labels:
        labels = rng.permutation([label for _, _, label in records])
        records = [(name, sequence, label) for (name, sequence, _), label in zip(records, labels)]
    tk.write_fasta(path, records)
    return path


# --- the choice -----------------------------------------------------------------------------

@pytest.mark.parametrize("lengths, expected", [([57] * 5, "bilstm"), ([149, 149, 2000], "bilstm"),
                                               ([150, 150, 20], "conv_bilstm"), ([1000] * 3, "conv_bilstm")])
def test_auto_chooses_by_the_median_length(motif_task, lengths, expected):
    architecture, reason = choose_architecture(motif_task.hyperparameters, lengths)
    assert architecture == expected
    assert reason.startswith(f"median length {float(np.median(lengths)):g} nt")


def test_a_named_architecture_wins_and_a_wrong_name_is_the_users_error(motif_task):
    assert choose_architecture(dict(motif_task.hyperparameters, architecture="bilstm"), [1000])[0] == "bilstm"
    with pytest.raises(tk.UserInputError, match="architecture must be 'auto', 'bilstm', 'conv_bilstm'. "
                                                "Received: 'cnn'"):
        choose_architecture(dict(motif_task.hyperparameters, architecture="cnn"), [1000])


def test_the_task_defaults_are_not_changed_by_training(motif_task, tmp_path):
    before = dict(motif_task.hyperparameters)
    records = motif_task.read([planted_fasta(tmp_path / "a.fa", 8, 200)], {"labels": "header"}, labelled=True)
    motif_task.fit_encoder(records, motif_task.hyperparameters)
    assert motif_task.hyperparameters == before and before["architecture"] == "auto"


# --- the convolutional model and lengths -------------------------------------------------------

def conv_model(motif_task):
    lstmcore.set_seed(3)
    return motif_task.build_model(dict(DNA_STATE, architecture="conv_bilstm"), dict(SMALL))


def test_conv_model_is_conv_pool_bilstm_with_the_architectures_learning_rate(motif_task):
    model = conv_model(motif_task)
    assert [type(layer).__name__ for layer in model.layers] == [
        "Conv1D", "MaxPooling1D", "Bidirectional", "MaskedGlobalPooling", "Dense"]
    assert float(model.optimizer.learning_rate) == pytest.approx(0.003)
    assert model.layers[0].padding == "same" and model.layers[1].padding == "valid"


def test_padding_does_not_leak_and_a_sequence_alone_gives_what_it_gives_in_a_batch(motif_task):
    """Garbage in the padded steps, and any padded length, leave every sequence's output unchanged."""
    model = conv_model(motif_task)
    rng = np.random.default_rng(0)
    lengths = np.array([61, 37, 50, 3])
    x = rng.random((4, 70, 4)).astype(np.float32)          # not one-hot: past each length it is noise
    batch = model.predict(x, lengths=lengths, verbose=0)
    zeroed = x * (np.arange(70)[None, :, None] < lengths[:, None, None])
    np.testing.assert_allclose(model.predict(zeroed[:, :63], lengths=lengths, verbose=0), batch, atol=1e-6)
    for i, length in enumerate(lengths):
        alone = model.predict(x[i:i + 1, :max(length, 4)], lengths=[length], verbose=0)
        np.testing.assert_allclose(alone[0], batch[i], atol=1e-6)
    bias_only = model.layers[-1].activation.forward(model.layers[-1].get_weights()[1][None, :])
    np.testing.assert_allclose(batch[3], bias_only[0], atol=1e-6)   # 3 nt < pool 4: no step reaches the BiLSTM


def test_sequences_shorter_than_the_pool_are_encoded_to_its_width(motif_task, tmp_path):
    """The pooling needs pool_size steps in a batch: encode pads to them (lengths unchanged)."""
    fasta = tmp_path / "short.fa"
    tk.write_fasta(fasta, [("a", "ACG", "x"), ("b", "ACGTA", "y")])
    records = motif_task.read([fasta], {"labels": "header"}, labelled=True)
    state = dict(motif_task.fit_encoder(records, dict(motif_task.hyperparameters, architecture="conv_bilstm")))
    encoded = motif_task.encode(records, state, labelled=True)
    assert encoded.x.shape == (2, 8, 4) and list(encoded.lengths) == [3, 5] and not encoded.x[:, 5:].any()
    model = motif_task.build_model(state, dict(motif_task.hyperparameters, architecture="conv_bilstm"))
    assert motif_task.predict(model, encoded, state).shape == (2, 2)


def test_lengths_follow_the_front_end(motif_task):
    model = conv_model(motif_task)
    lengths = np.array([61, 37, 3])
    conv, pool = model.layers[0], model.layers[1]
    assert list(conv.output_lengths(lengths)) == [61, 37, 3]
    assert list(pool.output_lengths(conv.output_lengths(lengths))) == [15, 9, 0]


# --- early stopping and the not-learning check -------------------------------------------------

def test_early_stopping_restores_the_weights_of_the_lowest_validation_loss(motif_task):
    """Once the model has left chance, `patience` epochs without a fall of 0.001 stop it, and the
    best epoch's weights (not the last one's) are put back.  Here the validation loss rises over the
    first 13 epochs at chance (plain patience 2 would stop at epoch 3) before the motif is learnt."""
    lstmcore.set_seed(0)
    records = tk.planted_sequences(np.random.default_rng(1), 240, ["CACGTG"], lengths=(30, 31))
    x = np.stack([np.eye(4, dtype=np.float32)[["ACGT".index(c) for c in s]] for _, s, _ in records])
    y = np.array([label == "motif" for _, _, label in records], dtype=np.int64)
    hyper = dict(motif_task.hyperparameters, units=8, learning_rate=0.01, patience=2, chance_epochs=30)
    model = motif_task.build_model(DNA_STATE, hyper)
    history = train_classifier(model, tk.Encoded(x[:200], y[:200]), hyper, epochs=60, batch_size=16,
                               validation=tk.Encoded(x[200:], y[200:]), reverse_complement=False)
    losses, accuracies = history.history["val_loss"], history.history["val_accuracy"]
    best, best_epoch = np.inf, None
    for epoch, loss in enumerate(losses):          # a fall of more than 0.001 counts as better
        if loss < best - 1e-3:
            best, best_epoch = loss, epoch
    assert max(accuracies) >= 0.9 and history.not_learning is None
    assert len(losses) == best_epoch + 2 + 1 < 60   # stopped `patience` epochs after the best one
    restored = model.evaluate(x[200:], y[200:], verbose=0)
    restored = restored[0] if isinstance(restored, (list, tuple)) else restored
    assert restored == pytest.approx(losses[best_epoch], abs=1e-5) and abs(restored - losses[-1]) > 1e-5
    assert best_epoch > 10 and losses[3] > losses[0]


def test_stop_if_not_learning_counts_only_epochs_at_chance_from_the_start():
    lines = []
    check = StopIfNotLearning(3, 0.5, 400, lambda epoch, acc, loss: lines.append((epoch, acc)) or "stop",
                              validation=True, quiet=True)

    class Model:
        stop_training = False

    check.set_model(Model())
    check.on_train_begin()
    for epoch, accuracy in enumerate([0.51, 0.54, 0.53]):    # margin: 2 * sqrt(.25 / 400) = 0.05
        check.on_epoch_end(epoch, {"val_accuracy": accuracy, "val_loss": 0.69})
    assert check.stopped and check.model.stop_training and lines == [(3, 0.53)] and check.message == "stop"
    check.model.stop_training = False
    check.on_train_begin()
    for epoch, accuracy in enumerate([0.5, 0.56, 0.5, 0.5, 0.5]):   # left chance once: never stopped
        check.on_epoch_end(epoch, {"val_accuracy": accuracy})
    assert not check.stopped and not check.model.stop_training
    assert chance_accuracy(np.array([0, 1, 1, 1])) == 0.75


# --- through `lstmcore train` --------------------------------------------------------------------

def test_train_prints_the_architecture_once_and_keeps_it_in_the_model(tmp_path, capsys):
    data = planted_fasta(tmp_path / "long.fa", 40, 200)
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"units": 4, "conv_filters": 4, "epochs": 1}))
    model = tmp_path / "m.lstm"
    status, _, err = run(["train", "motif", str(data), "-o", str(model), "--config", str(config),
                          "--threads", "1"], capsys)
    lines = [line for line in err.splitlines() if line.startswith("motif model:")]
    assert status == 0 and lines == [
        "motif model: conv_bilstm (Conv1D 4 filters x 12 nt -> MaxPooling1D 8 -> BiLSTM 4 units -> max "
        "pooling), learning rate 0.003; median length 200 nt >= long_length 150"]
    described = describe_model_file(model)
    assert described["hyperparameters"]["architecture"] == "conv_bilstm"
    assert described["hyperparameters"]["learning_rate"] == 0.003
    assert described["state"]["architecture"] == "conv_bilstm" and described["state"]["median_length"] == 200
    status, _, err = run(["-q", "train", "motif", str(data), "-o", str(tmp_path / "q.lstm"), "--config",
                          str(config), "--threads", "1"], capsys)
    assert status == 0 and "motif model" not in err


def test_a_model_at_chance_is_stopped_with_one_line_of_advice(tmp_path, capsys):
    """Labels shuffled: nothing to learn; stopped after chance_epochs instead of running all 40, and
    said even with -q (a model that learnt nothing is never silent)."""
    data = planted_fasta(tmp_path / "noise.fa", 48, 120, shuffle_labels=True)
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"units": 4, "chance_epochs": 2, "epochs": 40}))
    status, _, err = run(["-q", "train", "motif", str(data), "-o", str(tmp_path / "m.lstm"), "--config",
                          str(config), "--validation-split", "0.25", "--threads", "1"], capsys)
    advice = [line for line in err.splitlines() if line.startswith("motif model not learning:")]
    assert status == 0 and len(advice) == 1 and "motif model:" not in err
    assert "still at chance after 2 epochs, training stopped; tried bilstm, learning_rate 0.01, batch size 8, " \
           "units 4; set \"architecture\": \"conv_bilstm\" in --config" in advice[0]
    assert json.loads(json.dumps(describe_model_file(tmp_path / "m.lstm")["training"]))["epochs"] == 40

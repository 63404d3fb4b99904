"""Each callback does what its name says."""
import csv
import math

import numpy as np
import pytest

import lstmcore as lc
from lstmcore import callbacks as cb
from lstmcore import layers as L


def _model(seed=0, lr=0.01):
    lc.set_seed(seed)
    model = lc.Sequential([L.LSTM(4, input_shape=(5, 2)), L.Dense(1)])
    model.compile(optimizer=lc.optimizers.Adam(lr), loss="mse", metrics=["mae"])
    return model


def _data(seed=0, n=32):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 5, 2))
    return x, x.sum(axis=(1, 2)) * 0.1


class _ScriptedLoss(cb.Callback):
    """Overwrites val_loss with a scripted sequence so monitoring is deterministic."""

    def __init__(self, values):
        super().__init__()
        self.values = values
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = self.values[epoch]
        self.weights.append(self.model.get_weights())


def test_early_stopping_stops_after_patience_and_restores_best_weights():
    model = _model()
    x, y = _data()
    script = _ScriptedLoss([5.0, 3.0, 1.0, 2.0, 4.0, 6.0, 7.0, 8.0])
    stopper = cb.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    history = model.fit(x, y, epochs=8, callbacks=[script, stopper], verbose=0)
    assert history.epoch == [0, 1, 2, 3, 4]  # best at epoch 2, two epochs without improvement
    assert stopper.stopped_epoch == 4 and stopper.best_epoch == 2
    for got, best in zip(model.get_weights(), script.weights[2]):
        np.testing.assert_array_equal(got, best)


def test_early_stopping_min_delta_and_max_mode():
    model = _model()
    x, y = _data()
    script = _ScriptedLoss([0.5, 0.55, 0.56, 0.9])
    stopper = cb.EarlyStopping(monitor="val_loss", mode="max", min_delta=0.1, patience=1)
    history = model.fit(x, y, epochs=4, callbacks=[script, stopper], verbose=0)
    assert history.epoch == [0, 1]


def test_model_checkpoint_writes_only_the_best(tmp_path):
    model = _model()
    x, y = _data()
    script = _ScriptedLoss([3.0, 1.0, 2.0, 4.0])
    path = tmp_path / "best.lstm"
    checkpoint = cb.ModelCheckpoint(path, monitor="val_loss", save_best_only=True)
    model.fit(x, y, epochs=4, callbacks=[script, checkpoint], verbose=0)
    saved = lc.load_model(path)
    for got, best in zip(saved.get_weights(), script.weights[1]):
        np.testing.assert_array_equal(got, best)


def test_model_checkpoint_formats_the_file_name_per_epoch(tmp_path):
    model = _model()
    x, y = _data()
    pattern = str(tmp_path / "m-{epoch:02d}-{loss:.2f}.weights")
    model.fit(x, y, epochs=2, callbacks=[cb.ModelCheckpoint(pattern, save_weights_only=True)], verbose=0)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 2 and names[0].startswith("m-01-") and names[1].startswith("m-02-")


def test_reduce_lr_on_plateau_cuts_the_learning_rate():
    model = _model(lr=0.01)
    x, y = _data()
    script = _ScriptedLoss([1.0] * 8)
    reducer = cb.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, min_lr=0.002)
    history = model.fit(x, y, epochs=8, callbacks=[script, reducer], verbose=0)
    # The rate used in each epoch; it is cut after two epochs without improvement, down to min_lr.
    assert history.history["learning_rate"] == pytest.approx(
        [0.01, 0.01, 0.01, 0.005, 0.005, 0.0025, 0.0025, 0.002])
    assert model.optimizer.learning_rate == pytest.approx(0.002)


def test_csv_logger_writes_one_row_per_epoch(tmp_path):
    model = _model()
    x, y = _data()
    path = tmp_path / "log.csv"
    history = model.fit(x, y, epochs=3, validation_split=0.25, callbacks=[cb.CSVLogger(path)], verbose=0)
    rows = list(csv.DictReader(path.open()))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    assert set(rows[0]) == {"epoch", "loss", "mae", "val_loss", "val_mae"}
    assert float(rows[2]["val_loss"]) == pytest.approx(history.history["val_loss"][2])
    model.fit(x, y, epochs=1, callbacks=[cb.CSVLogger(path, append=True)], validation_split=0.25, verbose=0)
    assert len(list(csv.DictReader(path.open()))) == 4


def test_terminate_on_nan_stops_at_the_first_bad_batch():
    model = _model()
    x, y = _data(n=64)
    y[20] = np.nan
    seen = []
    history = model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0,
                        callbacks=[cb.TerminateOnNaN(), cb.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(b))])
    assert seen == [0, 1, 2] and history.epoch == [0]
    assert math.isnan(history.history["loss"][0])


def test_lambda_callback_calls_the_functions_it_was_given():
    model = _model()
    x, y = _data()
    events = []
    callback = cb.LambdaCallback(on_train_begin=lambda logs: events.append("begin"),
                                 on_epoch_end=lambda epoch, logs: events.append(("epoch", epoch, "loss" in logs)),
                                 on_train_end=lambda logs: events.append("end"))
    model.fit(x, y, epochs=2, callbacks=[callback], verbose=0)
    assert events == ["begin", ("epoch", 0, True), ("epoch", 1, True), "end"]
    with pytest.raises(ValueError, match="on_epoch_ending"):
        cb.LambdaCallback(on_epoch_ending=print)


def test_history_records_every_epoch_and_initial_epoch_resumes():
    model = _model()
    x, y = _data()
    history = model.fit(x, y, epochs=5, initial_epoch=3, validation_split=0.25, verbose=0)
    assert history.epoch == [3, 4]
    assert set(history.history) == {"loss", "mae", "val_loss", "val_mae"}
    assert model.history is history


def test_callbacks_see_batch_logs_with_the_running_loss():
    model = _model()
    x, y = _data()
    losses = []
    model.fit(x, y, epochs=1, batch_size=8, verbose=0,
              callbacks=[cb.LambdaCallback(on_train_batch_end=lambda b, logs: losses.append(logs["loss"]))])
    assert len(losses) == 4 and all(np.isfinite(losses))


def test_the_progress_bar_does_not_make_fit_compute_metrics_every_batch(monkeypatch):
    """verbose=1 shows the running loss; the metrics' results are read per batch only for a callback
    that asks for them (and at each epoch's end)."""
    import numpy as np

    import lstmcore as lc

    class Batches(lc.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            self.last = logs

    model = lc.Sequential([lc.layers.LSTM(2, input_shape=(3, 1)), lc.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = np.zeros((40, 3, 1), "float32"), np.arange(40) % 2
    calls = []
    real = type(model)._metric_logs
    monkeypatch.setattr(type(model), "_metric_logs", lambda self, prefix="": calls.append(1) or real(self, prefix))
    model.fit(x, y, epochs=1, batch_size=4, verbose=1)
    assert len(calls) == 1                      # the epoch's logs only
    seen = Batches()
    calls.clear()
    model.fit(x, y, epochs=1, batch_size=4, verbose=1, callbacks=[seen])
    assert len(calls) == 10 + 1 and "accuracy" in seen.last


@pytest.mark.parametrize("name", ["best.keras", "model-{epoch:02d}.h5"])
def test_a_checkpoint_named_as_a_keras_model_is_refused_before_training(name, tmp_path):
    """Keras 3 checkpoints whole models to .keras; lstmcore writes .lstm.  Refused when the callback
    is made, not after the first epoch's work; the weights alone under a Keras name are fine."""
    with pytest.raises(ValueError, match=r"not Keras's \.keras / \.h5 format.*name it '\.lstm'"):
        cb.ModelCheckpoint(tmp_path / name, save_best_only=True)
    cb.ModelCheckpoint(tmp_path / "best.weights.h5", save_weights_only=True)

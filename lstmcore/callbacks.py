"""Callbacks with Keras's names and behaviour.

A callback sees the training loop through hooks (`on_train_begin`,
`on_epoch_end(epoch, logs)`, `on_train_batch_end(batch, logs)`, ...); `logs`
holds the running loss and metrics, and after each epoch the validation ones
prefixed with `val_`.  Setting `model.stop_training = True` ends `fit` after
the current batch.
"""
from __future__ import annotations

import csv
import math
import os
import sys

import numpy as np

from .saving.model_file import require_model_file_name

__all__ = ["Callback", "CallbackList", "History", "EarlyStopping", "ModelCheckpoint",
           "ReduceLROnPlateau", "CSVLogger", "TerminateOnNaN", "LambdaCallback"]

_HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
          "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
          "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
          "on_predict_batch_begin", "on_predict_batch_end")


class Callback:
    """Base class: override the hooks you need; `self.model` is set by fit."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None): pass
    def on_train_batch_end(self, batch, logs=None): pass
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass


def _overrides(callback, hook):
    """Whether `callback` does something on `hook` (its class or, for LambdaCallback, itself)."""
    return hook in vars(callback) or getattr(type(callback), hook, None) is not getattr(Callback, hook)


class CallbackList:
    """Calls each hook on every callback, skipping callbacks that do not override it."""

    def __init__(self, callbacks, model, params):
        self.callbacks = list(callbacks)
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise ValueError(f"callbacks must hold lstmcore.callbacks.Callback instances. "
                                 f"Received: {callback!r}")
            callback.set_model(model)
            callback.set_params(params)
        self._by_hook = {hook: [c for c in self.callbacks if _overrides(c, hook)] for hook in _HOOKS}

    def wants(self, hook):
        """Whether any callback overrides `hook` (fit skips building batch logs otherwise)."""
        return bool(self._by_hook[hook])

    def wants_batch_metrics(self):
        """Whether a callback reads the metrics of each training batch (a progress bar reads only the
        loss, and the metrics' results cost a pass over their state every batch)."""
        return any(getattr(c, "reads_batch_metrics", True) for c in self._by_hook["on_train_batch_end"])

    def call(self, hook, *args):
        for callback in self._by_hook[hook]:
            getattr(callback, hook)(*args)


class History(Callback):
    """Records the epoch logs: `history.history` is {'loss': [...], 'val_loss': [...], ...}."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)


class _Monitor(Callback):
    """Shared by the callbacks that watch a quantity: mode, best value, improvement test."""

    def __init__(self, monitor, mode, min_delta):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max'. Received: mode={mode!r}")
        self.monitor = monitor
        if mode == "auto":
            mode = "max" if any(k in monitor for k in ("acc", "auc", "precision", "recall", "f1")) else "min"
        self.mode = mode
        self.min_delta = abs(float(min_delta))

    def _initial_best(self):
        return math.inf if self.mode == "min" else -math.inf

    def _improved(self, value, best):
        if self.mode == "min":
            return value < best - self.min_delta
        return value > best + self.min_delta

    def _current(self, logs):
        value = (logs or {}).get(self.monitor)
        if value is None:
            available = ", ".join(sorted(logs or {})) or "none"
            print(f"Warning: {type(self).__name__} monitors {self.monitor!r}, which is not in the logs "
                  f"(available: {available})", file=sys.stderr)
        return value


class EarlyStopping(_Monitor):
    """Stop training when `monitor` has not improved for `patience` epochs.

    Args:
        monitor: default 'val_loss'.  min_delta: smallest change that counts, default 0.
        patience: epochs without improvement before stopping, default 0.
        mode: 'auto' (default), 'min' or 'max'.  baseline: value to beat, or None.
        restore_best_weights: default False; True puts back the weights of the best epoch.
        start_from_epoch: epochs to wait before monitoring, default 0.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__(monitor, mode, min_delta)
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"patience must be a non-negative integer. Received: patience={patience!r}")
        self.patience, self.verbose, self.baseline = patience, verbose, baseline
        self.restore_best_weights, self.start_from_epoch = bool(restore_best_weights), start_from_epoch

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = self._initial_best()
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        current = self._current(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
        self.wait += 1
        if self._improved(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._improved(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping", file=sys.stderr)
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.",
                      file=sys.stderr)
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(_Monitor):
    """Save the model (or its weights) after each epoch, or only when `monitor` improves.

    Args:
        filepath: may contain format fields, e.g. 'model-{epoch:02d}-{val_loss:.3f}.lstm'
            (epoch counts from 1, the log values by name).  A whole model is an '.lstm' file: a
            Keras name (.keras, .h5) is refused here, before training; with save_weights_only
            a '.weights.h5' name writes Keras's weights format.
        monitor: default 'val_loss'.  save_best_only: default False.
        save_weights_only: default False (whole model with config).
        mode: 'auto' (default), 'min', 'max'.  save_freq: 'epoch' (only value supported).
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__(monitor, mode, 0)
        if save_freq != "epoch":
            raise ValueError(f"save_freq must be 'epoch'. Received: save_freq={save_freq!r}")
        self.filepath = os.fspath(filepath)
        if not save_weights_only:
            require_model_file_name(self.filepath)
        self.verbose, self.save_best_only, self.save_weights_only = verbose, save_best_only, save_weights_only
        self.best = initial_value_threshold if initial_value_threshold is not None else self._initial_best()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            current = self._current(logs)
            if current is None or not self._improved(current, self.best):
                return
            if self.verbose:
                print(f"Epoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to {current:.5f}, "
                      f"saving model to {path}", file=sys.stderr)
            self.best = current
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)


class ReduceLROnPlateau(_Monitor):
    """Multiply the learning rate by `factor` when `monitor` stalls for `patience` epochs.

    Args:
        monitor: default 'val_loss'.  factor: in (0, 1), default 0.1.  patience: default 10.
        mode: 'auto', 'min', 'max'.  min_delta: default 1e-4.  cooldown: epochs to wait
        after a reduction, default 0.  min_lr: floor, default 0.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0):
        super().__init__(monitor, mode, min_delta)
        if not 0 < factor < 1:
            raise ValueError(f"factor must be a number in (0, 1). Received: factor={factor!r}")
        self.factor, self.patience, self.verbose = float(factor), patience, verbose
        self.cooldown, self.min_lr = cooldown, float(min_lr)

    def on_train_begin(self, logs=None):
        self.best = self._initial_best()
        self.wait = 0
        self.cooldown_counter = 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        current = self._current(logs)
        optimizer = self.model.optimizer
        logs["learning_rate"] = float(optimizer.learning_rate)
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improved(current, self.best):
            self.best, self.wait = current, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = float(optimizer.learning_rate)
                if old > self.min_lr:
                    new = max(old * self.factor, self.min_lr)
                    optimizer.learning_rate = new
                    if self.verbose:
                        print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new}.",
                              file=sys.stderr)
                    self.cooldown_counter, self.wait = self.cooldown, 0


class CSVLogger(Callback):
    """Write the epoch logs to a CSV file, one row per epoch (append=True keeps old rows)."""

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename, self.separator, self.append = os.fspath(filename), separator, append
        self._file = None
        self._writer = None
        self._keys = None

    def on_train_begin(self, logs=None):
        exists = self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        self._file = open(self.filename, "a" if self.append else "w", newline="")
        self._keys = None
        self._header_written = exists

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._keys is None:
            self._keys = sorted(logs)
            self._writer = csv.DictWriter(self._file, fieldnames=["epoch"] + self._keys,
                                          delimiter=self.separator)
            if not self._header_written:
                self._writer.writeheader()
        row = {"epoch": epoch}
        row.update({key: logs.get(key, "NA") for key in self._keys})
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch loss is NaN or infinite."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(loss):
            print(f"Batch {batch}: invalid loss, terminating training", file=sys.stderr)
            self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback from plain functions, e.g. LambdaCallback(on_epoch_end=lambda epoch, logs: ...)."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None, on_train_end=None,
                 on_train_batch_begin=None, on_train_batch_end=None, **kwargs):
        super().__init__()
        functions = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                         on_train_begin=on_train_begin, on_train_end=on_train_end,
                         on_train_batch_begin=on_train_batch_begin, on_train_batch_end=on_train_batch_end)
        functions.update(kwargs)
        for hook, function in functions.items():
            if hook not in _HOOKS:
                raise ValueError(f"LambdaCallback got an unknown hook. Received: {hook}={function!r}")
            if function is not None:
                setattr(self, hook, function)


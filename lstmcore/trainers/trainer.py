"""Training: compile, the epoch loop, one training step with a seam for the gradients, evaluate, predict.

`Trainer` is what a model inherits to be trained, as in Keras 3 (keras/src/trainers):
the model class holds its layers and weights and runs its forward and backward
passes (`_forward`, `_backward`, `_prepare_x`, the flat buffers
`_flat_params` / `_flat_grads` / `_segments`); the trainer holds the loss, the
metrics and the optimizer, and drives them.  `train_step` (`_train_step`) runs
forward, loss, backward, then `transform_gradients` (the seam where an
all-reduce or gradient accumulation goes: `model.gradient_transforms`), then
the optimizer.  Progress is a callback (`lstmcore.trainers.progress.ProgressBar`).
"""
from __future__ import annotations

import math
import sys

import numpy as np
from tqdm.auto import tqdm

from .. import backend
from .. import losses as losses_module
from .. import metrics as metrics_module
from .. import optimizers as optimizers_module
from .._threads import with_blas_pinned
from ..callbacks import CallbackList, History
from .progress import ProgressBar

__all__ = ["Trainer"]

_IGNORED_COMPILE_OPTIONS = ("run_eagerly", "steps_per_execution", "jit_compile", "auto_scale_loss")


def _check_batch_size(name, value, default=32):
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer or None. Received: {name}={value!r}")
    return int(value)


def _check_verbose(verbose):
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2) or isinstance(verbose, bool):
        raise ValueError(f"verbose must be 'auto', 0, 1 or 2. Received: verbose={verbose!r}")
    return verbose


def _check_fit_options(epochs, batch_size, verbose, initial_epoch, validation_split, shuffle):
    """fit's scalar options checked, with Keras's messages; returns (epochs, batch_size, verbose)."""
    epochs = _check_batch_size("epochs", epochs, 1)
    batch_size = _check_batch_size("batch_size", batch_size)
    verbose = _check_verbose(verbose)
    if isinstance(initial_epoch, bool) or not isinstance(initial_epoch, (int, np.integer)) or initial_epoch < 0:
        raise ValueError(f"initial_epoch must be a non-negative integer. Received: initial_epoch={initial_epoch!r}")
    if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float)) \
            or not 0 <= validation_split < 1:
        raise ValueError(f"validation_split must be a number in [0, 1). "
                         f"Received: validation_split={validation_split!r}")
    if shuffle not in (True, False):
        raise ValueError(f"shuffle must be True or False. Received: shuffle={shuffle!r}")
    return epochs, batch_size, verbose


def _split_off_validation(validation_split, x, y, weights, lengths):
    """Keras's validation_split: the last examples (before any shuffling) held out; returns
    ((x, y, weights, lengths) to train on, the same four to validate on)."""
    split_at = int(math.ceil(x.shape[0] * (1.0 - validation_split)))
    if split_at == 0 or split_at == x.shape[0]:
        raise ValueError(f"validation_split leaves no data on one side ({x.shape[0]} samples). "
                         f"Received: validation_split={validation_split!r}")
    arrays = (x, y, weights, lengths)
    return (tuple(None if a is None else a[:split_at] for a in arrays),
            tuple(None if a is None else a[split_at:] for a in arrays))


def _check_lengths(lengths, samples, steps, argument="lengths"):
    """Validate a per-sequence lengths vector; None stays None."""
    if lengths is None:
        return None
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or lengths.shape[0] != samples:
        raise ValueError(f"{argument} must have shape ({samples},), one length per sequence. "
                         f"Received: {argument}.shape={lengths.shape}")
    if lengths.dtype.kind not in "iu":
        raise ValueError(f"{argument} must hold integers. Received: {argument}.dtype={lengths.dtype}")
    if steps is None:
        raise ValueError(f"{argument} needs sequence input (batch, steps, ...). Received: 2-D input")
    bad = np.nonzero((lengths < 0) | (lengths > steps))[0]
    if bad.size:
        k = int(bad[0])
        raise ValueError(f"{argument} must lie in [0, {steps}] (the number of steps). "
                         f"Received: {argument}[{k}]={int(lengths[k])}")
    return lengths.astype(np.int64)


class Trainer:
    """compile / fit / evaluate / predict / train_on_batch for a model class that provides the passes."""

    # ----- compile ------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, weighted_metrics=None,
                loss_weights=None, **options):
        """Choose the optimizer, loss and metrics (by name, class or object).

        Names resolve through the shared registries, so losses and metrics that
        plugins register can be named here too.  `metrics` are weighted by the
        step mask only; `weighted_metrics` also by sample and class weights.
        Keras's run_eagerly / steps_per_execution / jit_compile are accepted and ignored.
        """
        unknown = [key for key in options if key not in _IGNORED_COMPILE_OPTIONS]
        if unknown:
            raise TypeError(f"compile() got an unexpected keyword argument {unknown[0]!r}. "
                            f"Received: {unknown[0]}={options[unknown[0]]!r}")
        if loss_weights is not None:
            raise ValueError("loss_weights applies to models with several outputs; a Sequential has one. "
                             f"Received: loss_weights={loss_weights!r}")
        if loss is None:
            raise ValueError("loss must be given, e.g. compile(optimizer='adam', loss='mse'). Received: loss=None")
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = losses_module.get(loss)
        self._metric_specs = self._as_list("metrics", metrics)
        self._weighted_metric_specs = self._as_list("weighted_metrics", weighted_metrics)
        self.metrics = [metrics_module.get(m, loss=self.loss) for m in self._metric_specs]
        self.weighted_metrics = [metrics_module.get(m, loss=self.loss, argument="weighted_metrics")
                                 for m in self._weighted_metric_specs]
        self.compiled = True
        if self.built:
            self._bind_weights()

    @staticmethod
    def _as_list(argument, value):
        if value is None:
            return []
        if isinstance(value, (str, metrics_module.Metric)):
            return [value]
        if isinstance(value, dict):
            raise ValueError(f"{argument} must be a list for a Sequential model. Received: {argument}={value!r}")
        return list(value)

    def _require_compiled(self, what):
        if not self.compiled:
            raise RuntimeError(f"The model must be compiled before {what}: call "
                               "model.compile(optimizer=..., loss=...)")

    def _prepare_y(self, y, x, argument="y"):
        if y is None:
            raise ValueError(f"{argument} must be given to train or evaluate. Received: {argument}=None")
        y = np.asarray(y)
        if y.shape[:1] != x.shape[:1]:
            raise ValueError(f"{argument} must have one row per sample of x ({x.shape[0]}). "
                             f"Received: {argument}.shape={y.shape}")
        out_shape = self._output_shape_for(x)
        if isinstance(out_shape, list):
            raise ValueError("The last layer returns several arrays; fit/evaluate need a single output")
        prepared = self.loss.prepare_target(y, (x.shape[0],) + tuple(out_shape[1:]), self.dtype)
        if not isinstance(self.loss, losses_module.SparseCategoricalCrossentropy):
            expected = tuple(x.shape[0] if s is None else s for s in ((x.shape[0],) + tuple(out_shape[1:])))
            if prepared.shape != expected:
                raise ValueError(f"{argument} must match the model's output shape {expected}. "
                                 f"Received: {argument}.shape={y.shape}")
        return prepared

    def _prepare_weights(self, sample_weight, class_weight, y, samples, argument="sample_weight"):
        """Per-sample (or per-step) weights from sample_weight and class_weight, or None."""
        weight = None
        if sample_weight is not None:
            weight = np.asarray(sample_weight, dtype=self.dtype)
            if weight.shape[:1] != (samples,):
                raise ValueError(f"{argument} must have one entry per sample ({samples}). "
                                 f"Received: {argument}.shape={weight.shape}")
        if class_weight is not None:
            if not isinstance(class_weight, dict):
                raise ValueError(f"class_weight must be a dict {{class index: weight}}. "
                                 f"Received: class_weight={class_weight!r}")
            classes = self._class_indices(y)
            table = np.ones(max(int(classes.max(initial=0)), max(class_weight)) + 1, self.dtype)
            for key, value in class_weight.items():
                table[int(key)] = value
            from_classes = table[classes]
            weight = from_classes if weight is None else weight * from_classes
        return weight

    def _class_indices(self, y):
        if isinstance(self.loss, losses_module.SparseCategoricalCrossentropy):
            return y.astype(np.int64)
        if y.shape[-1] == 1:
            return np.rint(y[..., 0]).astype(np.int64)
        return np.argmax(y, axis=-1)

    # ----- loss -------------------------------------------------------------------------------
    def _loss_weights(self, sample_weight, out_lengths, out):
        """(weights or None, count): the per-value weights and Keras's divisor."""
        values_shape = out.shape[:-1]
        count = math.prod(values_shape)
        weights = None
        if out_lengths is not None and out.ndim == 3:
            steps = out.shape[1]
            weights = (np.arange(steps) < out_lengths[:, None]).astype(self.dtype)
            count = int(np.minimum(out_lengths, steps).sum())
        if sample_weight is not None:
            sw = sample_weight.reshape(sample_weight.shape + (1,) * (len(values_shape) - sample_weight.ndim))
            weights = np.broadcast_to(sw, values_shape) if weights is None else weights * sw
        return weights, max(count, 1)

    def _loss_and_gradient(self, y, out, weights, count):
        values = self.loss.values(y, out)
        grad = self.loss.gradient(y, out)
        if weights is None:
            loss = float(values.sum()) / count
            grad *= 1.0 / count
        else:
            loss = float((values * weights).sum()) / count
            grad *= (weights * (1.0 / count))[..., None].astype(grad.dtype, copy=False)
        return loss, np.asarray(grad, dtype=out.dtype)

    def _regularization_loss(self, add_gradients):
        return sum(layer.regularization_loss(add_gradients) for layer in self._regularized)

    def _update_metrics(self, y, out, weights, out_lengths, sample_weight):
        mask = None
        if out_lengths is not None and out.ndim == 3:
            mask = (np.arange(out.shape[1]) < out_lengths[:, None])
        for metric in self.metrics:
            metric.update_state(y, out, mask)
        for metric in self.weighted_metrics:
            metric.update_state(y, out, weights)

    def _reset_metrics(self):
        for metric in self.metrics + self.weighted_metrics:
            metric.reset_state()

    def _metric_logs(self, prefix=""):
        return {prefix + metric.name: float(metric.result()) for metric in self.metrics + self.weighted_metrics}

    # ----- one batch ------------------------------------------------------------------------------
    def _train_step(self, x, y, sample_weight, lengths):
        out, out_lengths = self._forward(x, training=True, lengths=lengths, keep_cache=True)
        weights, count = self._loss_weights(sample_weight, out_lengths, out)
        loss, grad = self._loss_and_gradient(y, out, weights, count)
        self._backward(grad)
        if self._regularized:
            loss += self._regularization_loss(add_gradients=True)
        self.transform_gradients(self._flat_grads, self._segments)
        self.optimizer.apply([self._flat_params], [self._flat_grads], [self._segments], keys=["model"])
        if self.metrics or self.weighted_metrics:
            self._update_metrics(y, out, weights, out_lengths, sample_weight)
        return loss

    def transform_gradients(self, flat_grads, segments):
        """The seam between the backward pass and the optimizer: each of `gradient_transforms` gets the
        flat gradient buffer (every trainable weight's gradient, one after another, in the order of
        `trainable_weights`; `segments` holds their sizes) and changes it in place.  This is where an
        all-reduce across processes (MPI, Dask) or gradient accumulation goes."""
        for transform in self.gradient_transforms:
            transform(flat_grads, segments)

    def _test_step(self, x, y, sample_weight, lengths):
        out, out_lengths = self._forward(x, training=False, lengths=lengths, keep_cache=False)
        weights, count = self._loss_weights(sample_weight, out_lengths, out)
        values = self.loss.values(y, out)
        loss = float(values.sum() if weights is None else (values * weights).sum()) / count
        if self._regularized:
            loss += self._regularization_loss(add_gradients=False)
        if self.metrics or self.weighted_metrics:
            self._update_metrics(y, out, weights, out_lengths, sample_weight)
        return loss

    # ----- fit ----------------------------------------------------------------------------------------
    @with_blas_pinned
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, lengths=None, validation_lengths=None):
        """Train for `epochs` epochs; returns a History whose `.history` maps names to per-epoch values.

        Args:
            x: (samples, steps, features) floats (or (samples, steps) ints after an Embedding).
            y: targets, one row per sample.
            batch_size: default 32.  epochs: default 1; training runs epochs initial_epoch .. epochs - 1.
            verbose: 'auto' or 1 (a tqdm progress bar per epoch, on stderr), 2 (one line per
                epoch), 0 (silent).
            callbacks: list of `lstmcore.callbacks.Callback`.
            validation_split: fraction in [0, 1) of the data, taken from the END (before
                shuffling, as Keras), held out for validation.
            validation_data: (x_val, y_val) or (x_val, y_val, sample_weight_val); overrides
                validation_split.
            shuffle: default True: a new order every epoch, from the library's generator.
            class_weight: {class index: weight}, multiplies the loss of samples of that class.
            sample_weight: (samples,) or (samples, steps) weights.
            initial_epoch: epoch to start from (to resume training).
            lengths: (samples,) real lengths of padded sequences (see the module docstring).
            validation_lengths: lengths of validation_data's sequences.
        """
        self._require_compiled("fit")
        epochs, batch_size, verbose = _check_fit_options(epochs, batch_size, verbose, initial_epoch,
                                                         validation_split, shuffle)
        x = self._prepare_x(x)
        y = self._prepare_y(y, x)
        lengths = _check_lengths(lengths, x.shape[0], self._steps_of(x))
        weights = self._prepare_weights(sample_weight, class_weight, y, x.shape[0])
        validation = None
        if validation_data is not None:
            validation = self._prepare_validation(validation_data, validation_lengths)
        elif validation_split:
            (x, y, weights, lengths), validation = _split_off_validation(validation_split, x, y, weights, lengths)
        return self._train_epochs(x, y, weights, lengths, validation, callbacks, epochs=epochs,
                                  initial_epoch=initial_epoch, batch_size=batch_size, shuffle=shuffle,
                                  verbose=verbose)

    def _train_epochs(self, x, y, weights, lengths, validation, callbacks, *, epochs, initial_epoch, batch_size,
                      shuffle, verbose):
        """fit's epoch loop: callbacks (the progress bar among them), validation after each epoch."""
        steps_per_epoch = -(-x.shape[0] // batch_size)
        history = History()
        progress = [ProgressBar(verbose)] if verbose else []
        callback_list = CallbackList(list(callbacks or []) + [history] + progress, self,
                                     {"epochs": epochs, "steps": steps_per_epoch, "verbose": verbose})
        self.history = history
        self.stop_training = False
        callback_list.call("on_train_begin", {})
        logs = {}
        try:
            for epoch in range(initial_epoch, epochs):
                self._reset_metrics()
                callback_list.call("on_epoch_begin", epoch, {})
                logs = self._run_epoch(x, y, weights, lengths, batch_size, shuffle, callback_list)
                if validation is not None:
                    val_logs = self._evaluate_arrays(*validation, batch_size=batch_size)
                    logs.update({f"val_{key}": value for key, value in val_logs.items()})
                callback_list.call("on_epoch_end", epoch, logs)
                if self.stop_training:
                    break
        finally:
            for bar in progress:
                bar.close()
        callback_list.call("on_train_end", logs)
        return history

    def _prepare_validation(self, validation_data, validation_lengths):
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError("validation_data must be (x_val, y_val) or (x_val, y_val, sample_weight_val). "
                             f"Received: validation_data of type {type(validation_data).__name__}")
        x_val = self._prepare_x(validation_data[0], "validation_data[0]")
        y_val = self._prepare_y(validation_data[1], x_val, "validation_data[1]")
        sw = validation_data[2] if len(validation_data) == 3 else None
        w_val = self._prepare_weights(sw, None, y_val, x_val.shape[0], "validation_data[2]")
        l_val = _check_lengths(validation_lengths, x_val.shape[0], self._steps_of(x_val), "validation_lengths")
        return x_val, y_val, w_val, l_val

    def _run_epoch(self, x, y, weights, lengths, batch_size, shuffle, callback_list):
        """One pass over the data in batches; returns the epoch's logs (loss and metrics)."""
        samples = x.shape[0]
        order = backend.rng().permutation(samples) if shuffle else None
        batch_hooks = callback_list.wants("on_train_batch_begin") or callback_list.wants("on_train_batch_end")
        batch_metrics = callback_list.wants_batch_metrics()
        loss_total = 0.0
        seen = 0
        for batch, start in enumerate(range(0, samples, batch_size)):
            stop = min(start + batch_size, samples)
            if order is None:
                pick = slice(start, stop)
            else:
                pick = order[start:stop]
            xb = x[pick]
            yb = y[pick]
            wb = None if weights is None else weights[pick]
            lb = None if lengths is None else lengths[pick]
            if batch_hooks:
                callback_list.call("on_train_batch_begin", batch, {})
            loss = self._train_step(xb, yb, wb, lb)
            loss_total += loss * (stop - start)
            seen += stop - start
            if batch_hooks:
                batch_logs = {"loss": loss_total / seen}
                if batch_metrics:
                    batch_logs.update(self._metric_logs())
                callback_list.call("on_train_batch_end", batch, batch_logs)
            if self.stop_training:
                break
        logs = {"loss": loss_total / max(seen, 1)}
        logs.update(self._metric_logs())
        return logs

    # ----- evaluate / predict --------------------------------------------------------------------------
    def _evaluate_arrays(self, x, y, weights, lengths, batch_size):
        self._reset_metrics()
        loss_total = 0.0
        samples = x.shape[0]
        for start in range(0, samples, batch_size):
            stop = min(start + batch_size, samples)
            pick = slice(start, stop)
            loss = self._test_step(x[pick], y[pick], None if weights is None else weights[pick],
                                   None if lengths is None else lengths[pick])
            loss_total += loss * (stop - start)
        logs = {"loss": loss_total / max(samples, 1)}
        logs.update(self._metric_logs())
        return logs

    @with_blas_pinned
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 return_dict=False, lengths=None, callbacks=None):
        """Loss (and metrics) on (x, y) in inference mode.

        Returns the loss as a float when there are no metrics, else [loss, *metrics]
        (or a dict with return_dict=True), as Keras.
        """
        self._require_compiled("evaluate")
        batch_size = _check_batch_size("batch_size", batch_size)
        _check_verbose(verbose)
        x = self._prepare_x(x)
        y = self._prepare_y(y, x)
        lengths = _check_lengths(lengths, x.shape[0], self._steps_of(x))
        weights = self._prepare_weights(sample_weight, None, y, x.shape[0])
        logs = self._evaluate_arrays(x, y, weights, lengths, batch_size)
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    @with_blas_pinned
    def predict(self, x, batch_size=None, verbose=0, lengths=None, callbacks=None):
        """Outputs for `x` in inference mode, computed `batch_size` samples at a time (default 32).

        verbose=1 shows a progress bar (default 0: silent).
        """
        batch_size = _check_batch_size("batch_size", batch_size)
        verbose = _check_verbose(verbose)
        x = self._prepare_x(x)
        lengths = _check_lengths(lengths, x.shape[0], self._steps_of(x))
        samples = x.shape[0]
        results = None
        starts = range(0, samples, batch_size)
        if verbose == 1:
            starts = tqdm(starts, desc="predict", unit="batch", file=sys.stderr)
        for start in starts:
            stop = min(start + batch_size, samples)
            out, _ = self._forward(x[start:stop], training=False,
                                   lengths=None if lengths is None else lengths[start:stop], keep_cache=False)
            outs = out if isinstance(out, list) else [out]
            if results is None:
                results = [np.empty((samples,) + o.shape[1:], o.dtype) for o in outs]
            for target, o in zip(results, outs):
                target[start:stop] = o
        if results is None:  # no samples
            shape = self._output_shape_for(x)
            shapes = shape if isinstance(shape, list) else [shape]
            results = [np.empty((0,) + tuple(0 if s is None else s for s in sh[1:]), self.dtype) for sh in shapes]
        return results if len(results) > 1 else results[0]

    # ----- single batches ---------------------------------------------------------------------------------
    @with_blas_pinned
    def train_on_batch(self, x, y, sample_weight=None, class_weight=None, return_dict=False, lengths=None):
        """One optimizer step on one batch; returns its loss (and metrics) as Keras does."""
        return self._one_batch("train_on_batch", self._train_step, x, y, sample_weight, class_weight,
                               return_dict, lengths)

    @with_blas_pinned
    def test_on_batch(self, x, y, sample_weight=None, return_dict=False, lengths=None):
        """Loss (and metrics) of one batch in inference mode."""
        return self._one_batch("test_on_batch", self._test_step, x, y, sample_weight, None,
                               return_dict, lengths)

    def _one_batch(self, what, step, x, y, sample_weight, class_weight, return_dict, lengths):
        """Check one batch, run `step` on it, and return its logs the way Keras does."""
        self._require_compiled(what)
        x = self._prepare_x(x)
        y = self._prepare_y(y, x)
        lengths = _check_lengths(lengths, x.shape[0], self._steps_of(x))
        weights = self._prepare_weights(sample_weight, class_weight, y, x.shape[0])
        self._reset_metrics()
        logs = {"loss": step(x, y, weights, lengths)}
        logs.update(self._metric_logs())
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    @with_blas_pinned
    def predict_on_batch(self, x, lengths=None):
        """Outputs of one batch in inference mode."""
        return self(x, training=False, lengths=lengths)

    def _compile_config(self):
        if not self.compiled:
            return None
        return {"optimizer": optimizers_module.serialize(self.optimizer),
                "loss": losses_module.serialize(self.loss),
                "metrics": [m if isinstance(m, str) else m.name for m in self._metric_specs],
                "weighted_metrics": [m if isinstance(m, str) else m.name for m in self._weighted_metric_specs]}

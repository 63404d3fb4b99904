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

import numpy as np

from .. import losses as losses_module
from .. import metrics as metrics_module
from .. import optimizers as optimizers_module
from .._threads import with_blas_pinned
from ..callbacks import CallbackList, History
from ..precision import inference_precision
from ..progress_bars import progress_bar
from .array_batches import ArrayPasses
from .batches import BatchSource, is_batch_source
from .data import check_finite, n_samples, per_output, take
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
    """Keras's validation_split: the last examples (before any shuffling) held out, the first
    floor(n * (1 - split)) trained on, as keras/src/trainers/data_adapters/array_slicing.py cuts;
    returns ((x, y, weights, lengths) to train on, the same four to validate on)."""
    samples = n_samples(x)
    split_at = int(math.floor(samples * (1.0 - validation_split)))
    if split_at == 0 or split_at == samples:
        raise ValueError(f"validation_split leaves no data on one side ({samples} samples). "
                         f"Received: validation_split={validation_split!r}")
    arrays = (x, y, weights, lengths)
    return (tuple(take(a, slice(None, split_at)) for a in arrays),
            tuple(take(a, slice(split_at, None)) for a in arrays))


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

    # ----- inputs -------------------------------------------------------------------------
    def _prepare_finite_x(self, x, argument="x"):
        """The model's `_prepare_x`, then NaN and inf refused with the sample and step named (all-NaN
        steps pass when a Masking layer masks NaN: the user asked for them to be padding)."""
        x = self._prepare_x(x, argument)
        self._check_input_shape(x, argument)
        check_finite(x, argument, nan_steps_are_padding=self._masks_nan_steps())
        return x

    def _check_input_shape(self, x, argument):
        """x against the shape the model was built for, so a wrong feature count blames x, not a kernel."""
        expected = getattr(self, "_input_shape", None) if getattr(self, "built", False) else None
        if not isinstance(x, np.ndarray) or not isinstance(expected, tuple) or \
                any(isinstance(n, (tuple, list)) for n in expected):
            return
        if len(expected) < 3 or expected[-1] is None:
            return  # no feature axis to check (a model built lazily keeps its first call's steps: not checked)
        if x.ndim != len(expected) or x.shape[-1] != expected[-1]:
            shown = ", ".join(["None"] * (len(expected) - 2) + [str(expected[-1])])
            raise ValueError(f"{argument} must have shape (samples, {shown}), as the model was built for "
                             f"(the last axis: {expected[-1]} features). Received: {argument}.shape={x.shape}")

    def _masks_nan_steps(self):
        from ..layers.core import Masking

        return any(isinstance(layer, Masking) and np.isnan(layer.mask_value) for layer in getattr(self, "layers", []))

    @staticmethod
    def _require_samples(x, what):
        if n_samples(x) == 0:
            raise ValueError(f"{what} needs at least one sample. Received: x with 0 samples")

    # ----- compile ------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, weighted_metrics=None,
                loss_weights=None, **options):
        """Choose the optimizer, loss and metrics (by name, class or object).

        Names resolve through the shared registries, so losses and metrics that
        plugins register can be named here too.  `metrics` are weighted by the
        step mask only; `weighted_metrics` also by sample and class weights.
        A model with several outputs takes a loss per output (a list in output
        order or a dict by output name; one loss is shared by all), optional
        `loss_weights` alike, and metrics as a dict or a list of lists (a flat
        list applies to every output); the loss is the weighted sum.
        Keras's run_eagerly / steps_per_execution / jit_compile are accepted and ignored.
        """
        unknown = [key for key in options if key not in _IGNORED_COMPILE_OPTIONS]
        if unknown:
            raise TypeError(f"compile() got an unexpected keyword argument {unknown[0]!r}. "
                            f"Received: {unknown[0]}={options[unknown[0]]!r}")
        if loss is None:
            raise ValueError("loss must be given, e.g. compile(optimizer='adam', loss='mse'). Received: loss=None")
        names = self.output_names
        self.optimizer = optimizers_module.get(optimizer)
        self._losses = [losses_module.get(item) for item in per_output(loss, names, "loss")]
        self.loss = self._losses[0] if len(names) == 1 else self._losses
        weights = per_output(1.0 if loss_weights is None else loss_weights, names, "loss_weights")
        self._loss_weight_values = [float(weight) for weight in weights]
        self._loss_spec_weights = loss_weights
        # Keras 3 logs each output's own loss, unweighted, as "<output>_loss" (several outputs only)
        self._output_losses = [metrics_module.Mean(name=f"{name}_loss") for name in names] if len(names) > 1 else []
        self._metric_specs = self._per_output_specs("metrics", metrics)
        self._weighted_metric_specs = self._per_output_specs("weighted_metrics", weighted_metrics)
        self.metrics, self._metric_outputs = self._build_metrics(self._metric_specs, "metrics")
        self.weighted_metrics, self._weighted_metric_outputs = self._build_metrics(
            self._weighted_metric_specs, "weighted_metrics")
        self.compiled = True
        if self.built:
            self._bind_weights()

    @property
    def metrics_names(self):
        """The names of evaluate()'s list, in its order: "loss", each output's loss (several outputs), the
        metrics (a Keras 2 script's `dict(zip(model.metrics_names, model.evaluate(...)))`)."""
        self._require_compiled("metrics_names")
        return ["loss"] + list(self._metric_logs())

    @property
    def output_names(self):
        """The names of the model's outputs (the layers that produce them); one for a Sequential."""
        return ["output"]

    def _per_output_specs(self, argument, value):
        """Metric specs as one list per output."""
        names = self.output_names
        if value is None:
            return [[] for _ in names]
        if isinstance(value, (str, metrics_module.Metric)):
            value = [value]
        if isinstance(value, dict):
            if len(names) == 1:
                raise ValueError(f"{argument} must be a list for a model with one output. "
                                 f"Received: {argument}={value!r}")
            return [list(self._as_spec_list(spec)) for spec in per_output(value, names, argument, missing=[])]
        value = list(value)
        if len(names) > 1 and value and all(isinstance(spec, (list, tuple)) for spec in value):
            return [list(spec) for spec in per_output(value, names, argument)]
        return [list(value) for _ in names]

    @staticmethod
    def _as_spec_list(spec):
        return [spec] if isinstance(spec, (str, metrics_module.Metric)) else list(spec or [])

    def _build_metrics(self, specs, argument):
        """Metric objects and the output each one follows; named "{output}_{metric}" with several outputs."""
        names = self.output_names
        built, outputs = [], []
        for index, output_specs in enumerate(specs):
            for spec in output_specs:
                metric = metrics_module.get(spec, loss=self._losses[index], argument=argument)
                if len(names) > 1:
                    if any(metric is other for other in built):
                        raise ValueError(f"The metric object {metric.name!r} is given for two outputs; "
                                         "give each output its own object or a name")
                    metric.name = f"{names[index]}_{metric.name}"
                built.append(metric)
                outputs.append(index)
        return built, outputs

    def _require_compiled(self, what):
        if not self.compiled:
            raise RuntimeError(f"The model must be compiled before {what}: call "
                               "model.compile(optimizer=..., loss=...)")

    def _prepare_y(self, y, x, argument="y"):
        """Targets checked against the model's output(s): one array, or a list with one per output."""
        if y is None:
            raise ValueError(f"{argument} must be given to train or evaluate. Received: {argument}=None")
        samples = n_samples(x)
        out_shape = self._output_shape_for(x)
        names = self.output_names
        if len(names) == 1:
            if isinstance(out_shape, list):
                raise ValueError("The last layer returns several arrays; fit/evaluate need a single output")
            return self._prepare_target(self._losses[0], y, out_shape, samples, argument)
        if not isinstance(y, (list, tuple, dict)):
            raise ValueError(f"{argument} must give one array per output ({', '.join(names)}), as a list or a "
                             f"dict by output name. Received: {argument} of type {type(y).__name__}")
        targets = per_output(y, names, argument)
        return [self._prepare_target(loss, target, shape, samples, f"{argument}[{name!r}]")
                for loss, target, shape, name in zip(self._losses, targets, out_shape, names)]

    def _prepare_target(self, loss, y, out_shape, samples, argument):
        y = np.asarray(y)
        if y.shape[:1] != (samples,):
            raise ValueError(f"{argument} must have one row per sample of x ({samples}). "
                             f"Received: {argument}.shape={y.shape}")
        prepared = loss.prepare_target(y, (samples,) + tuple(out_shape[1:]), self.dtype)
        if not isinstance(loss, losses_module.SparseCategoricalCrossentropy):
            expected = (samples,) + tuple(out_shape[1:])
            if len(prepared.shape) != len(expected) or any(
                    size is not None and size != found for size, found in zip(expected, prepared.shape)):
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
            if len(self.output_names) > 1:
                raise ValueError("class_weight applies to a model with one output; give sample_weight instead. "
                                 f"Received: class_weight for {len(self.output_names)} outputs")
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
        if isinstance(self._losses[0], losses_module.SparseCategoricalCrossentropy):
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

    def _loss_and_gradients(self, y, out, out_lengths, sample_weight, gradients=True):
        """(loss, gradient(s) of the outputs or None, per-output weights for the metrics).

        With several outputs the loss is the `loss_weights`-weighted sum of each output's loss."""
        if len(self._losses) == 1:
            return self._output_loss(self._losses[0], 1.0, y, out, out_lengths, sample_weight, gradients)
        lengths = out_lengths if isinstance(out_lengths, list) else [out_lengths] * len(out)
        total, grads, weights = 0.0, [], []
        for loss, scale, y_i, out_i, lengths_i, logged in zip(self._losses, self._loss_weight_values, y, out, lengths,
                                                              self._output_losses):
            value, grad, weight = self._output_loss(loss, scale, y_i, out_i, lengths_i, sample_weight, gradients)
            logged.update_state(np.array([value]), np.array([float(len(out_i))]))   # a batch's weight: its size
            total += scale * value
            grads.append(grad)
            weights.append(weight)
        return total, grads, weights

    def _output_loss(self, loss, scale, y, out, out_lengths, sample_weight, gradients):
        """(the output's loss before its loss weight, its gradient with the weight applied, the weights)."""
        weights, count = self._loss_weights(sample_weight, out_lengths, out)
        if not gradients:
            values = loss.values(y, out)
            return float(values.sum() if weights is None else (values * weights).sum()) / count, None, weights
        total, grad = self._loss_and_gradient(loss, y, out, weights, count)
        if scale != 1.0:
            grad *= scale
        return total, grad, weights

    @staticmethod
    def _loss_and_gradient(loss_function, y, out, weights, count):
        values = loss_function.values(y, out)
        grad = loss_function.gradient(y, out)
        if weights is None:
            loss = float(values.sum()) / count
            grad *= 1.0 / count
        else:
            loss = float((values * weights).sum()) / count
            grad *= (weights * (1.0 / count))[..., None].astype(grad.dtype, copy=False)
        return loss, np.asarray(grad, dtype=out.dtype)

    def _regularization_loss(self, add_gradients):
        return sum(layer.regularization_loss(add_gradients) for layer in self._regularized)

    def _update_metrics(self, y, out, weights, out_lengths):
        """Feed each metric its output: `metrics` weighted by the step mask, `weighted_metrics` by `weights`."""
        several = len(self._losses) > 1
        lengths = out_lengths if isinstance(out_lengths, list) else [out_lengths] * (len(out) if several else 1)
        for metric, index in zip(self.metrics, self._metric_outputs):
            out_i = out[index] if several else out
            mask = None
            if lengths[index] is not None and out_i.ndim == 3:
                mask = (np.arange(out_i.shape[1]) < lengths[index][:, None])
            metric.update_state(y[index] if several else y, out_i, mask)
        for metric, index in zip(self.weighted_metrics, self._weighted_metric_outputs):
            metric.update_state(y[index] if several else y, out[index] if several else out,
                                weights[index] if several else weights)

    def _reset_metrics(self):
        for metric in self._output_losses + self.metrics + self.weighted_metrics:
            metric.reset_state()

    def _metric_logs(self, prefix=""):
        """Each output's loss (several outputs), then the metrics: the order of Keras's logs and evaluate()."""
        return {prefix + metric.name: float(metric.result())
                for metric in self._output_losses + self.metrics + self.weighted_metrics}

    # ----- one batch ------------------------------------------------------------------------------
    def _train_step(self, x, y, sample_weight, lengths):
        out, out_lengths = self._forward(x, training=True, lengths=lengths, keep_cache=True)
        loss, grad, weights = self._loss_and_gradients(y, out, out_lengths, sample_weight)
        self._backward(grad)
        if self._regularized:
            loss += self._regularization_loss(add_gradients=True)
        self.transform_gradients(self._flat_grads, self._segments)
        self.optimizer.apply([self._flat_params], [self._flat_grads], [self._segments], keys=["model"])
        if self.metrics or self.weighted_metrics:
            self._update_metrics(y, out, weights, out_lengths)
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
        loss, _, weights = self._loss_and_gradients(y, out, out_lengths, sample_weight, gradients=False)
        if self._regularized:
            loss += self._regularization_loss(add_gradients=False)
        if self.metrics or self.weighted_metrics:
            self._update_metrics(y, out, weights, out_lengths)
        return loss

    # ----- fit ----------------------------------------------------------------------------------------
    @with_blas_pinned
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, lengths=None, validation_lengths=None, steps_per_epoch=None,
            validation_steps=None):
        """Train for `epochs` epochs; returns a History whose `.history` maps names to per-epoch values.

        Args:
            x: (samples, steps, features) floats (or (samples, steps) ints after an Embedding); a list or a
                dict by input name for a model with several inputs; or batches: a `Sequence`, a generator
                or an iterable of (x, y) or (x, y, sample_weight) (see `lstmcore.trainers.batches`).
            y: targets, one row per sample (a list or dict by output name for several outputs); None
                when x yields batches.
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
            steps_per_epoch: batches an epoch takes: of a source of batches, or of arrays as Keras 3 does
                (the next epoch continues the pass; `lstmcore.trainers.array_batches`).
            validation_steps: batches of validation_data per validation, when it yields batches.
        """
        self._require_compiled("fit")
        epochs, batch_size, verbose = _check_fit_options(epochs, batch_size, verbose, initial_epoch,
                                                         validation_split, shuffle)
        if is_batch_source(x):
            return self._fit_batches(x, y, class_weight, callbacks, validation_data, validation_steps,
                                     epochs=epochs, initial_epoch=initial_epoch, verbose=verbose,
                                     steps_per_epoch=steps_per_epoch)
        x = self._prepare_finite_x(x)
        self._require_samples(x, "fit")
        y = self._prepare_y(y, x)
        lengths = _check_lengths(lengths, n_samples(x), self._steps_of(x))
        weights = self._prepare_weights(sample_weight, class_weight, y, n_samples(x))
        validation = None
        if validation_data is not None:
            validation = self._prepare_validation(validation_data, validation_lengths)
        elif validation_split:
            (x, y, weights, lengths), validation = _split_off_validation(validation_split, x, y, weights, lengths)
        passes = ArrayPasses(n_samples(x), batch_size, shuffle, steps_per_epoch)

        def run_epoch(callback_list):
            return self._run_epoch(x, y, weights, lengths, passes, callback_list)

        def validate():
            return self._evaluate_arrays(*validation, batch_size=batch_size)

        return self._train_epochs(run_epoch, validate if validation is not None else None, callbacks,
                                  epochs=epochs, initial_epoch=initial_epoch, verbose=verbose,
                                  steps_per_epoch=passes.steps)

    def _fit_batches(self, data, y, class_weight, callbacks, validation_data, validation_steps, *, epochs,
                     initial_epoch, verbose, steps_per_epoch):
        """fit on a Sequence, generator or iterable of batches."""
        if y is not None:
            raise ValueError("y must be None when x yields batches (each batch holds its targets). "
                             f"Received: y of type {type(y).__name__}")
        source = BatchSource(data, steps_per_epoch, "x")

        def run_epoch(callback_list):
            if source.warn_if_exhausted():
                self.stop_training = True
                return {}
            return self._run_source_epoch(source, class_weight, callback_list)

        validate = None
        if validation_data is not None:
            if is_batch_source(validation_data):
                validation_source = BatchSource(validation_data, validation_steps, "validation_data")
                validate = lambda: self._evaluate_source(validation_source)  # noqa: E731
            else:
                validation = self._prepare_validation(validation_data, None)
                validate = lambda: self._evaluate_arrays(*validation, batch_size=32)  # noqa: E731
        return self._train_epochs(run_epoch, validate, callbacks, epochs=epochs, initial_epoch=initial_epoch,
                                  verbose=verbose, steps_per_epoch=source.steps)

    def _train_epochs(self, run_epoch, validate, callbacks, *, epochs, initial_epoch, verbose, steps_per_epoch):
        """fit's epoch loop: callbacks (the progress bar among them), validation after each epoch."""
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
                logs = run_epoch(callback_list)
                if self.stop_training and not logs:
                    break
                if validate is not None:
                    logs.update({f"val_{key}": value for key, value in validate().items()})
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
        x_val = self._prepare_finite_x(validation_data[0], "validation_data[0]")
        y_val = self._prepare_y(validation_data[1], x_val, "validation_data[1]")
        sw = validation_data[2] if len(validation_data) == 3 else None
        w_val = self._prepare_weights(sw, None, y_val, n_samples(x_val), "validation_data[2]")
        l_val = _check_lengths(validation_lengths, n_samples(x_val), self._steps_of(x_val), "validation_lengths")
        return x_val, y_val, w_val, l_val

    def _run_epoch(self, x, y, weights, lengths, passes, callback_list):
        """One epoch's batches (`passes`: array_batches.ArrayPasses); returns its logs (loss and metrics)."""
        batch_hooks = callback_list.wants("on_train_batch_begin") or callback_list.wants("on_train_batch_end")
        batch_metrics = callback_list.wants_batch_metrics()
        loss_total = 0.0
        seen = 0
        for batch, pick in enumerate(passes.epoch()):
            xb, yb, wb, lb = (take(a, pick) for a in (x, y, weights, lengths))
            size = n_samples(xb)
            if batch_hooks:
                callback_list.call("on_train_batch_begin", batch, {})
            loss = self._train_step(xb, yb, wb, lb)
            loss_total += loss * size
            seen += size
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

    def _source_batch(self, batch, class_weight, argument):
        """One batch of a source, checked as fit checks arrays: (x, y, weights)."""
        xb, yb, sw = batch
        xb = self._prepare_finite_x(xb, argument)
        if yb is None:
            raise ValueError(f"Each batch of {argument} must hold targets, (x, y) or (x, y, sample_weight). "
                             "Received: a batch without y")
        yb = self._prepare_y(yb, xb, f"the targets of a batch of {argument}")
        return xb, yb, self._prepare_weights(sw, class_weight, yb, n_samples(xb))

    def _run_source_epoch(self, source, class_weight, callback_list):
        """One pass over a batch source (its weighted mean loss and the metrics)."""
        batch_hooks = callback_list.wants("on_train_batch_begin") or callback_list.wants("on_train_batch_end")
        loss_total, seen = 0.0, 0
        for index, batch in enumerate(source.epoch()):
            xb, yb, wb = self._source_batch(batch, class_weight, "x")
            if batch_hooks:
                callback_list.call("on_train_batch_begin", index, {})
            samples = n_samples(xb)
            loss_total += self._train_step(xb, yb, wb, None) * samples
            seen += samples
            if batch_hooks:
                callback_list.call("on_train_batch_end", index, {"loss": loss_total / seen})
            if self.stop_training:
                break
        logs = {"loss": loss_total / max(seen, 1)}
        logs.update(self._metric_logs())
        return logs

    def _evaluate_source(self, source):
        self._reset_metrics()
        loss_total, seen = 0.0, 0
        for batch in source.epoch():
            xb, yb, wb = self._source_batch(batch, None, source.argument)
            samples = n_samples(xb)
            loss_total += self._test_step(xb, yb, wb, None) * samples
            seen += samples
        logs = {"loss": loss_total / max(seen, 1)}
        logs.update(self._metric_logs())
        return logs

    # ----- evaluate / predict --------------------------------------------------------------------------
    def _evaluate_arrays(self, x, y, weights, lengths, batch_size):
        self._reset_metrics()
        loss_total = 0.0
        samples = n_samples(x)
        for start in range(0, samples, batch_size):
            stop = min(start + batch_size, samples)
            loss = self._test_step(*(take(a, slice(start, stop)) for a in (x, y, weights, lengths)))
            loss_total += loss * (stop - start)
        logs = {"loss": loss_total / max(samples, 1)}
        logs.update(self._metric_logs())
        return logs

    @with_blas_pinned
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 return_dict=False, lengths=None, callbacks=None, steps=None):
        """Loss (and metrics) on (x, y) in inference mode.

        Returns the loss as a float when there are no metrics, else [loss, *metrics]
        (or a dict with return_dict=True), as Keras.
        """
        self._require_compiled("evaluate")
        batch_size = _check_batch_size("batch_size", batch_size)
        _check_verbose(verbose)
        if is_batch_source(x):
            logs = self._evaluate_source(BatchSource(x, steps, "x"))
        else:
            x = self._prepare_finite_x(x)
            self._require_samples(x, "evaluate")
            y = self._prepare_y(y, x)
            lengths = _check_lengths(lengths, n_samples(x), self._steps_of(x))
            weights = self._prepare_weights(sample_weight, None, y, n_samples(x))
            logs = self._evaluate_arrays(x, y, weights, lengths, batch_size)
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    @with_blas_pinned
    def predict(self, x, batch_size=None, verbose=0, lengths=None, callbacks=None, steps=None, precision=None):
        """Outputs for `x` in inference mode, computed `batch_size` samples at a time (default 32).

        x may also yield batches (a Sequence, a generator, an iterable; of x or of (x, y) whose y is
        ignored); `steps` limits how many are read.  verbose=1 shows a progress bar (default 0: silent).
        precision: "bfloat16" runs the LSTM layers' recurrent products in bfloat16 for this call
        (lstmcore.precision; outputs move by about 1e-3), "float32" forces full precision; None
        (default) follows `lstmcore.inference_precision`, float32 unless set.
        """
        if precision is None:
            return self._predict(x, batch_size, verbose, lengths, steps)
        with inference_precision(precision):
            return self._predict(x, batch_size, verbose, lengths, steps)

    def _predict(self, x, batch_size, verbose, lengths, steps):
        batch_size = _check_batch_size("batch_size", batch_size)
        verbose = _check_verbose(verbose)
        if is_batch_source(x):
            return self._predict_source(BatchSource(x, steps, "x"), verbose)
        x = self._prepare_finite_x(x)
        samples = n_samples(x)
        lengths = _check_lengths(lengths, samples, self._steps_of(x))
        results = None
        starts = range(0, samples, batch_size)
        if verbose == 1:
            starts = progress_bar(starts, desc="predict", unit="batch")
        for start in starts:
            stop = min(start + batch_size, samples)
            out, _ = self._forward(take(x, slice(start, stop)), training=False,
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

    def _predict_source(self, source, verbose):
        """predict over a batch source: the outputs of every batch, concatenated."""
        batches = source.epoch()
        if verbose == 1:
            batches = progress_bar(batches, total=source.steps, desc="predict", unit="batch")
        parts = []
        for xb, _, _ in batches:
            out, _ = self._forward(self._prepare_finite_x(xb), training=False, lengths=None, keep_cache=False)
            parts.append(out if isinstance(out, list) else [out])
        if not parts:
            raise ValueError("x yielded no batches to predict. Received: an empty source")
        results = [np.concatenate(column, axis=0) for column in zip(*parts)]
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
        x = self._prepare_finite_x(x)
        y = self._prepare_y(y, x)
        lengths = _check_lengths(lengths, n_samples(x), self._steps_of(x))
        weights = self._prepare_weights(sample_weight, class_weight, y, n_samples(x))
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
        self._prepare_finite_x(x)
        return self(x, training=False, lengths=lengths)

    def _compile_config(self):
        """The compile settings as JSON (one loss and metric list, or one per output), for model files."""
        if not self.compiled:
            return None

        def names(specs):
            return [spec if isinstance(spec, str) else spec.name for spec in specs]

        several = len(self._losses) > 1
        config = {"optimizer": optimizers_module.serialize(self.optimizer)}
        if several:
            config.update(loss=[losses_module.serialize(loss) for loss in self._losses],
                          loss_weights=self._loss_weight_values,
                          metrics=[names(specs) for specs in self._metric_specs],
                          weighted_metrics=[names(specs) for specs in self._weighted_metric_specs])
        else:
            config.update(loss=losses_module.serialize(self._losses[0]), metrics=names(self._metric_specs[0]),
                          weighted_metrics=names(self._weighted_metric_specs[0]))
        return config

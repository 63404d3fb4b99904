"""Sequential: a stack of layers with Keras's compile / fit / evaluate / predict.

Training is layer-by-layer backpropagation without an autograd graph: each
layer's forward pass keeps what its backward pass needs, and `Sequential`
runs the layers forwards, the loss, then the layers backwards.  All
trainable weights live in one flat buffer (each layer's weights are views
into it) and their gradients in another, so an optimizer step is a few
vectorised operations whatever the depth of the model.

Variable-length sequences: pass `lengths=` (one integer per sequence) to
fit / evaluate / predict / train_on_batch / input_gradients, or put a
`Masking` layer (or an `Embedding(mask_zero=True)`) first.  Every LSTM then
runs each sequence over its real steps only, and for sequence outputs the
padded steps are left out of the loss and the metrics.
"""
from __future__ import annotations

import math
import sys

import numpy as np
from tqdm.auto import tqdm

from . import backend, layers as layers_module
from . import losses as losses_module
from . import metrics as metrics_module
from . import optimizers as optimizers_module
from ._threads import with_blas_pinned
from .callbacks import CallbackList, History
from .layers import Embedding, InputLayer, Layer
from .saving import load_model as _load_model, load_weights, register_model_class, save_model, save_weights

__all__ = ["Sequential", "load_model"]

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


@register_model_class
class Sequential:
    """A linear stack of layers, built, compiled and trained as in Keras.

    Args:
        layers: optional list of layers (an `Input(shape=...)` may come first).
        name: model name.
        dtype: 'float32' or 'float64' for every layer that was not given one;
            None uses `lstmcore.floatx()` ('float32' unless set).

    Example::

        >>> import numpy as np, lstmcore as lc
        >>> model = lc.Sequential([lc.layers.LSTM(8, input_shape=(10, 1)), lc.layers.Dense(1)])
        >>> model.compile(optimizer="adam", loss="mse")
        >>> history = model.fit(np.zeros((64, 10, 1)), np.zeros(64), epochs=1, verbose=0)
        >>> model.predict(np.zeros((3, 10, 1))).shape
        (3, 1)
    """

    def __init__(self, layers=None, name=None, dtype=None):
        if name is not None and (not isinstance(name, str) or not name):
            raise ValueError(f"name must be a non-empty string. Received: name={name!r}")
        self.name = name or "sequential"
        self.dtype = backend.standardize_dtype(dtype)
        self.layers = []
        self.built = False
        self.compiled = False
        self.stop_training = False
        self.optimizer = None
        self.loss = None
        self.history = None
        self._input_shape = None
        self._flat_params = None
        self._flat_grads = None
        self.gradient_transforms = []
        if layers is not None:
            if isinstance(layers, Layer) or not hasattr(layers, "__iter__"):
                raise ValueError(f"layers must be a list of layers. Received: layers={layers!r}")
            for layer in layers:
                self.add(layer)

    # ----- construction ------------------------------------------------------------
    def add(self, layer):
        """Append a layer; the model builds as soon as its input shape is known."""
        if isinstance(layer, InputLayer):
            if self.layers:
                raise ValueError("An Input must come before every other layer. "
                                 f"Received: {layer!r} after {len(self.layers)} layers")
            self._input_shape = (layer.batch_size,) + tuple(layer.shape)
            return
        if not isinstance(layer, Layer):
            raise ValueError(f"layer must be an lstmcore.layers.Layer. Received: layer={layer!r}")
        if any(existing is layer for existing in self.layers):
            raise ValueError(f"layer {layer.name!r} is already in the model")
        if not self.layers and self._input_shape is None and layer._input_shape_arg is not None:
            self._input_shape = (layer.batch_size,) + tuple(layer._input_shape_arg)
        self.layers.append(layer)
        self.built = False
        if self._input_shape is not None:
            self.build(self._input_shape)

    def pop(self):
        """Remove the last layer."""
        if not self.layers:
            raise ValueError("There are no layers to pop")
        layer = self.layers.pop()
        self.built = False
        if self.layers and self._input_shape is not None:
            self.build(self._input_shape)
        return layer

    def build(self, input_shape=None):
        """Build every layer for inputs of `input_shape` (batch axis included, may be None)."""
        if input_shape is None:
            input_shape = self._input_shape
        if input_shape is None:
            raise ValueError("The input shape is unknown: give input_shape= to the first layer, start "
                             "with Input(shape=...), or call fit/predict. Received: input_shape=None")
        if not self.layers:
            raise ValueError("The model has no layers. Received: an empty Sequential")
        shape = tuple(input_shape)
        self._input_shape = shape
        for position, layer in enumerate(self.layers):
            if isinstance(shape, list):
                raise ValueError(f"Layer {self.layers[position - 1].name!r} returns several arrays "
                                 "(return_state=True or merge_mode=None), so it can only be the last layer")
            layer._set_model_dtype(self.dtype)
            if not layer.built:
                layer.build(shape)
            shape = layer.compute_output_shape(shape)
        self.built = True
        self._bind_weights()

    def _bind_weights(self):
        """Move the trainable weights and their gradients into two flat buffers (views per layer)."""
        slots = [(leaf, name) for layer in self.layers if layer.trainable
                 for leaf, name in layer._weight_slots()]
        total = sum(leaf._params[name].size for leaf, name in slots)
        params = np.empty(total, self.dtype)
        grads = np.zeros(total, self.dtype)
        offset = 0
        sizes = []
        for leaf, name in slots:
            value = leaf._params[name]
            size = value.size
            params[offset:offset + size] = value.ravel()
            leaf._params[name] = params[offset:offset + size].reshape(value.shape)
            leaf._grads[name] = grads[offset:offset + size].reshape(value.shape)
            sizes.append(size)
            offset += size
        self._flat_params, self._flat_grads, self._segments = params, grads, np.array(sizes, np.int64)
        self._regularized = [layer for layer in self.layers
                             if any(leaf._regularizers for leaf in [layer] + layer._sublayers())]

    def _ensure_built(self, x):
        if not self.built:
            self.build((None,) + tuple(np.shape(x)[1:]))

    # ----- weights -------------------------------------------------------------------------
    @property
    def weights(self):
        return [w for layer in self.layers for w in layer.weights]

    @property
    def trainable_weights(self):
        return [w for layer in self.layers if layer.trainable for w in layer.weights]

    def get_weights(self):
        """Copies of all weights, in Keras order (layer by layer)."""
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        """Overwrite all weights from a list in Keras order (e.g. from keras `model.get_weights()`)."""
        weights = list(weights)
        expected = sum(len(layer.weights) for layer in self.layers)
        if len(weights) != expected:
            raise ValueError(f"The model expects {expected} weight arrays. Received: a list of {len(weights)}")
        start = 0
        for layer in self.layers:
            count = len(layer.weights)
            layer.set_weights(weights[start:start + count])
            start += count

    def count_params(self):
        return int(sum(w.size for w in self.weights))

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

    # ----- the two passes -------------------------------------------------------------------
    def _forward(self, x, training, lengths, keep_cache):
        for layer in self.layers:
            x = layer.forward(x, training=training, lengths=lengths, keep_cache=keep_cache)
            lengths = layer.output_lengths(lengths)
        return x, lengths

    def _backward(self, grad):
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
            if grad is None:
                break
        return grad

    def _prepare_x(self, x, argument="x"):
        if x is None:
            raise ValueError(f"{argument} must be an array of shape (samples, ...). Received: {argument}=None")
        first = self.layers[0] if self.layers else None
        if isinstance(first, Embedding):
            x = np.asarray(x)
        else:
            try:
                x = np.ascontiguousarray(x, dtype=self.dtype)
            except (TypeError, ValueError) as error:
                raise ValueError(f"{argument} must be a numeric array. Received: {argument} that fails to "
                                 f"convert ({error})") from None
        if x.ndim < 2:
            raise ValueError(f"{argument} must have a sample axis and at least one more. "
                             f"Received: {argument}.shape={x.shape}")
        self._ensure_built(x)
        return x

    def _steps_of(self, x):
        """Number of steps of sequence input x, or None for input without a time axis."""
        if x.ndim >= 3 or (x.ndim == 2 and isinstance(self.layers[0], Embedding)):
            return x.shape[1]
        return None

    def _output_shape_for(self, x):
        shape = (None,) + tuple(x.shape[1:])
        for layer in self.layers:
            shape = layer.compute_output_shape(shape)
        return shape

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
        """fit's epoch loop: callbacks, progress (a bar per epoch or a line), validation after each."""
        steps_per_epoch = -(-x.shape[0] // batch_size)
        history = History()
        callback_list = CallbackList(list(callbacks or []) + [history], self,
                                     {"epochs": epochs, "steps": steps_per_epoch, "verbose": verbose})
        self.history = history
        self.stop_training = False
        callback_list.call("on_train_begin", {})
        logs = {}
        for epoch in range(initial_epoch, epochs):
            self._reset_metrics()
            callback_list.call("on_epoch_begin", epoch, {})
            bar = None
            if verbose == 1:
                bar = tqdm(total=steps_per_epoch, desc=f"Epoch {epoch + 1}/{epochs}", unit="batch",
                           file=sys.stderr, leave=True, dynamic_ncols=True, mininterval=0.25)
            try:
                logs = self._run_epoch(x, y, weights, lengths, batch_size, shuffle, callback_list, bar)
                if validation is not None:
                    val_logs = self._evaluate_arrays(*validation, batch_size=batch_size)
                    logs.update({f"val_{key}": value for key, value in val_logs.items()})
                callback_list.call("on_epoch_end", epoch, logs)
                if bar is not None:
                    bar.set_postfix_str(self._format_logs(logs), refresh=True)
            finally:
                if bar is not None:
                    bar.close()
            if verbose == 2:
                tqdm.write(f"Epoch {epoch + 1}/{epochs}: {self._format_logs(logs)}", file=sys.stderr)
            if self.stop_training:
                break
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

    def _run_epoch(self, x, y, weights, lengths, batch_size, shuffle, callback_list, bar):
        """One pass over the data in batches; returns the epoch's logs (loss and metrics)."""
        samples = x.shape[0]
        order = backend.rng().permutation(samples) if shuffle else None
        batch_hooks = callback_list.wants("on_train_batch_begin") or callback_list.wants("on_train_batch_end")
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
                batch_logs.update(self._metric_logs())
                callback_list.call("on_train_batch_end", batch, batch_logs)
            if bar is not None:
                bar.update(1)
                if batch % 8 == 0 or stop == samples:
                    bar.set_postfix(loss=f"{loss_total / seen:.4g}", refresh=False)
            if self.stop_training:
                break
        logs = {"loss": loss_total / max(seen, 1)}
        logs.update(self._metric_logs())
        return logs

    @staticmethod
    def _format_logs(logs):
        return " - ".join(f"{key}: {value:.4g}" for key, value in logs.items())

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

    def __call__(self, x, training=False, lengths=None):
        """Run the model on one batch (no batching, no cache)."""
        x = self._prepare_x(x)
        out, _ = self._forward(x, training=training, lengths=lengths, keep_cache=False)
        return out

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

    # ----- gradients for attribution -------------------------------------------------------------------------
    @with_blas_pinned
    def input_gradients(self, x, output_index=None, lengths=None, output_weights=None, batch_size=None):
        """Gradients of the model's outputs with respect to its inputs, in inference mode (no dropout).

        The scalar differentiated, per sample, is `sum(outputs * output_weights)`:
        with output_weights None it is the sum of all outputs, or of the last-axis
        column `output_index` when that is given (e.g. one class's score).  For
        sequence outputs with lengths, padded steps are left out.  The result has
        x's shape; `x * input_gradients(x)` is gradient-times-input attribution.

        Args:
            x: (samples, steps, features) input (not integer tokens).
            output_index: None or int, a column of the last output axis.
            lengths: (samples,) real lengths, or None.
            output_weights: array broadcastable to the output (per-sample rows allowed).
            batch_size: samples per pass (default 32).
        """
        if self.layers and isinstance(self.layers[0], Embedding):
            raise ValueError("input_gradients needs float inputs; the first layer is an Embedding of integer "
                             "tokens. Received: a model starting with Embedding")
        batch_size = _check_batch_size("batch_size", batch_size)
        x = self._prepare_x(x)
        lengths = _check_lengths(lengths, x.shape[0], self._steps_of(x))
        out_shape = self._output_shape_for(x)
        if isinstance(out_shape, list):
            raise ValueError("input_gradients needs a model with a single output")
        width = out_shape[-1]
        if output_index is not None and (isinstance(output_index, bool) or not isinstance(output_index, (int, np.integer))
                                         or not -width <= output_index < width):
            raise ValueError(f"output_index must be None or an integer in [{-width}, {width}). "
                             f"Received: output_index={output_index!r}")
        if output_weights is not None:
            output_weights = np.asarray(output_weights, self.dtype)
        result = np.empty(x.shape, self.dtype)
        for start in range(0, x.shape[0], batch_size):
            stop = min(start + batch_size, x.shape[0])
            lb = None if lengths is None else lengths[start:stop]
            out, out_lengths = self._forward(x[start:stop], training=False, lengths=lb, keep_cache=True)
            seed = self._output_seed(out, out_lengths, output_index, output_weights, start, stop, x.shape[0])
            result[start:stop] = self._backward(seed)
        return result

    def _output_seed(self, out, out_lengths, output_index, output_weights, start, stop, samples):
        if output_weights is not None:
            weights = output_weights
            if weights.ndim == out.ndim and weights.shape[0] == samples and samples != 1:
                weights = weights[start:stop]
            seed = np.array(np.broadcast_to(weights, out.shape), dtype=out.dtype)
        elif output_index is None:
            seed = np.ones_like(out)
        else:
            seed = np.zeros_like(out)
            seed[..., output_index] = 1.0
        if out_lengths is not None and out.ndim == 3:
            seed *= (np.arange(out.shape[1]) < out_lengths[:, None])[:, :, None]
        return seed

    # ----- state, summary, config --------------------------------------------------------------------------------
    def reset_states(self):
        """Zero the carried state of every stateful layer."""
        for layer in self.layers:
            if hasattr(layer, "reset_states"):
                layer.reset_states()

    reset_state = reset_states

    @property
    def input_shape(self):
        return self._input_shape

    @property
    def output_shape(self):
        if not self.built:
            raise AttributeError("The model is not built yet, so it has no output shape")
        shape = self._input_shape
        for layer in self.layers:
            shape = layer.compute_output_shape(shape)
        return shape

    def summary(self, print_fn=None):
        """Print each layer's type, output shape and parameter count, then the totals."""
        print_fn = print_fn or print
        rows = []
        shape = self._input_shape
        for layer in self.layers:
            if self.built:
                shape = layer.compute_output_shape(shape)
                shown, params = str(shape), f"{layer.count_params():,}"
            else:
                shown, params = "?", "0 (unbuilt)"
            rows.append((f"{layer.name} ({type(layer).__name__})", shown, params))
        headers = ("Layer (type)", "Output Shape", "Param #")
        widths = [max(len(headers[i]), *(len(r[i]) for r in rows)) + 2 if rows else len(headers[i]) + 2
                  for i in range(3)]
        line = "─" * sum(widths)
        print_fn(f'Model: "{self.name}"')
        print_fn(line)
        print_fn("".join(h.ljust(w) for h, w in zip(headers, widths)))
        print_fn("═" * sum(widths))
        for row in rows:
            print_fn("".join(c.ljust(w) for c, w in zip(row, widths)))
        print_fn(line)
        total = self.count_params() if self.built else 0
        trainable = sum(w.size for w in self.trainable_weights) if self.built else 0
        print_fn(f" Total params: {total:,}")
        print_fn(f" Trainable params: {trainable:,}")
        print_fn(f" Non-trainable params: {total - trainable:,}")

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype,
                "input_shape": None if self._input_shape is None else list(self._input_shape),
                "layers": [layers_module.serialize(layer) for layer in self.layers]}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        model = cls(name=config.get("name"), dtype=config.get("dtype"))
        specs = config.get("layers", [])
        for spec in specs:
            model.layers.append(layers_module.deserialize(spec, custom_objects))
        if config.get("input_shape") is not None and model.layers:
            model.build(tuple(config["input_shape"]))
        return model

    def _compile_config(self):
        if not self.compiled:
            return None
        return {"optimizer": optimizers_module.serialize(self.optimizer),
                "loss": losses_module.serialize(self.loss),
                "metrics": [m if isinstance(m, str) else m.name for m in self._metric_specs],
                "weighted_metrics": [m if isinstance(m, str) else m.name for m in self._weighted_metric_specs]}

    # ----- files ----------------------------------------------------------------------------------------------------
    def save(self, filepath, overwrite=True, include_optimizer=True):
        """Write the model (config, weights, compile settings, optimizer state) to one safetensors file."""
        save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer)

    def save_weights(self, filepath, overwrite=True):
        """Write only the weights (safetensors, Keras order) atomically."""
        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath):
        """Read weights written by `save_weights` or `save` into this (built) model."""
        load_weights(self, filepath)

    def __repr__(self):
        return f"<Sequential name={self.name!r}, layers={len(self.layers)}, built={self.built}>"


def load_model(filepath, custom_objects=None, compile=True):
    """Load a model written by `Sequential.save` (see `lstmcore.saving.load_model`)."""
    return _load_model(filepath, custom_objects=custom_objects, compile=compile)

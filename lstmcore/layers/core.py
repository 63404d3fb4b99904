"""Dense, Activation, Dropout, Masking and Embedding."""
from __future__ import annotations

import threading
import warnings

import numpy as np

from .. import activations, backend, initializers, regularizers
from .._products import matmul
from .base import KernelAndBias, Layer, check_bool, check_positive_int, check_rate, column_sums

__all__ = ["Dense", "Activation", "Dropout", "Masking", "Embedding", "lengths_from_keep_mask", "INNER_PADDING_WARNING"]


class _PerThread(threading.local):
    """What a layer finds in one call (the lengths Masking and Embedding see) for the model to read back
    right after the call: kept per thread, because threads that predict at once share the layer."""

    value = None

    def __deepcopy__(self, memo):  # copies of a layer start with nothing found (threading.local cannot copy)
        return _PerThread()

    def __reduce__(self):
        return (_PerThread, ())


def lengths_from_keep_mask(keep):
    """Lengths from a (batch, steps) mask of real steps: one past the last real step.

    Padding is taken to be trailing; a masked step before the last real one is
    processed as data (Keras would skip it, carrying the state over it).
    """
    steps = keep.shape[1]
    any_real = keep.any(axis=1)
    last_from_end = np.argmax(keep[:, ::-1], axis=1)
    lengths = np.where(any_real, steps - last_from_end, 0).astype(np.int64)
    if not keep.all() and (~keep & (np.arange(steps) < lengths[:, None])).any():
        warnings.warn(INNER_PADDING_WARNING, UserWarning, stacklevel=3)
    return lengths


# One text, so Python shows it once per place rather than once per batch.
INNER_PADDING_WARNING = (
    "masked steps before a sequence's last real step (padding at the start, as pad_sequences' default "
    "padding='pre' puts it, or zeros inside a sequence): lstmcore runs them as data, where Keras skips "
    "them, so results differ from Keras's; pad at the end (pad_sequences(..., padding='post')) or pass "
    "lengths= to fit and predict")


def _keras1_dense_arguments(units, kernel_initializer, kwargs):
    """(units, kernel_initializer) with Keras 1's `output_dim=` and `init=` taken out of kwargs (DeprecationWarning)."""
    for old, new in (("output_dim", "units"), ("init", "kernel_initializer")):
        if old in kwargs:
            warnings.warn(f"Dense({old}=...) is Keras 1's spelling; use {new}=...", DeprecationWarning, stacklevel=3)
    if "output_dim" in kwargs:
        units = kwargs.pop("output_dim")
    if "init" in kwargs:
        kernel_initializer = kwargs.pop("init")
    return units, kernel_initializer


class Dense(KernelAndBias, Layer):
    """Fully connected layer: `activation(x @ kernel + bias)`.

    On 3-D input (batch, steps, features) it applies to every time step, like
    Keras's Dense on higher-rank input.

    Args:
        units: positive int, output width.
        activation: None / 'linear' (default), 'relu', 'sigmoid', 'tanh' or 'softmax'.
        use_bias: default True.
        kernel_initializer: default 'glorot_uniform'; bias_initializer: default 'zeros'.
        kernel_regularizer, bias_regularizer: None (default), 'l1', 'l2', 'l1_l2' or a Regularizer.

    Input shape (batch, features) or (batch, steps, features); output shape the
    same with the last axis replaced by `units`.
    """

    def __init__(self, units=None, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, **kwargs):
        units, kernel_initializer = _keras1_dense_arguments(units, kernel_initializer, kwargs)
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units)
        self.activation = activations.get(activation)
        self.use_bias = check_bool("use_bias", use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer, "kernel_initializer")
        self.bias_initializer = initializers.get(bias_initializer, "bias_initializer")
        self.kernel_regularizer = regularizers.get(kernel_regularizer, "kernel_regularizer")
        self.bias_regularizer = regularizers.get(bias_regularizer, "bias_regularizer")

    def build(self, input_shape):
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(f"Dense {self.name!r} needs a known last input axis. "
                             f"Received: input_shape={tuple(input_shape)}")
        self._add_kernel_and_bias((int(input_shape[-1]), self.units), self.units)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def forward(self, x, training=False, lengths=None, keep_cache=None):
        keep_cache = training if keep_cache is None else keep_cache
        flat = x.reshape(-1, x.shape[-1])
        z = matmul(flat, self._params["kernel"])
        if self.use_bias:
            z += self._params["bias"]
        out = self.activation.forward(z)
        self._cache = (flat, out) if keep_cache else None
        return out.reshape(x.shape[:-1] + (self.units,))

    def backward(self, grad):
        flat, out = self._cache
        self._cache = None
        d_z = self.activation.backward(out, grad.reshape(out.shape))
        matmul(flat.T, d_z, out=self._grads["kernel"])
        if self.use_bias:
            column_sums(d_z, out=self._grads["bias"])
        d_x = matmul(d_z, self._params["kernel"].T)
        return d_x.reshape(grad.shape[:-1] + (flat.shape[1],))

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, activation=activations.serialize(self.activation),
                      use_bias=self.use_bias,
                      kernel_initializer=initializers.serialize(self.kernel_initializer),
                      bias_initializer=initializers.serialize(self.bias_initializer),
                      kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
                      bias_regularizer=regularizers.serialize(self.bias_regularizer))
        return config


class Activation(Layer):
    """Apply an activation ('linear', 'relu', 'sigmoid', 'tanh', 'softmax') to its input."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def forward(self, x, training=False, lengths=None, keep_cache=None):
        keep_cache = training if keep_cache is None else keep_cache
        out = self.activation.forward(np.array(x, copy=True))
        self._cache = out if keep_cache else None
        return out

    def backward(self, grad):
        out, self._cache = self._cache, None
        return self.activation.backward(out, grad)

    def get_config(self):
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config


class Dropout(Layer):
    """Zero a fraction `rate` of the inputs during training and scale the rest by 1 / (1 - rate).

    Args:
        rate: float in [0, 1).
        noise_shape: None, or a shape (with None for "as the input") to share the
            mask along axes, e.g. (None, 1, None) drops whole features of a sequence.
        seed: int or None (default: the library's generator, see `lstmcore.set_seed`).
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = check_rate("rate", rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)

    def _mask_shape(self, shape):
        if self.noise_shape is None:
            return shape
        if len(self.noise_shape) != len(shape):
            raise ValueError(f"noise_shape must have one entry per input axis ({len(shape)}). "
                             f"Received: noise_shape={self.noise_shape}")
        return tuple(s if n is None else n for n, s in zip(self.noise_shape, shape))

    def forward(self, x, training=False, lengths=None, keep_cache=None):
        keep_cache = training if keep_cache is None else keep_cache
        if not training or self.rate == 0:
            self._cache = None
            return x
        keep = 1.0 - self.rate
        rng = self._rng or backend.rng()
        mask = (rng.random(self._mask_shape(x.shape)) < keep).astype(x.dtype)
        mask /= np.asarray(keep, x.dtype)
        self._cache = mask if keep_cache else None
        return x * mask

    def backward(self, grad):
        mask, self._cache = self._cache, None
        return grad if mask is None else grad * mask

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, seed=self.seed,
                      noise_shape=None if self.noise_shape is None else list(self.noise_shape))
        return config


class Masking(Layer):
    """Mark steps whose features all equal `mask_value` as padding.

    The padded tail of each sequence becomes its length, which the following
    LSTM layers use to run each sequence over its real steps only (at the cost
    of those steps).  Masked steps are zeroed in the output, as Keras does.
    Padding is expected at the end of a sequence: a masked step before a real
    one is processed as data, where Keras would skip it.

    Args:
        mask_value: float, default 0.0.
    """

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        try:
            self.mask_value = float(mask_value)
        except (TypeError, ValueError):
            raise ValueError(f"mask_value must be a number. Received: mask_value={mask_value!r}") from None
        self._call_lengths = _PerThread()

    def forward(self, x, training=False, lengths=None, keep_cache=None):
        keep_cache = training if keep_cache is None else keep_cache
        if x.ndim != 3:
            raise ValueError(f"Masking {self.name!r} expects input of shape (batch, steps, features). "
                             f"Received: x.shape={x.shape}")
        if np.isnan(self.mask_value):  # NaN never equals itself: all-NaN steps are the padding
            keep = np.any(~np.isnan(x), axis=-1)
        else:
            keep = np.any(x != self.mask_value, axis=-1)
        found = lengths_from_keep_mask(keep)
        self._call_lengths.value = found if lengths is None else np.minimum(found, lengths)
        self._cache = keep if keep_cache else None
        return np.where(keep[:, :, None], x, np.zeros((), x.dtype))

    def output_lengths(self, lengths):
        return self._call_lengths.value

    def backward(self, grad):
        keep, self._cache = self._cache, None
        return grad * keep[:, :, None]

    def get_config(self):
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config


class Embedding(Layer):
    """Map integer tokens to dense vectors: (batch, steps) ints -> (batch, steps, output_dim).

    Args:
        input_dim: vocabulary size (tokens are 0 .. input_dim - 1).
        output_dim: width of each vector.
        embeddings_initializer: default 'uniform' (uniform in [-0.05, 0.05], as Keras).
        embeddings_regularizer: None (default), 'l1', 'l2', 'l1_l2' or a Regularizer.
        mask_zero: default False; True makes token 0 padding: the trailing zeros of a
            sequence end it, so following LSTM layers run over its real length.
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, mask_zero=False, input_length=None, **kwargs):
        if input_length is not None and "input_shape" not in kwargs:
            kwargs["input_shape"] = (check_positive_int("input_length", input_length),)
        super().__init__(**kwargs)
        self.input_dim = check_positive_int("input_dim", input_dim)
        self.output_dim = check_positive_int("output_dim", output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer, "embeddings_initializer")
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer, "embeddings_regularizer")
        self.mask_zero = check_bool("mask_zero", mask_zero)
        self._call_lengths = _PerThread()

    def build(self, input_shape):
        self.add_weight("embeddings", (self.input_dim, self.output_dim), self.embeddings_initializer,
                        self.embeddings_regularizer)
        super().build(input_shape)

    @property
    def embeddings(self):
        return self._params["embeddings"]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def _prepare_input(self, x):
        return np.asarray(x)

    def forward(self, x, training=False, lengths=None, keep_cache=None):
        keep_cache = training if keep_cache is None else keep_cache
        tokens = np.asarray(x)
        if tokens.dtype.kind == "f":
            if not np.all(np.mod(tokens, 1) == 0):
                raise ValueError(f"Embedding {self.name!r} expects integer tokens. "
                                 "Received: non-integer values")
            tokens = tokens.astype(np.intp)
        elif tokens.dtype.kind not in "iu":
            raise ValueError(f"Embedding {self.name!r} expects integer tokens. Received: dtype={tokens.dtype}")
        if tokens.size and (tokens.min() < 0 or tokens.max() >= self.input_dim):
            bad = tokens.min() if tokens.min() < 0 else tokens.max()
            raise ValueError(f"Embedding {self.name!r} tokens must lie in [0, {self.input_dim}). "
                             f"Received: token {int(bad)}")
        found_lengths = lengths
        if self.mask_zero and tokens.ndim == 2:
            found = lengths_from_keep_mask(tokens != 0)
            found_lengths = found if lengths is None else np.minimum(found, lengths)
        self._call_lengths.value = found_lengths
        self._cache = tokens if keep_cache else None
        return self._params["embeddings"][tokens]

    def output_lengths(self, lengths):
        return self._call_lengths.value

    def backward(self, grad):
        tokens, self._cache = self._cache, None
        d_embeddings = self._grads["embeddings"]
        d_embeddings.fill(0)
        np.add.at(d_embeddings, tokens.ravel(), grad.reshape(-1, self.output_dim))
        return None

    def get_config(self):
        config = super().get_config()
        config.update(input_dim=self.input_dim, output_dim=self.output_dim,
                      embeddings_initializer=initializers.serialize(self.embeddings_initializer),
                      embeddings_regularizer=regularizers.serialize(self.embeddings_regularizer),
                      mask_zero=self.mask_zero)
        return config

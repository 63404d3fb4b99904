"""The LSTM layer: Keras's API over the native kernel in `lstmcore.ops`."""
from __future__ import annotations

import numpy as np

from .. import backend, initializers, ops, regularizers
from ..precision import get_inference_precision
from .base import Layer, check_bool, check_positive_int, check_rate

__all__ = ["LSTM"]

_DRAW_MASK = object()  # `_run` draws its own dropout mask


def _steps_mask(lengths, steps):
    """(batch, steps) boolean array: True where a step lies past its sequence's length."""
    return np.arange(steps) >= np.asarray(lengths)[:, None]


class LSTM(Layer):
    """Long Short-Term Memory layer (Hochreiter & Schmidhuber, 1997), run in native code.

    For input x_t, with gates stacked along the last axis of the weights in the
    order i, f, c, o (the same order as PyTorch's i, f, g, o)::

        z_t = x_t @ kernel + h_{t-1} @ recurrent_kernel + bias      (batch, 4*units)
        i_t = sigmoid(z_t[:, 0u:1u])     input gate
        f_t = sigmoid(z_t[:, 1u:2u])     forget gate
        g_t = tanh(z_t[:, 2u:3u])        candidate cell
        o_t = sigmoid(z_t[:, 3u:4u])     output gate
        c_t = f_t * c_{t-1} + i_t * g_t
        h_t = o_t * tanh(c_t)

    Args:
        units: positive int, dimension of the hidden state h_t.
        activation: 'tanh' (default; the only one the kernel implements).
        recurrent_activation: 'sigmoid' (default; the only one the kernel implements).
        use_bias: bool, default True.
        kernel_initializer: default 'glorot_uniform'; weights `kernel` (input_dim, 4*units).
        recurrent_initializer: default 'orthogonal'; weights `recurrent_kernel` (units, 4*units).
        bias_initializer: default 'zeros'; weights `bias` (4*units,).
        unit_forget_bias: default True: add 1 to the forget-gate bias at initialisation.
        kernel_regularizer, recurrent_regularizer, bias_regularizer: None (default),
            'l1', 'l2', 'l1_l2' or a `lstmcore.regularizers.Regularizer`.
        dropout: float in [0, 1), default 0.0: fraction of input features dropped
            during training (one mask per sequence, shared by all its steps, as Keras).
        recurrent_dropout: only 0.0 (default) is supported: the fused kernel has no
            mask on h_{t-1}.
        return_sequences: default False: return the whole sequence (batch, steps, units)
            rather than the last output (batch, units).
        return_state: default False: also return the final states, as [output, h, c].
        go_backwards: default False: process the input backwards and return the
            reversed sequence (Keras semantics: outputs in processing order).
        stateful: default False: the final state of batch k is the initial state of
            batch k + 1 (same batch size); `reset_states()` zeroes it.
        zero_output_for_mask: default False: with lengths, steps past a sequence's
            length repeat its last output (Keras's behaviour); True gives zeros there.
        seed: int or None (default), seed of the dropout masks.
        unroll: accepted for compatibility, ignored (the kernel never unrolls).
        name, dtype, trainable, input_shape, batch_size: see `Layer`.

    Input shape: (batch, steps, features).  Lengths (from a Masking layer, an
    Embedding with mask_zero=True, or `lengths=` given to fit/predict) make each
    sequence run only over its real steps, at the cost of those steps.

    Output shape: (batch, units), or (batch, steps, units) with
    return_sequences=True; with return_state=True, a list [output, h_n, c_n]
    where h_n and c_n are (batch, units).

    Example::

        >>> import numpy as np
        >>> from lstmcore.layers import LSTM
        >>> layer = LSTM(4, return_sequences=True)
        >>> layer(np.zeros((2, 5, 3), np.float32)).shape
        (2, 5, 4)
    """

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, dropout=0.0,
                 recurrent_dropout=0.0, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, zero_output_for_mask=False, seed=None,
                 unroll=False, **kwargs):
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units)
        if activation != "tanh":
            raise ValueError(f"activation must be 'tanh', the activation of the native kernel. "
                             f"Received: activation={activation!r}")
        if recurrent_activation != "sigmoid":
            raise ValueError("recurrent_activation must be 'sigmoid', the gate activation of the native "
                             f"kernel. Received: recurrent_activation={recurrent_activation!r}")
        self.activation, self.recurrent_activation = activation, recurrent_activation
        self.use_bias = check_bool("use_bias", use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer, "kernel_initializer")
        self.recurrent_initializer = initializers.get(recurrent_initializer, "recurrent_initializer")
        self.bias_initializer = initializers.get(bias_initializer, "bias_initializer")
        self.unit_forget_bias = check_bool("unit_forget_bias", unit_forget_bias)
        self.kernel_regularizer = regularizers.get(kernel_regularizer, "kernel_regularizer")
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer, "recurrent_regularizer")
        self.bias_regularizer = regularizers.get(bias_regularizer, "bias_regularizer")
        self.dropout = check_rate("dropout", dropout)
        if recurrent_dropout != 0:
            raise ValueError("recurrent_dropout must be 0: the fused native kernel has no mask on the "
                             f"recurrent state (use dropout). Received: recurrent_dropout={recurrent_dropout!r}")
        self.recurrent_dropout = 0.0
        self.return_sequences = check_bool("return_sequences", return_sequences)
        self.return_state = check_bool("return_state", return_state)
        self.go_backwards = check_bool("go_backwards", go_backwards)
        self.stateful = check_bool("stateful", stateful)
        self.zero_output_for_mask = check_bool("zero_output_for_mask", zero_output_for_mask)
        self.unroll = check_bool("unroll", unroll)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"seed must be a non-negative integer or None. Received: seed={seed!r}")
        self.seed = seed
        self._dropout_rng = None if seed is None else np.random.default_rng(seed)
        self.states = None

    # ----- weights ---------------------------------------------------------------
    def build(self, input_shape):
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError(f"LSTM {self.name!r} expects input of shape (batch, steps, features). "
                             f"Received: input_shape={tuple(input_shape)}")
        features = int(input_shape[-1])
        units = self.units
        self.add_weight("kernel", (features, 4 * units), self.kernel_initializer, self.kernel_regularizer)
        self.add_weight("recurrent_kernel", (units, 4 * units), self.recurrent_initializer,
                        self.recurrent_regularizer)
        if self.use_bias:
            self.add_weight("bias", (4 * units,), self._bias_initializer(), self.bias_regularizer)
        super().build(input_shape)

    def _bias_initializer(self):
        """bias_initializer, plus 1 on the forget gate's block with unit_forget_bias (as Keras).  Inside the
        initializer, not after add_weight: a model file's dry build (planned_weight_shapes) calls no
        initializer and so allocates nothing, where `bias[...] += 1` copied `units` floats."""
        if not self.unit_forget_bias:
            return self.bias_initializer
        base, units = initializers.get(self.bias_initializer), self.units

        def with_forget_bias(shape, dtype):
            bias = np.array(base(shape, dtype), dtype=dtype)
            bias[units:2 * units] += 1.0
            return bias

        return with_forget_bias

    @property
    def kernel(self):
        return self._params["kernel"]

    @property
    def recurrent_kernel(self):
        return self._params["recurrent_kernel"]

    @property
    def bias(self):
        return self._params.get("bias")

    def compute_output_shape(self, input_shape):
        batch, steps = input_shape[0], input_shape[1]
        out = (batch, steps, self.units) if self.return_sequences else (batch, self.units)
        if self.return_state:
            return [out, (batch, self.units), (batch, self.units)]
        return out

    def output_lengths(self, lengths):
        return lengths if self.return_sequences else None

    # ----- state -----------------------------------------------------------------
    def reset_states(self, states=None):
        """Zero the carried state of a stateful layer, or set it to `states` = [h, c]."""
        if states is None:
            self.states = None
            return
        h, c = (np.ascontiguousarray(s, dtype=self.dtype) for s in states)
        if h.shape != c.shape or h.ndim != 2 or h.shape[1] != self.units:
            raise ValueError(f"states must be [h, c], each of shape (batch, {self.units}). "
                             f"Received: shapes {h.shape} and {c.shape}")
        self.states = [h, c]

    reset_state = reset_states

    def _initial_states(self, batch, initial_state):
        if initial_state is not None:
            h, c = (np.ascontiguousarray(s, dtype=self.dtype) for s in initial_state)
            if h.shape != (batch, self.units) or c.shape != (batch, self.units):
                raise ValueError(f"initial_state must be [h, c], each of shape ({batch}, {self.units}). "
                                 f"Received: shapes {h.shape} and {c.shape}")
            return h, c
        if self.stateful and self.states is not None:
            if self.states[0].shape[0] != batch:
                raise ValueError(f"Stateful LSTM {self.name!r} holds state for batch size "
                                 f"{self.states[0].shape[0]}. Received: a batch of {batch} "
                                 "(use a fixed batch size or call reset_states())")
            return self.states
        return None, None

    # ----- the two passes ------------------------------------------------------------
    def _dropout_mask(self, batch, features):
        rng = self._dropout_rng or backend.rng()
        keep = 1.0 - self.dropout
        mask = rng.random((batch, features), dtype=np.float64) < keep
        return mask.astype(self.dtype) / np.asarray(keep, self.dtype)

    def _input_mask(self, x, training):
        """The dropout mask of this call's inputs (None without dropout)."""
        if training and self.dropout > 0:
            return self._dropout_mask(x.shape[0], x.shape[2])
        return None

    def _run(self, x, training, lengths, keep_cache, reverse, initial_state=None, *,
             mask=_DRAW_MASK, threads=None, out=None):
        """Kernel call shared with Bidirectional: outputs aligned with input positions.

        Bidirectional draws both directions' masks first (`mask=`), so that
        running the two directions at once keeps the random stream in order,
        and gives each direction its half of one output buffer (`out=`).
        """
        if mask is _DRAW_MASK:
            mask = self._input_mask(x, training)
        if mask is not None:
            x = x * mask[:, None, :]
        h0, c0 = self._initial_states(x.shape[0], initial_state)
        # bfloat16 only where asked for and where it applies: float32 inference (lstmcore.precision)
        precision = ("bfloat16" if not keep_cache and x.dtype == np.float32
                     and get_inference_precision() == "bfloat16" else "float32")
        result = ops.lstm_forward(x, self._params["kernel"], self._params["recurrent_kernel"],
                                  self._params.get("bias"), h0=h0, c0=c0, lengths=lengths,
                                  reverse=reverse, training=keep_cache, threads=threads, out=out,
                                  precision=precision)
        if self.stateful:
            self.states = [result.h_n, result.c_n]
        # d_h0 and d_c0 only for a given initial state (a functional model's state inputs read
        # them as `state_gradients`); a shared layer's calls each keep their own cache
        self._cache = (result.cache, mask, initial_state is not None) if keep_cache else None
        return result

    def _run_backward(self, d_outputs, d_h_n, d_c_n, threads=None):
        """Backward of `_run`: fill the weight gradients, return d_x."""
        if self._cache is None:
            raise RuntimeError(f"LSTM {self.name!r}: backward() needs a forward(..., keep_cache=True) first")
        cache, mask, state_is_input = self._cache
        self._cache = None
        dtype = self.dtype
        grads = ops.lstm_backward(
            cache,
            None if d_outputs is None else ops.as_output_rows(d_outputs, dtype),
            None if d_h_n is None else np.ascontiguousarray(d_h_n, dtype=dtype),
            None if d_c_n is None else np.ascontiguousarray(d_c_n, dtype=dtype), threads=threads,
            initial_state_gradients=state_is_input)
        self._grads["kernel"][...] = grads.d_kernel
        self._grads["recurrent_kernel"][...] = grads.d_recurrent_kernel
        if self.use_bias:
            self._grads["bias"][...] = grads.d_bias
        self.state_gradients = (grads.d_h0, grads.d_c0)
        d_x = grads.d_x
        if mask is not None:
            d_x *= mask[:, None, :]
        return d_x

    def forward(self, x, training=False, lengths=None, keep_cache=None, initial_state=None):
        keep_cache = training if keep_cache is None else keep_cache
        result = self._run(x, training, lengths, keep_cache, self.go_backwards, initial_state)
        repeat_mask = None
        if self.return_sequences:
            outputs = result.outputs
            if lengths is not None and not self.zero_output_for_mask and not self.go_backwards:
                repeat_mask = _steps_mask(lengths, x.shape[1])
                last = result.h_n * (np.asarray(lengths) > 0)[:, None]
                outputs = np.where(repeat_mask[:, :, None], last[:, None, :], outputs)
            if self.go_backwards:
                # Keras returns go_backwards outputs in processing order: a flip of the
                # whole time axis (padded steps, processed first, come out as zeros).
                outputs = np.ascontiguousarray(outputs[:, ::-1])
        else:
            outputs = result.h_n
        if keep_cache:
            self._cache = self._cache + (repeat_mask, lengths)
        if self.return_state:
            return [outputs, result.h_n, result.c_n]
        return outputs

    def backward(self, grad):
        d_h_n = d_c_n = None
        if self.return_state:
            grad, d_h_n, d_c_n = (list(grad) + [None, None])[:3]
        if self._cache is None:
            raise RuntimeError(f"LSTM {self.name!r}: backward() needs a forward(..., keep_cache=True) first")
        repeat_mask, lengths = self._cache[3:]
        self._cache = self._cache[:3]
        d_outputs = None
        if not self.return_sequences:
            d_h_n = grad if d_h_n is None else grad + d_h_n
        elif grad is not None:
            d_outputs = grad[:, ::-1] if self.go_backwards else grad
            if repeat_mask is not None:
                # Repeated steps are copies of h_n: their gradient flows into it.
                valid = (np.asarray(lengths) > 0)[:, None]
                d_last = np.einsum("bt,bth->bh", repeat_mask.astype(d_outputs.dtype), d_outputs) * valid
                d_h_n = d_last if d_h_n is None else d_h_n + d_last
                d_outputs = np.where(repeat_mask[:, :, None], 0, d_outputs)
        return self._run_backward(d_outputs, d_h_n, d_c_n)

    def __call__(self, x, training=False, lengths=None, initial_state=None):
        x = self._prepare_input(x)
        self._maybe_build((None,) + x.shape[1:])
        return self.forward(x, training=training, lengths=lengths, keep_cache=False,
                            initial_state=initial_state)

    # ----- configuration ----------------------------------------------------------
    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units, activation=self.activation, recurrent_activation=self.recurrent_activation,
            use_bias=self.use_bias,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            recurrent_initializer=initializers.serialize(self.recurrent_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            unit_forget_bias=self.unit_forget_bias,
            kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
            recurrent_regularizer=regularizers.serialize(self.recurrent_regularizer),
            bias_regularizer=regularizers.serialize(self.bias_regularizer),
            dropout=self.dropout, recurrent_dropout=self.recurrent_dropout,
            return_sequences=self.return_sequences, return_state=self.return_state,
            go_backwards=self.go_backwards, stateful=self.stateful,
            zero_output_for_mask=self.zero_output_for_mask, seed=self.seed, unroll=self.unroll)
        return config

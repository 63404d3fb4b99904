"""Conv1D: motif detectors over sequences (DanQ's and DeepBind's first layer).

The convolution is one matrix product: the windows of the padded input are
copied into a (batch * out_steps, kernel_size * channels) matrix (im2col)
and multiplied by the kernel seen as (kernel_size * channels, filters), so
OpenBLAS does the work.  The backward pass is two more products: the kernel
gradient `windows.T @ d_out` and the window gradients `d_out @ kernel.T`,
added back onto the steps one kernel tap at a time (col2im).
"""
from __future__ import annotations

import numpy as np

from .. import activations, initializers, regularizers
from .._products import matmul
from .base import KernelAndBias, Layer, check_bool, check_positive_int, column_sums
from .steps import step_mask
from .windows import (add_tap_gradients, check_int_or_singleton, check_padding, output_lengths,
                      output_steps, pad_steps, padding_amounts, window_view)

__all__ = ["Conv1D", "check_channels_last", "check_unsupported"]


def check_channels_last(data_format):
    """Accept Keras's default layout only: (batch, steps, channels)."""
    if data_format not in (None, "channels_last"):
        raise ValueError("data_format must be 'channels_last' (inputs are (batch, steps, channels)). "
                         f"Received: data_format={data_format!r}")
    return "channels_last"


def check_unsupported(**options):
    """Raise for Keras options lstmcore does not implement when they are set (None is accepted)."""
    for name, value in options.items():
        if value is not None:
            raise ValueError(f"{name} is not supported by lstmcore; leave it None. Received: {name}={value!r}")


class Conv1D(KernelAndBias, Layer):
    """1-D convolution over the steps: `activation(conv(x, kernel) + bias)`, as keras.layers.Conv1D.

    Args:
        filters: positive int, number of output channels.
        kernel_size: positive int (or a tuple of one), window width in steps.
        strides: default 1.
        padding: "valid" (default), "same" (output steps ceil(steps / strides)) or
            "causal" (left padding only: output t sees inputs up to t * strides).
        dilation_rate: default 1: spacing between the kernel's taps.
        activation: None (linear, default), 'relu', 'sigmoid', 'tanh' or 'softmax'.
        use_bias: default True.
        kernel_initializer: default 'glorot_uniform'; bias_initializer: default 'zeros'.
        kernel_regularizer, bias_regularizer: None (default), 'l1', 'l2', 'l1_l2' or a Regularizer.
        data_format: None or 'channels_last' only.  groups: 1 only.

    Weights: `kernel` (kernel_size, in_channels, filters) and `bias` (filters,), Keras's
    shapes (a PyTorch Conv1d weight is `kernel.transpose(2, 1, 0)`).

    Input (batch, steps, channels); output (batch, out_steps, filters).

    Lengths: steps past a sequence's length are zeroed before the convolution,
    so they never reach a real output.  The output lengths are, per sequence of
    length L with span = (kernel_size - 1) * dilation_rate + 1:
    "same" / "causal": ceil(L / strides) (L itself with strides 1), and those
    outputs equal the sequence's own (for "same" with strides > 1 the split of
    the padding depends on the batch's step count, as in Keras);
    "valid": max((L - span) // strides + 1, 0), the windows wholly inside it.

    Example::

        >>> import numpy as np
        >>> from lstmcore.layers import Conv1D
        >>> Conv1D(8, 5, padding="same", activation="relu")(np.zeros((2, 20, 4), np.float32)).shape
        (2, 20, 8)
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        check_unsupported(activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
                          bias_constraint=bias_constraint)
        if groups != 1:
            raise ValueError(f"groups must be 1 (grouped convolutions are not supported). Received: groups={groups!r}")
        self.filters = check_positive_int("filters", filters)
        self.kernel_size = check_int_or_singleton("kernel_size", kernel_size)
        self.strides = check_int_or_singleton("strides", strides)
        self.dilation_rate = check_int_or_singleton("dilation_rate", dilation_rate)
        self.padding = check_padding(padding, ("valid", "same", "causal"))
        self.data_format = check_channels_last(data_format)
        self.activation = activations.get(activation)
        self.use_bias = check_bool("use_bias", use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer, "kernel_initializer")
        self.bias_initializer = initializers.get(bias_initializer, "bias_initializer")
        self.kernel_regularizer = regularizers.get(kernel_regularizer, "kernel_regularizer")
        self.bias_regularizer = regularizers.get(bias_regularizer, "bias_regularizer")

    @property
    def span(self):
        """Input steps one window covers, dilation included."""
        return (self.kernel_size - 1) * self.dilation_rate + 1

    def build(self, input_shape):
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError(f"Conv1D {self.name!r} expects input of shape (batch, steps, channels) with known "
                             f"channels. Received: input_shape={tuple(input_shape)}")
        self._add_kernel_and_bias((self.kernel_size, int(input_shape[-1]), self.filters), self.filters)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        steps = output_steps(input_shape[1], self.span, self.strides, self.padding)
        return (input_shape[0], steps, self.filters)

    def output_lengths(self, lengths):
        return output_lengths(lengths, self.span, self.strides, self.padding)

    def _windows(self, x):
        """The im2col matrix (batch * out_steps, kernel_size * channels) and the padding used."""
        batch, steps, channels = x.shape
        left, right = padding_amounts(steps, self.span, self.strides, self.padding)
        out = output_steps(steps, self.span, self.strides, self.padding)
        if out == 0:
            raise ValueError(f"Conv1D {self.name!r} needs at least {self.span} steps with padding='valid'. "
                             f"Received: {steps} steps")
        padded = pad_steps(x, left, right)
        view = window_view(padded, out, self.kernel_size, self.dilation_rate, self.strides)
        return np.ascontiguousarray(view).reshape(batch * out, self.kernel_size * channels), (left, right)

    def forward(self, x, training=False, lengths=None, keep_cache=None):
        keep_cache = training if keep_cache is None else keep_cache
        if x.ndim != 3:
            raise ValueError(f"Conv1D {self.name!r} expects input of shape (batch, steps, channels). "
                             f"Received: x.shape={x.shape}")
        mask = step_mask(x, lengths)
        if mask is not None:
            x = x * mask
        cols, pads = self._windows(x)
        z = matmul(cols, self._params["kernel"].reshape(cols.shape[1], self.filters))
        if self.use_bias:
            z += self._params["bias"]
        out = self.activation.forward(z)
        self._cache = (cols, out, x.shape, pads, mask) if keep_cache else None
        return out.reshape(x.shape[0], -1, self.filters)

    def backward(self, grad):
        cols, out, x_shape, (left, right), mask = self._cache
        self._cache = None
        d_z = self.activation.backward(out, grad.reshape(out.shape))
        kernel_shape = self._params["kernel"].shape
        matmul(cols.T, d_z, out=self._grads["kernel"].reshape(cols.shape[1], self.filters))
        if self.use_bias:
            column_sums(d_z, out=self._grads["bias"])
        batch, steps, channels = x_shape
        d_cols = matmul(d_z, self._params["kernel"].reshape(cols.shape[1], self.filters).T)
        d_cols = d_cols.reshape(batch, -1, kernel_shape[0], channels)
        d_padded = add_tap_gradients(d_cols, (batch, steps + left + right, channels), self.dilation_rate,
                                     self.strides)
        d_x = np.ascontiguousarray(d_padded[:, left:left + steps])
        if mask is not None:
            d_x *= mask
        return d_x

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, kernel_size=self.kernel_size, strides=self.strides,
                      padding=self.padding, data_format=self.data_format, dilation_rate=self.dilation_rate,
                      activation=activations.serialize(self.activation), use_bias=self.use_bias,
                      kernel_initializer=initializers.serialize(self.kernel_initializer),
                      bias_initializer=initializers.serialize(self.bias_initializer),
                      kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
                      bias_regularizer=regularizers.serialize(self.bias_regularizer))
        return config

"""Wrappers: Bidirectional (an LSTM both ways) and TimeDistributed."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .._threads import get_num_threads
from .base import Layer
from .lstm import LSTM

__all__ = ["Bidirectional", "TimeDistributed"]

_MERGE_MODES = ("concat", "sum", "mul", "ave", None)

# Below this much work (batch x steps x units) one direction after the other is
# quicker than handing one to another Python thread.
_CONCURRENT_MIN_WORK = 65536
_second_direction = None


def _run_both(first, second, work):
    """Run two kernel calls, at once when there are threads and work to share.

    The kernels release the GIL, so the second direction runs on a helper
    Python thread while this one runs the first; each gets half the native
    threads, which at 2 threads means no OpenMP team (and no barrier) at all.
    Returns (first(threads), second(threads)).
    """
    global _second_direction
    threads = get_num_threads()
    if threads < 2 or work < _CONCURRENT_MIN_WORK:
        return first(None), second(None)
    if _second_direction is None:
        _second_direction = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lstmcore-bidirectional")
    pending = _second_direction.submit(second, threads - threads // 2)
    return first(threads // 2), pending.result()


class Bidirectional(Layer):
    """Run an LSTM forwards and backwards over each sequence and merge the two.

    The backward copy reverses each sequence inside its own length, so with
    padded batches both directions see only real steps, and its outputs are
    aligned with the input positions before merging (as Keras and PyTorch do).
    With lengths, outputs past a sequence's length are zeros (Keras's
    Bidirectional behaviour).

    Args:
        layer: an `LSTM`; its config defines the forward direction.
        merge_mode: 'concat' (default), 'sum', 'mul', 'ave', or None (a list
            [forward, backward]; only usable as a model's last layer).
        backward_layer: optional `LSTM` for the backward direction; by default a
            copy of `layer`'s config with go_backwards flipped and fresh weights.

    Weights, in Keras order: the forward layer's (kernel, recurrent_kernel,
    bias) then the backward layer's.

    Example::

        >>> import numpy as np
        >>> from lstmcore.layers import Bidirectional, LSTM
        >>> Bidirectional(LSTM(8, return_sequences=True))(np.zeros((2, 6, 4), np.float32)).shape
        (2, 6, 16)
    """

    def __init__(self, layer, merge_mode="concat", backward_layer=None, **kwargs):
        if not isinstance(layer, LSTM):
            raise ValueError(f"layer must be an LSTM layer. Received: layer={layer!r}")
        if merge_mode not in _MERGE_MODES:
            raise ValueError("merge_mode must be 'concat', 'sum', 'mul', 'ave' or None. "
                             f"Received: merge_mode={merge_mode!r}")
        if layer.stateful:
            raise ValueError("layer must not be stateful inside Bidirectional. Received: layer.stateful=True")
        if layer.return_state:
            raise ValueError("layer must not use return_state inside Bidirectional. "
                             "Received: layer.return_state=True")
        kwargs.setdefault("input_shape", layer._input_shape_arg)
        super().__init__(**kwargs)
        self.merge_mode = merge_mode
        self.forward_layer = self._copy(layer, "forward", layer.go_backwards)
        if backward_layer is None:
            backward_layer = self._copy(layer, "backward", not layer.go_backwards)
        elif not isinstance(backward_layer, LSTM):
            raise ValueError(f"backward_layer must be an LSTM layer. Received: backward_layer={backward_layer!r}")
        elif backward_layer.return_sequences != layer.return_sequences:
            raise ValueError("backward_layer must have the same return_sequences as layer. "
                             f"Received: backward_layer.return_sequences={backward_layer.return_sequences}")
        self.backward_layer = backward_layer
        self.return_sequences = layer.return_sequences
        self.units = layer.units

    @staticmethod
    def _copy(layer, direction, go_backwards):
        config = layer.get_config()
        config.update(name=f"{direction}_{layer.name}", go_backwards=go_backwards,
                      zero_output_for_mask=True)
        config.pop("input_shape", None)
        return LSTM.from_config(config)

    def _sublayers(self):
        return [self.forward_layer, self.backward_layer]

    @property
    def weight_names(self):
        return ([f"forward.{n}" for n in self.forward_layer.weight_names]
                + [f"backward.{n}" for n in self.backward_layer.weight_names])

    def build(self, input_shape):
        self.forward_layer._set_model_dtype(self.dtype)
        self.backward_layer._set_model_dtype(self.dtype)
        self.forward_layer.build(input_shape)
        self.backward_layer.build(input_shape)
        super().build(input_shape)

    def _set_model_dtype(self, dtype):
        if self._explicit_dtype is None and not self.built:
            self.dtype = dtype

    def compute_output_shape(self, input_shape):
        batch, steps = input_shape[0], input_shape[1]
        width = 2 * self.units if self.merge_mode == "concat" else self.units
        shape = (batch, steps, width) if self.return_sequences else (batch, width)
        if self.merge_mode is None:
            half = (batch, steps, self.units) if self.return_sequences else (batch, self.units)
            return [half, half]
        return shape

    def output_lengths(self, lengths):
        return lengths if self.return_sequences else None

    def forward(self, x, training=False, lengths=None, keep_cache=None):
        keep_cache = training if keep_cache is None else keep_cache
        # masks drawn in a fixed order, before the directions may run at once
        masks = [layer._input_mask(x, training) for layer in (self.forward_layer, self.backward_layer)]

        # concatenated sequences: each direction writes its half of one buffer
        both, halves = None, (None, None)
        if self.merge_mode == "concat" and self.return_sequences:
            split = self.forward_layer.units
            both = np.empty(x.shape[:2] + (split + self.backward_layer.units,), x.dtype)
            halves = (both[..., :split], both[..., split:])

        def direction(layer, reverse, mask, out):
            def run(threads):
                result = layer._run(x, training, lengths, keep_cache, reverse, mask=mask,
                                    threads=threads, out=out)
                return result.outputs if self.return_sequences else result.h_n
            return run

        fwd, bwd = _run_both(direction(self.forward_layer, False, masks[0], halves[0]),
                             direction(self.backward_layer, True, masks[1], halves[1]),
                             x.shape[0] * x.shape[1] * self.units)
        if both is not None:
            return both
        if keep_cache and self.merge_mode == "mul":
            self._cache = (fwd, bwd)
        if self.merge_mode == "concat":
            return np.concatenate((fwd, bwd), axis=-1)
        if self.merge_mode == "sum":
            return fwd + bwd
        if self.merge_mode == "mul":
            return fwd * bwd
        if self.merge_mode == "ave":
            return (fwd + bwd) * 0.5
        return [fwd, bwd]

    def backward(self, grad):
        mode = self.merge_mode
        if mode == "concat":
            d_fwd, d_bwd = grad[..., :self.units], grad[..., self.units:]
        elif mode == "sum":
            d_fwd = d_bwd = grad
        elif mode == "ave":
            d_fwd = d_bwd = grad * 0.5
        elif mode == "mul":
            fwd, bwd = self._cache
            self._cache = None
            d_fwd, d_bwd = grad * bwd, grad * fwd
        else:
            d_fwd, d_bwd = grad
        def direction(layer, d):
            def run(threads):
                if d is None:
                    return None
                if self.return_sequences:
                    return layer._run_backward(d, None, None, threads=threads)
                return layer._run_backward(None, d, None, threads=threads)
            return run

        work = d_fwd.size if d_fwd is not None else (d_bwd.size if d_bwd is not None else 0)
        d_from_fwd, d_from_bwd = _run_both(direction(self.forward_layer, d_fwd),
                                           direction(self.backward_layer, d_bwd), work)
        if d_from_fwd is None:
            return d_from_bwd
        return d_from_fwd if d_from_bwd is None else d_from_fwd + d_from_bwd

    def get_config(self):
        config = super().get_config()
        layer_config = self.forward_layer.get_config()
        layer_config["name"] = layer_config["name"][len("forward_"):]
        config.update(layer={"class_name": "LSTM", "config": layer_config}, merge_mode=self.merge_mode)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        layer_spec = config.pop("layer")
        return cls(LSTM.from_config(layer_spec["config"]), **config)


class TimeDistributed(Layer):
    """Apply a layer to every time step: (batch, steps, ...) -> (batch, steps, ...).

    Dense already works per step on 3-D input; this wrapper exists so Keras
    scripts that write `TimeDistributed(Dense(n))` run unchanged.
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer) or isinstance(layer, (LSTM, Bidirectional)):
            raise ValueError(f"layer must be a per-sample layer such as Dense. Received: layer={layer!r}")
        kwargs.setdefault("input_shape", layer._input_shape_arg)
        super().__init__(**kwargs)
        self.layer = layer

    def _sublayers(self):
        return [self.layer]

    def _set_model_dtype(self, dtype):
        if self._explicit_dtype is None and not self.built:
            self.dtype = dtype
        self.layer._set_model_dtype(self.dtype)

    def build(self, input_shape):
        self.layer.build((None,) + tuple(input_shape[2:]))
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        inner = self.layer.compute_output_shape((None,) + tuple(input_shape[2:]))
        return tuple(input_shape[:2]) + tuple(inner[1:])

    def forward(self, x, training=False, lengths=None, keep_cache=None):
        batch, steps = x.shape[:2]
        flat = x.reshape((batch * steps,) + x.shape[2:])
        out = self.layer.forward(flat, training=training, keep_cache=keep_cache)
        return out.reshape((batch, steps) + out.shape[1:])

    def backward(self, grad):
        batch, steps = grad.shape[:2]
        d = self.layer.backward(grad.reshape((batch * steps,) + grad.shape[2:]))
        return None if d is None else d.reshape((batch, steps) + d.shape[1:])

    def get_config(self):
        config = super().get_config()
        config["layer"] = {"class_name": type(self.layer).__name__, "config": self.layer.get_config()}
        return config

    @classmethod
    def from_config(cls, config):
        from . import deserialize

        config = dict(config)
        return cls(deserialize(config.pop("layer")), **config)

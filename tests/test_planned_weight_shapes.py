"""`planned_weight_shapes`: the weights a layer would create for an input shape, learnt without allocating them
(what model-file validation compares with a file's tensors before the real build, issue 20)."""
import threading
import tracemalloc

import numpy as np
import pytest

from lstmcore import layers as L
from lstmcore.layers.base import Layer, planned_weight_shapes

# (a layer, the input shape it is built for): every class of lstmcore.layers that creates weights, in the
# variants that change which weights it creates
LAYERS = {
    "LSTM": (lambda: L.LSTM(3), (None, 7, 4)),
    "LSTM without bias": (lambda: L.LSTM(3, use_bias=False), (None, 7, 4)),
    "Bidirectional": (lambda: L.Bidirectional(L.LSTM(3, return_sequences=True), merge_mode="sum"), (None, 7, 4)),
    "Dense": (lambda: L.Dense(5), (None, 6)),
    "Dense on sequences": (lambda: L.Dense(5, use_bias=False), (None, 7, 6)),
    "Conv1D": (lambda: L.Conv1D(5, 3), (None, 9, 4)),
    "Embedding": (lambda: L.Embedding(11, 3), (None, 6)),
    "BatchNormalization": (lambda: L.BatchNormalization(), (None, 7, 4)),
    "BatchNormalization without scale": (lambda: L.BatchNormalization(scale=False), (None, 4)),
    "LayerNormalization": (lambda: L.LayerNormalization(center=False), (None, 7, 4)),
    "TimeDistributed": (lambda: L.TimeDistributed(L.Dense(3)), (None, 5, 6)),
}


@pytest.mark.parametrize("case", sorted(LAYERS))
def test_the_plan_is_what_the_real_build_creates(case):
    make, shape = LAYERS[case]
    real = make()
    real.build(shape)
    planned_layer = make()
    planned = planned_weight_shapes(planned_layer, shape)
    assert planned == [(name, weight.shape) for name, weight in zip(real.weight_names, real.weights)]
    assert planned  # every case creates weights
    assert not planned_layer.built and planned_layer.weights == []  # left as it was, unbuilt


def test_planning_a_51_gb_kernel_allocates_nothing():
    lstm = L.LSTM(320)
    tracemalloc.start()
    try:
        planned = planned_weight_shapes(lstm, (None, None, 10 ** 7))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert planned == [("kernel", (10 ** 7, 1280)), ("recurrent_kernel", (320, 1280)), ("bias", (1280,))]
    assert peak < 2 ** 20, peak


def test_a_shape_beyond_any_address_space_is_still_planned():
    """(2^24)^3 float32 is more bytes than numpy can index; the plan holds the shape all the same."""
    planned = planned_weight_shapes(L.Conv1D(2 ** 24, 2 ** 24, use_bias=False), (None, None, 2 ** 24))
    assert planned == [("kernel", (2 ** 24, 2 ** 24, 2 ** 24))]


def test_a_built_layer_is_refused_and_keeps_its_weights():
    dense = L.Dense(2)
    dense.build((None, 3))
    kernel = dense.kernel.copy()
    with pytest.raises(ValueError, match="is built already"):
        planned_weight_shapes(dense, (None, 3))
    np.testing.assert_array_equal(dense.kernel, kernel)


def test_a_shape_the_build_rejects_raises_as_the_build_does():
    layer = L.LSTM(3)
    with pytest.raises(ValueError, match="expects input of shape"):
        planned_weight_shapes(layer, (None, 4))
    assert layer.__dict__.get("add_weight") is None and not layer.built  # restored after a failure too


class _PausingLayer(Layer):
    """Creates one weight, then waits inside build until told to go on."""

    inside = threading.Event()
    go_on = threading.Event()

    def build(self, input_shape):
        self.add_weight("kernel", (int(input_shape[-1]), 2), "ones")
        if getattr(self, "pause", False):
            type(self).inside.set()
            assert type(self).go_on.wait(10)
        super().build(input_shape)


def test_a_plan_in_one_thread_leaves_real_builds_in_another_alone():
    """The recording add_weight belongs to the planned instance only: a layer of the same class built meanwhile,
    on another thread, gets its real, initialised weights."""
    planned_layer = _PausingLayer()
    planned_layer.pause = True
    result = {}
    worker = threading.Thread(target=lambda: result.update(plan=planned_weight_shapes(planned_layer, (None, 5))))
    worker.start()
    try:
        assert _PausingLayer.inside.wait(10)
        real = _PausingLayer()
        real.build((None, 5))
    finally:
        _PausingLayer.go_on.set()
        worker.join(10)
    np.testing.assert_array_equal(real.weights[0], np.ones((5, 2), np.float32))
    assert real.weights[0].strides != (0, 0)
    assert result["plan"] == [("kernel", (5, 2))]

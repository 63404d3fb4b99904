"""Shared checks for layer tests: gradients by central finite differences, and save/load round trips.

A layer's analytic gradients (input and trainable weights) are compared with
central differences of the scalar `sum(forward(x) * upstream)` for a fixed
random `upstream`, in float64, at a sample of entries.
"""
import numpy as np

import lstmcore as lc

EPS = 1e-6


def ensure_built(layer, inputs):
    """Build the layer for these inputs (one array, or a list for merge layers) if it is not built."""
    if not layer.built:
        shapes = [(None,) + a.shape[1:] for a in inputs] if isinstance(inputs, list) else (None,) + inputs.shape[1:]
        layer.build(shapes)
    return layer


def analytic_gradients(layer, inputs, upstream, lengths=None, training=False):
    """(output, input gradients, {weight name: gradient}) from one forward and backward pass."""
    ensure_built(layer, inputs)
    out = layer.forward(inputs, training=training, lengths=lengths, keep_cache=True)
    d_inputs = layer.backward(np.array(upstream, copy=True))
    weight_grads = {f"{leaf.name}.{name}": leaf._grads[name].copy()
                    for leaf, name in layer._trainable_weight_slots()}
    return out, d_inputs, weight_grads


def _probe_indices(array, probes, rng):
    flat = rng.choice(array.size, size=min(probes, array.size), replace=False)
    return [np.unravel_index(k, array.shape) for k in flat]


def _central_difference(loss, array, index):
    keep = array[index]
    array[index] = keep + EPS
    up = loss()
    array[index] = keep - EPS
    down = loss()
    array[index] = keep
    return (up - down) / (2 * EPS)


def check_numeric_gradients(layer, inputs, lengths=None, training=False, probes=25, seed=0,
                            rtol=1e-6, atol=1e-8, skip=None, output_lengths=None):
    """Assert the layer's input and weight gradients match central differences (float64 inputs).

    skip(array_position, index) -> True leaves out probes at non-smooth points.
    output_lengths: leave the output steps past these lengths out of the loss
    (for layers whose padded outputs are "don't care" and get no gradient).
    """
    rng = np.random.default_rng(seed)
    multi = isinstance(inputs, list)
    ensure_built(layer, inputs)
    out = layer.forward(inputs, training=training, lengths=lengths, keep_cache=False)
    upstream = rng.standard_normal(out.shape)
    if output_lengths is not None:
        upstream[np.arange(out.shape[1])[None, :] >= np.asarray(output_lengths)[:, None]] = 0
    _, d_inputs, weight_grads = analytic_gradients(layer, inputs, upstream, lengths, training)

    def loss():
        return float((layer.forward(inputs, training=training, lengths=lengths, keep_cache=False)
                      * upstream).sum())

    arrays, grads = (inputs, d_inputs) if multi else ([inputs], [d_inputs])
    for position, (array, grad) in enumerate(zip(arrays, grads)):
        assert grad.shape == array.shape
        for index in _probe_indices(array, probes, rng):
            if skip is not None and skip(position, index):
                continue
            np.testing.assert_allclose(grad[index], _central_difference(loss, array, index), rtol=rtol,
                                       atol=atol, err_msg=f"input {position} entry {index}")
    for leaf, name in layer._trainable_weight_slots():
        weight, grad = leaf._params[name], weight_grads[f"{leaf.name}.{name}"]
        for index in _probe_indices(weight, probes, rng):
            np.testing.assert_allclose(grad[index], _central_difference(loss, weight, index), rtol=rtol,
                                       atol=atol, err_msg=f"weight {name} entry {index}")


def assert_config_round_trip(layer):
    """from_config(get_config()) rebuilds a layer with the same config."""
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    return clone


def assert_save_load_identical(model, x, path):
    """Saving a Sequential and loading it back gives bit-identical predictions."""
    expected = model.predict(x, verbose=0)
    model.save(path)
    loaded = lc.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)
    return loaded

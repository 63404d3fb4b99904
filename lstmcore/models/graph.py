"""A functional model's graph: its nodes in running order, and the forward and backward passes over them.

The graph is what `Input` and layer calls recorded (`lstmcore.layers.symbolic`).
The forward pass runs the nodes in order, keeping each tensor's array and
sequence lengths; the backward pass runs them in reverse, summing the
gradients of a tensor that feeds several nodes.  A layer called more than
once (a shared layer) keeps one cache per call: after each call the graph
takes the caches off the layer (and its sub-layers, for wrappers) and puts
them back before that call's backward pass, and the weight gradients of
the calls are summed.
"""
from __future__ import annotations

import numpy as np

from ..layers.base import InputLayer, layer_tree

__all__ = ["running_order", "run_forward", "run_backward", "unique_layers"]


def running_order(inputs, outputs):
    """The nodes that lead from `inputs` to `outputs`, each after the nodes it reads from."""
    order, state = [], {}

    def visit(node):
        mark = state.get(id(node))
        if mark == "done":
            return
        if mark == "visiting":
            raise ValueError(f"The graph has a cycle through layer {node.layer.name!r}")
        state[id(node)] = "visiting"
        for parent in node.parents:
            visit(parent)
        state[id(node)] = "done"
        order.append(node)

    for tensor in outputs:
        visit(tensor.node)
    input_ids = {tensor.id for tensor in inputs}
    for node in order:
        if isinstance(node.layer, InputLayer) and node.outputs[0].id not in input_ids:
            raise ValueError(f"The outputs depend on the input {node.layer.name!r}, which is not among the "
                             "model's inputs; pass it in Model(inputs=[...])")
    return [node for node in order if not isinstance(node.layer, InputLayer)]


def unique_layers(inputs, nodes):
    """The model's layers in Keras's order: its input layers, then each layer at its first call."""
    layers, seen = [], set()
    for layer in [tensor.node.layer for tensor in inputs] + [node.layer for node in nodes]:
        if id(layer) not in seen:
            seen.add(id(layer))
            layers.append(layer)
    return layers


def _node_arguments(node, values):
    """The (x, lengths, keyword arguments) a node's layer is called with."""
    arrays = [values[tensor.id] for tensor in node.inputs]
    if node.several:
        x = [array for array, _ in arrays]
        lengths = next((lengths for _, lengths in arrays if lengths is not None), None)
    else:
        x, lengths = arrays[0]
    kwargs = {}
    if node.state_inputs:
        kwargs["initial_state"] = [values[tensor.id][0] for tensor in node.state_inputs]
    return x, lengths, kwargs


def run_forward(inputs, nodes, arrays, lengths, training, keep_cache):
    """Run the graph on `arrays` (one per input); returns ({tensor id: (array, lengths)}, per-node caches)."""
    values = {tensor.id: (array, lengths) for tensor, array in zip(inputs, arrays)}
    caches = []
    for node in nodes:
        x, in_lengths, kwargs = _node_arguments(node, values)
        out = node.layer.forward(x, training=training, lengths=in_lengths, keep_cache=keep_cache, **kwargs)
        out_lengths = node.layer.output_lengths(in_lengths)
        outs = out if isinstance(out, list) else [out]
        for tensor, array in zip(node.outputs, outs):
            values[tensor.id] = (array, out_lengths if tensor.index == 0 else None)
        if keep_cache:
            caches.append([(layer, layer._cache) for layer in layer_tree(node.layer)])
    return values, caches


def _add(gradients, tensor, grad):
    if grad is None:
        return
    current = gradients.get(tensor.id)
    gradients[tensor.id] = grad if current is None else current + grad


def _node_output_gradient(node, gradients, values):
    """The gradient a node's backward takes: one array, or a list for a layer with several outputs."""
    grads = [gradients.get(tensor.id) for tensor in node.outputs]
    grads = [np.zeros_like(values[tensor.id][0]) if grad is None else grad
             for tensor, grad in zip(node.outputs, grads)]
    return grads if len(grads) > 1 else grads[0]


def run_backward(inputs, outputs, nodes, caches, values, output_grads):
    """Backpropagate `output_grads` (one per output) through the graph; returns one gradient per input
    (None for an input that takes none, such as integer tokens).  Weight gradients are written into the
    layers' gradient buffers (summed over the calls of a shared layer)."""
    gradients = {}
    for tensor, grad in zip(outputs, output_grads):
        _add(gradients, tensor, grad)
    touched = set()
    for node, cache in zip(reversed(nodes), reversed(caches)):
        if all(gradients.get(tensor.id) is None for tensor in node.outputs):
            continue
        for layer, saved in cache:
            layer._cache = saved
        layer = node.layer
        earlier = [g.copy() for g in layer.gradients] if id(layer) in touched else None
        d_inputs = layer.backward(_node_output_gradient(node, gradients, values))
        if earlier is not None:
            for grad, before in zip(layer.gradients, earlier):
                grad += before
        touched.add(id(layer))
        d_inputs = d_inputs if node.several else [d_inputs]
        for tensor, grad in zip(node.inputs, d_inputs):
            _add(gradients, tensor, grad)
        if node.state_inputs:
            for tensor, grad in zip(node.state_inputs, layer.state_gradients):
                _add(gradients, tensor, grad)
    return [gradients.get(tensor.id) for tensor in inputs]

"""Symbolic tensors: what `Input(...)` returns and what a layer called on one returns.

The functional API records a graph, as Keras does: calling a layer on a
`KerasTensor` builds the layer for that tensor's shape and returns new
`KerasTensor`s that remember the call (a `Node`: the layer, its input
tensors, and any `initial_state` tensors of an LSTM).  No arithmetic runs;
`lstmcore.models.Model(inputs, outputs)` later walks the nodes from the
outputs back to the inputs and runs them in order.
"""
from __future__ import annotations

import functools
import itertools

__all__ = ["KerasTensor", "Node", "is_symbolic", "call_symbolically", "dispatching"]

_tensor_ids = itertools.count()


class KerasTensor:
    """A placeholder for an array of a known shape (batch axis None) inside a functional graph.

    Attributes:
        shape: the full shape, batch axis first (None when not fixed).
        dtype: the dtype the producing layer runs in (an `Input` may declare "int32" for tokens).
        node: the `Node` that produced it; `index` which of that node's outputs it is.
    """

    def __init__(self, shape, dtype, node, index=0, name=None):
        self.shape = tuple(shape)
        self.dtype = dtype
        self.node = node
        self.index = index
        self.name = name or f"{node.layer.name}_{index}" if node is not None else name
        self.id = next(_tensor_ids)

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name!r}>"

    def __iter__(self):
        raise TypeError("A KerasTensor is a placeholder of a functional graph, not an array: it cannot be "
                        "iterated. Call layers on it, then build lstmcore.Model(inputs, outputs)")

    def __array__(self, *args, **kwargs):
        raise TypeError("A KerasTensor is a placeholder of a functional graph, not an array: build "
                        "lstmcore.Model(inputs, outputs) and call predict/fit on real arrays")


class Node:
    """One call of a layer in a functional graph.

    `inputs` are the tensors the layer was called on (one, or several for a
    merge layer, `several` telling which), `state_inputs` the tensors passed as
    `initial_state` (an LSTM's [h, c]), `outputs` the tensors it returned.
    """

    def __init__(self, layer, inputs, several, state_inputs=()):
        self.layer = layer
        self.inputs = list(inputs)
        self.several = several
        self.state_inputs = list(state_inputs)
        self.outputs = []

    @property
    def parents(self):
        return [tensor.node for tensor in self.inputs + self.state_inputs if tensor.node is not None]

    def __repr__(self):
        return f"<Node {self.layer.name} inputs={[t.name for t in self.inputs]}>"


def is_symbolic(x):
    """Whether `x` is a KerasTensor or a list/tuple holding one."""
    if isinstance(x, KerasTensor):
        return True
    return isinstance(x, (list, tuple)) and any(isinstance(item, KerasTensor) for item in x)


def _checked_tensors(layer, x):
    items = list(x) if isinstance(x, (list, tuple)) else [x]
    for item in items:
        if not isinstance(item, KerasTensor):
            raise TypeError(f"Layer {layer.name!r} was called on a mix of symbolic tensors and "
                            f"{type(item).__name__}; in a functional model every input must come from Input() "
                            "or another layer")
    return items


def call_symbolically(layer, x, initial_state=None):
    """Record `layer(x)` in the graph: build the layer for x's shape, return the output tensor(s)."""
    inputs = _checked_tensors(layer, x)
    several = isinstance(x, (list, tuple))
    states = [] if initial_state is None else _checked_tensors(layer, initial_state)
    shape = [t.shape for t in inputs] if several else inputs[0].shape
    if not layer.built:
        if layer._explicit_dtype is None and inputs[0].dtype in ("float32", "float64"):
            layer._set_model_dtype(inputs[0].dtype)
        layer.build(shape)
    out_shape = layer.compute_output_shape(shape)
    node = Node(layer, inputs, several, states)
    shapes = out_shape if isinstance(out_shape, list) else [out_shape]
    node.outputs = [KerasTensor(s, layer.dtype, node, index=i) for i, s in enumerate(shapes)]
    record_call(layer, node)
    return list(node.outputs) if isinstance(out_shape, list) else node.outputs[0]


def dispatching(call):
    """Wrap a layer's `__call__` so that symbolic inputs record a graph call instead of computing."""
    if getattr(call, "_dispatches_symbolic", False):
        return call

    @functools.wraps(call)
    def __call__(layer, x, *args, **kwargs):
        if is_symbolic(x):
            unknown = set(kwargs) - {"initial_state", "training"}
            if args or unknown:
                raise TypeError(f"Layer {layer.name!r} called on symbolic tensors takes only the inputs, "
                                f"training= and initial_state=. Received: {sorted(unknown) or args}")
            return call_symbolically(layer, x, initial_state=kwargs.get("initial_state"))
        return call(layer, x, *args, **kwargs)

    __call__._dispatches_symbolic = True
    return __call__


def record_call(layer, node):
    """Remember a graph call on the layer, for Keras's `layer.input` / `layer.output`."""
    layer.__dict__.setdefault("_inbound_nodes", []).append(node)


def only_call(layer, what):
    """The layer's single graph call (`layer.output` is defined only for a layer called once)."""
    nodes = layer.__dict__.get("_inbound_nodes", [])
    if not nodes:
        raise AttributeError(f"Layer {layer.name!r} has not been called on a symbolic tensor, so it has no {what}")
    if len(nodes) > 1:
        raise AttributeError(f"Layer {layer.name!r} has been called {len(nodes)} times (a shared layer), so its "
                             f"{what} is ambiguous; keep the tensors its calls returned instead")
    return nodes[0]

"""A functional model's graph as JSON (for model files and `get_config`), and back; its summary rows.

Each layer is listed once with its config and its calls ("inbound nodes"):
each call names the tensors it read as [layer name, call index, output
index], as Keras's configs do, so a shared layer lists several calls.
Inputs keep their dtype, so an integer token input stays one.
"""
from __future__ import annotations

from .. import layers as layers_module
from ..layers.base import Input, InputLayer

__all__ = ["functional_config", "rebuild", "summary_rows"]


def _call_index(model):
    """{node id: (layer name, index of that call among the layer's calls in this model)}."""
    counts, index = {}, {}
    for tensor in model.inputs:
        index[id(tensor.node)] = (tensor.node.layer.name, 0)
    for node in model._nodes:
        name = node.layer.name
        index[id(node)] = (name, counts.get(name, 0))
        counts[name] = counts.get(name, 0) + 1
    return index


def _reference(tensor, index):
    name, call = index[id(tensor.node)]
    return [name, call, tensor.index]


def functional_config(model):
    index = _call_index(model)
    calls = {}
    for node in model._nodes:
        calls.setdefault(id(node.layer), []).append({
            "args": [_reference(t, index) for t in node.inputs], "several": node.several,
            "initial_state": [_reference(t, index) for t in node.state_inputs]})
    specs = []
    for layer in model.layers:
        spec = layers_module.serialize(layer)
        spec["name"] = layer.name
        spec["inbound_nodes"] = calls.get(id(layer), [])
        specs.append(spec)
    return {"name": model.name,
            "layers": specs,
            "input_layers": [_reference(t, index) for t in model.inputs],
            "input_dtypes": [t.dtype for t in model.inputs],
            "output_layers": [_reference(t, index) for t in model.outputs],
            "single_input": model._single_input, "single_output": model._single_output}


def _make_input(spec, dtype):
    config = spec["config"]
    return Input(shape=tuple(config["shape"]), batch_size=config.get("batch_size"), dtype=dtype,
                 name=config.get("name"))


def rebuild(config, custom_objects=None):
    """(inputs, outputs) of the graph `functional_config` described, its layers made anew."""
    dtypes = dict(zip((ref[0] for ref in config["input_layers"]), config.get("input_dtypes", [])))
    produced = {}          # (layer name, call index) -> output tensors
    pending = []
    for spec in config["layers"]:
        if spec["class_name"] == InputLayer.__name__:
            tensor = _make_input(spec, dtypes.get(spec["name"]))
            produced[(spec["name"], 0)] = [tensor]
        else:
            layer = layers_module.deserialize(spec, custom_objects)
            pending.extend((layer, call_index, call) for call_index, call in enumerate(spec["inbound_nodes"]))
    while pending:
        ready = [item for item in pending if _inputs_ready(item[2], produced)]
        if not ready:
            raise ValueError("the graph's calls refer to tensors that no layer produces")
        for layer, call_index, call in ready:
            produced[(layer.name, call_index)] = _replay(layer, call, produced)
            pending.remove((layer, call_index, call))

    def tensor(ref):
        return produced[(ref[0], ref[1])][ref[2]]

    inputs = [tensor(ref) for ref in config["input_layers"]]
    outputs = [tensor(ref) for ref in config["output_layers"]]
    return (inputs[0] if config.get("single_input") else inputs,
            outputs[0] if config.get("single_output") else outputs)


def _inputs_ready(call, produced):
    refs = call["args"] + call.get("initial_state", [])
    return all((ref[0], ref[1]) in produced for ref in refs)


def _replay(layer, call, produced):
    args = [produced[(ref[0], ref[1])][ref[2]] for ref in call["args"]]
    states = [produced[(ref[0], ref[1])][ref[2]] for ref in call.get("initial_state", [])]
    x = args if call.get("several") else args[0]
    out = layer(x, initial_state=states) if states else layer(x)
    return out if isinstance(out, list) else [out]


def summary_rows(model):
    """(name (type), output shape, parameters, connected to) per layer, as Keras's functional summary."""
    index = _call_index(model)
    rows = []
    for layer in model.layers:
        nodes = [node for node in model._nodes if node.layer is layer]
        if isinstance(layer, InputLayer):
            shape = next(t.shape for t in model.inputs if t.node.layer is layer)
            rows.append((f"{layer.name} ({type(layer).__name__})", str(shape), "0", "-"))
            continue
        shapes = [t.shape for node in nodes for t in node.outputs[:1]]
        sources = sorted({f"{index[id(t.node)][0]}[{index[id(t.node)][1]}][{t.index}]"
                          for node in nodes for t in node.inputs + node.state_inputs})
        rows.append((f"{layer.name} ({type(layer).__name__})", str(shapes[0]) if shapes else "?",
                     f"{layer.count_params():,}", ", ".join(sources)))
    return rows

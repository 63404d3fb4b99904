"""A functional model's config (`lstmcore.models.Model`) checked against its weights and sane limits, before
anything is built.

The checks of `lstmcore.saving.validation` (limits, the class each layer
names, every size against that layer's weights) run on every layer of the
graph, and the graph's own structure is checked as the loader will read it
(`lstmcore.models.graph_config.rebuild`, then `Model(inputs, outputs)`):

- each layer has a name of its own; an input layer is called by nothing,
  every other layer at least once;
- every reference, [layer name, call index, output index], in a call's
  arguments and initial state and in the model's inputs and outputs, names a
  layer that exists, one of its calls, and one of that call's outputs;
- the model's inputs are input layers, and every input layer the outputs
  depend on is among them;
- following the calls back from the outputs never comes round to a call
  already on the way (a cycle), and reaches every layer the file lists
  (rebuilding an unreached layer would allocate its weights for nothing);
- the shapes flow from the inputs through every call;
- every call's input gives its layer the weights the file stores for it
  (the dry build of `lstmcore.saving.weight_shapes`: names and shapes, the
  ones that follow from the input included; the loader builds a shared
  layer at whichever call it replays first, so each call must fit).

Weights are stored by the layer's place in the model the loader builds (its
inputs, then each layer at its first call in running order), so a layer's
sizes are compared with the weights stored at that place (the file's
`TensorLayout` finds them: a Keras file keeps them by layer name instead).
Nothing is allocated: layers are created from their configs and only
dry-built.
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Tuple

from .validation import SpecError, TensorLayout, check_layer, check_size_list, layer_list
from .weight_shapes import check_planned_weights

__all__ = ["check_graph_spec"]

INPUT_LAYER = "InputLayer"
Call = Tuple[str, int]  # (layer name, call index): one node of the graph


def check_graph_spec(config: Mapping[str, Any], layout: TensorLayout, custom_objects=None):
    """Check a functional model's config against the tensors of its file, found through `layout`.

    Returns (input shape, output shape) as the graph builds them (None for a
    model with several inputs or outputs, or a shape that cannot be known);
    raises SpecError saying what is wrong.  Nothing is allocated.
    """
    specs = _named_layers(layer_list(config))
    calls = {name: _calls_of(spec, name) for name, spec in specs.items()}
    inputs = _references(config.get("input_layers"), "its input_layers", calls)
    outputs = _references(config.get("output_layers"), "its output_layers", calls)
    for ref in inputs:
        if specs[ref[0]]["class_name"] != INPUT_LAYER:
            raise SpecError(f"its input_layers name the layer {ref[0]!r}, which is not an input layer")
    order = _running_order(outputs, calls, specs, {ref[0] for ref in inputs})
    places = _weight_places(inputs, order)
    unreached = [name for name in specs if name not in places]
    if unreached:
        raise SpecError(f"its layer {unreached[0]!r} is not on the way from the inputs to the outputs")
    layers = {name: (None if spec["class_name"] == INPUT_LAYER else
                     check_layer(spec, layout.weights(places[name], spec), f"layer {name!r}", custom_objects, layout))
              for name, spec in specs.items()}
    produced, call_inputs = _flow_shapes(order, specs, layers, calls)
    for (name, index), shape in call_inputs.items():
        check_planned_weights(layers[name], shape, layout.weights(places[name], specs[name]),
                              _call_label(name, index, specs[name]["class_name"], len(calls[name])),
                              layout.by_position)
    input_shapes = [_produced_shape(produced, ref, "its input_layers") for ref in inputs]
    output_shapes = [_produced_shape(produced, ref, "its output_layers") for ref in outputs]
    return (input_shapes[0] if len(input_shapes) == 1 else None,
            output_shapes[0] if len(output_shapes) == 1 else None)


def _named_layers(layer_specs: List[Any]) -> Dict[str, Dict[str, Any]]:
    """{name: spec} in the file's order; each spec a dict with a class name, a config and a name of its own."""
    named: Dict[str, Dict[str, Any]] = {}
    for index, spec in enumerate(layer_specs):
        if not isinstance(spec, dict) or not isinstance(spec.get("class_name"), str) or \
                not isinstance(spec.get("config"), dict):
            raise SpecError(f"layer {index} is not a layer spec (a class name and a config)")
        name = spec.get("name")
        if not isinstance(name, str) or not name:
            raise SpecError(f"layer {index} ({spec['class_name']}) has no name")
        if spec["config"].get("name", name) != name:
            raise SpecError(f"layer {name!r} is named {spec['config'].get('name')!r} in its config")
        if name in named:
            raise SpecError(f"two layers are named {name!r}")
        named[name] = spec
    return named


def _calls_of(spec: Mapping[str, Any], name: str) -> List[Dict[str, Any]]:
    """The layer's calls ("inbound nodes"), each a dict of args, initial_state and several; checked in shape."""
    nodes = spec.get("inbound_nodes", [])
    if not isinstance(nodes, list):
        raise SpecError(f"layer {name!r} has inbound_nodes that are not a list")
    if spec["class_name"] == INPUT_LAYER:
        if nodes:
            raise SpecError(f"layer {name!r} is an input layer, yet the file lists calls of it")
        check_size_list(spec["config"].get("shape"), f"the shape of input layer {name!r}", 1)
        return []
    for number, node in enumerate(nodes):
        where = f"call {number} of layer {name!r}"
        if not isinstance(node, dict) or not isinstance(node.get("args"), list) or \
                not isinstance(node.get("initial_state", []), list) or \
                not isinstance(node.get("several", False), bool):
            raise SpecError(f"{where} is not a call (args, initial_state, several)")
        if not node["args"]:
            raise SpecError(f"{where} takes no input")
        if len(node["args"]) > 1 and not node.get("several"):
            raise SpecError(f"{where} takes {len(node['args'])} inputs but is not marked as taking several")
    return nodes


def _references(value: Any, where: str, calls: Mapping[str, List]) -> List[Tuple[str, int, int]]:
    """A list of references [layer name, call index, output index], each naming a layer and a call it has."""
    if not isinstance(value, list) or not value:
        raise SpecError(f"{where} are missing or not a list of [layer name, call index, output index]")
    return [_reference(ref, where, calls) for ref in value]


def _reference(ref: Any, where: str, calls: Mapping[str, List]) -> Tuple[str, int, int]:
    if not isinstance(ref, list) or len(ref) != 3 or not isinstance(ref[0], str) or \
            not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in ref[1:]):
        raise SpecError(f"{where} hold {ref!r}, not a [layer name, call index, output index]")
    name, call, output = ref
    if name not in calls:
        raise SpecError(f"{where} name the layer {name!r}, which the model does not have")
    count = max(1, len(calls[name]))  # an input layer has its one call, the input itself
    if call >= count:
        raise SpecError(f"{where} name call {call} of layer {name!r}, which is called {len(calls[name])} time(s)")
    return name, call, output


def _parents(call: Call, calls: Mapping[str, List]) -> List[Tuple[str, int, int]]:
    """The references a call reads: its arguments, then its initial state (the loader's order)."""
    name, index = call
    if not calls[name]:
        return []
    node = calls[name][index]
    where = f"call {index} of layer {name!r}"
    return [_reference(ref, where, calls) for ref in node["args"] + node.get("initial_state", [])]


def _running_order(outputs, calls, specs, input_names) -> List[Call]:
    """Every call the outputs depend on, each after the calls it reads (the loader's depth-first order);
    a cycle, or an input layer that is not among the model's inputs, is a SpecError."""
    order: List[Call] = []
    state: Dict[Call, str] = {}
    for ref in outputs:
        stack = [((ref[0], ref[1]), False)]
        while stack:
            call, expanded = stack.pop()
            if expanded:
                state[call] = "done"
                order.append(call)
                continue
            mark = state.get(call)
            if mark == "done":
                continue
            if mark == "visiting":
                raise SpecError(f"its graph has a cycle through layer {call[0]!r}: a call reads, through "
                                "others, what it produces itself")
            state[call] = "visiting"
            stack.append((call, True))
            for parent in reversed(_parents(call, calls)):
                if state.get(parent[:2]) == "visiting":
                    raise SpecError(f"its graph has a cycle through layer {parent[0]!r}: a call reads, "
                                    "through others, what it produces itself")
                stack.append((parent[:2], False))
    for name, _ in order:
        if specs[name]["class_name"] == INPUT_LAYER and name not in input_names:
            raise SpecError(f"its outputs depend on the input layer {name!r}, which is not among its input_layers")
    return order


def _weight_places(inputs, order: List[Call]) -> Dict[str, int]:
    """{layer name: its place in the model the loader builds}: the inputs, then each layer at its first call."""
    places: Dict[str, int] = {}
    for name in [ref[0] for ref in inputs] + [name for name, _ in order]:
        places.setdefault(name, len(places))
    return places


def _call_label(name: str, index: int, class_name: str, call_count: int) -> str:
    return f"layer {name!r} ({class_name})" if call_count == 1 else f"call {index} of layer {name!r} ({class_name})"


def _flow_shapes(order: List[Call], specs, layers, calls) -> Tuple[Dict[Call, Optional[List]], Dict[Call, Any]]:
    """({call: the shapes of its outputs (None where unknown)}, {call of a layer: its input shape (left out where
    unknown)}), computed in running order.

    The loader builds a layer at whichever of its calls it replays first, so
    the weights are compared with every call's input: each must fit them.
    """
    produced: Dict[Call, Optional[List]] = {}
    call_inputs: Dict[Call, Any] = {}
    for call in order:
        name, index = call
        if layers[name] is None:  # an input layer: (batch, *shape)
            produced[call] = [(None, *specs[name]["config"]["shape"])]
            continue
        node = calls[name][index]
        where = f"call {index} of layer {name!r}"
        shapes = [_produced_shape(produced, ref, where) for ref in (_reference(r, where, calls) for r in node["args"])]
        shape = shapes if node.get("several") else shapes[0]
        if not _unknown(shape):
            call_inputs[call] = shape
        produced[call] = _call_output_shapes(layers[name], shape, where)
    return produced, call_inputs


def _unknown(shape) -> bool:
    """Whether an input shape (or one of a list of them) could not be known from the file."""
    return shape is None or (isinstance(shape, list) and any(part is None for part in shape))


def _produced_shape(produced, ref, where: str):
    """The shape of the output a reference names; an output index the call does not have is a SpecError."""
    outputs = produced.get((ref[0], ref[1]))
    if outputs is None:
        return None
    if ref[2] >= len(outputs):
        raise SpecError(f"{where} name output {ref[2]} of layer {ref[0]!r}, which returns {len(outputs)}")
    return outputs[ref[2]]


def _call_output_shapes(layer, shape, where: str) -> Optional[List]:
    """The shapes a layer returns for `shape` (a list for several outputs); None when it cannot tell."""
    if _unknown(shape):
        return None
    try:
        result = layer.compute_output_shape(shape)
    except (ValueError, TypeError, IndexError, KeyError) as error:
        raise SpecError(f"{where} ({type(layer).__name__}) cannot take the input shape {shape} ({error})") from None
    except (AttributeError, NotImplementedError):
        return None
    return [tuple(part) for part in result] if isinstance(result, list) else [tuple(result)]

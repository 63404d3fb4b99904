"""A Keras file's model config checked against its weights and sane limits, before any layer is built.

`load_keras_model` builds the lstmcore model from a Keras config, which
allocates and initialises every weight the config asks for; a `.keras` or
`.h5` file edited by hand or crafted (units of 10^9, or an input of 10^7
features over an LSTM whose stored kernel is (4, 1280)) must be refused
before that, in one line naming the file, as lstmcore's own files are.  So
the checks of `lstmcore.saving.validation` run on it, unchanged:

- the config's structure: a Sequential or functional model, each layer a
  class name and a config with a name of its own (Keras's weights are found
  by layer name, so two layers may not share one);
- every layer class is one lstmcore has, asked for in a form it supports
  (`keras_config.require_supported`: the advice for a GRU comes first);
- the weights the file declares fit the limit of a model file
  (MAX_MODEL_FILE_BYTES, counted as float32): an HDF5 dataset declares a
  shape without storing its bytes, so a file of a few kB could otherwise
  ask for petabytes that its config agrees with;
- then `check_model_spec` on the config brought to lstmcore's form (a
  Sequential's input layer as its input shape; a functional model's calls
  as [layer, call, output] references, as `graph_validation` reads them):
  the limits (MAX_CONFIG_INTEGER, MAX_LAYERS, MAX_NESTING), each size
  against the layer's weights, the shapes flowing through the layers, and
  every weight each layer would create for its input compared, in Keras
  order, with the arrays the file stores for that layer.

`KerasLayout` is what differs from lstmcore's files: a layer's arrays are
found by its name (from `keras_files`, by the mapping the loader copies
them with), numbered not named, and each layer is made as the loader makes
it (`keras_config.layer_from_keras_spec`).
"""
from __future__ import annotations

import math
from typing import Any, Dict, List, Mapping, Tuple

from .keras_config import (call_arguments, input_batch_shape, layer_from_keras_spec, model_refs, require_supported,
                           sequential_input)
from .model_validation import check_model_spec
from .validation import MAX_MODEL_FILE_BYTES, SpecError, TensorLayout, check_size_list, layer_list

__all__ = ["check_keras_model", "layer_order", "KerasLayout", "without_mask_operations"]

INPUT_LAYER = "InputLayer"
MODEL_CLASSES = ("Sequential", "Functional", "Model")
Stored = Mapping[str, Mapping[str, Tuple[int, ...]]]  # {layer name: {array path: shape}}, Keras order


class KerasLayout(TensorLayout):
    """A Keras file's arrays: per layer name, in Keras's weight order; layers made as the loader makes them."""

    by_position = True

    def __init__(self, stored: Stored):
        super().__init__({})
        self.stored = stored

    def weights(self, place: int, layer_spec: Mapping[str, Any]) -> Dict[str, Tuple[int, ...]]:
        return dict(self.stored.get(layer_spec["config"]["name"], {}))

    def make_layer(self, layer_spec: Mapping[str, Any], custom_objects):
        return layer_from_keras_spec(layer_spec)


OPERATION_MODULES = ("keras.src.ops.", "keras.ops.")


def _is_operation(spec: Mapping[str, Any]) -> bool:
    """Whether a functional config's entry is a Keras operation (keras.ops.*), by the module Keras 3's
    .keras files name (its legacy .h5 configs name none)."""
    return isinstance(spec.get("module"), str) and spec["module"].startswith(OPERATION_MODULES)


def _tensor_sources(value: Any) -> List[str]:
    """The entries whose outputs a call argument refers to (Keras 3's __keras_tensor__ entries, nested)."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            history = value.get("config", {}).get("keras_history") if isinstance(value.get("config"), dict) else None
            return [history[0]] if isinstance(history, list) and history and isinstance(history[0], str) else []
        return [name for item in value.values() for name in _tensor_sources(item)]
    if isinstance(value, list):
        return [name for item in value for name in _tensor_sources(item)]
    return []


def _entry_name(spec: Mapping[str, Any]) -> Any:
    return spec.get("name") or (spec.get("config") or {}).get("name")


def _uses(specs: List[Mapping[str, Any]]) -> Dict[Any, List[Tuple[Any, bool]]]:
    """{entry: [(the entry using its output, whether as the `mask` argument)]} of Keras 3 calls."""
    uses: Dict[Any, List[Tuple[Any, bool]]] = {}
    for spec in specs:
        for node in spec.get("inbound_nodes") or []:
            if not isinstance(node, dict):
                continue                              # a Keras 2 call: no operations there
            kwargs = node.get("kwargs") if isinstance(node.get("kwargs"), dict) else {}
            data = _tensor_sources(node.get("args")) + _tensor_sources({k: v for k, v in kwargs.items() if k != "mask"})
            for source, as_mask in [(name, False) for name in data] + [(name, True) for name in
                                                                       _tensor_sources(kwargs.get("mask"))]:
                uses.setdefault(source, []).append((_entry_name(spec), as_mask))
    return uses


def without_mask_operations(config: Any) -> Any:
    """A Keras model config without the operations Keras 3 writes into a functional graph to compute masks.

    Masking and Embedding(mask_zero=True) in a functional model leave a NotEqual (and for Masking an
    Any) in the saved graph, whose result reaches the next layer as its `mask` argument.  lstmcore's
    layers carry the mask from those two layers themselves, so an entry whose result only ever
    becomes a mask (directly or through other such entries) is dropped.  A keras.ops entry used any
    other way (as a layer's input, an initial state, a model output) is refused: lstmcore reads Keras
    layers.  Any other config is returned as it is, for `layer_order` to judge.
    """
    body = config.get("config") if isinstance(config, dict) else None
    specs = body.get("layers") if isinstance(body, dict) else None
    if not isinstance(specs, list) or not all(isinstance(spec, dict) and isinstance(_entry_name(spec), str)
                                              for spec in specs):
        return config                                 # malformed: layer_order says how
    uses = _uses(specs)
    outputs = {ref[0] for ref in model_refs(body.get("output_layers")) if isinstance(ref, list) and ref
               and isinstance(ref[0], str)}
    candidates = {_entry_name(spec) for spec in specs if spec.get("class_name") != INPUT_LAYER} - outputs
    masks: set = set()
    while True:
        found = {name for name in candidates - masks
                 if uses.get(name) and all(as_mask or user in masks for user, as_mask in uses[name])}
        if not found:
            break
        masks |= found
    for spec in specs:
        name = _entry_name(spec)
        if _is_operation(spec) and name not in masks:
            raise SpecError(f"its graph uses the result of the Keras operation {name!r} ({spec.get('class_name')}) "
                            "as data; lstmcore reads Keras layers, and of keras.ops only the masks that Masking "
                            "and Embedding(mask_zero=True) compute")
    if not masks:
        return config
    return {**config, "config": {**body, "layers": [spec for spec in specs if _entry_name(spec) not in masks]}}


def layer_order(config: Any) -> List[Tuple[str, str]]:
    """[(layer name, class name)] of a Keras model config, in its order; SpecError when it is not one lstmcore
    reads (another model class, a layer without a class, a config or a name, two layers of one name, a layer
    lstmcore does not have).  It reads the config only, so it comes before the weights are opened."""
    if not isinstance(config, dict) or not isinstance(config.get("config"), dict):
        raise SpecError("its model config is missing or not a JSON object")
    if config.get("class_name") not in MODEL_CLASSES:
        raise SpecError(f"the Keras model class {config.get('class_name')!r} is not supported "
                        "(Sequential and functional are)")
    order, seen = [], set()
    for index, spec in enumerate(layer_list(config["config"])):
        if not isinstance(spec, dict) or not isinstance(spec.get("class_name"), str) or \
                not isinstance(spec.get("config"), dict) or not isinstance(spec["config"].get("name"), str):
            raise SpecError(f"layer {index} is not a Keras layer spec (a class name, and a config with a name)")
        name = spec["config"]["name"]
        if name in seen:
            raise SpecError(f"two layers are named {name!r}")
        seen.add(name)
        order.append((name, spec["class_name"]))
        _require_supported(spec)
    return order


def check_keras_model(config: Any, stored: Stored):
    """Check a Keras model config against the arrays its file stores, `stored` ({layer name: {array path:
    shape}} in Keras order), and the limits.

    Returns (input shape, output shape) as the config builds them; raises
    SpecError saying what is wrong.  Nothing is allocated.
    """
    names = {name for name, _ in layer_order(config)}
    strays = sorted(set(stored) - names)
    if strays:
        raise SpecError(f"it stores weights for a layer {strays[0]!r} that its model config does not have")
    _check_declared_size(stored)
    body = config["config"]
    if config["class_name"] == "Sequential":
        spec = {"class_name": "Sequential", "config": _sequential_config(body)}
    else:
        spec = {"class_name": "Model", "config": _graph_config(body)}
    return check_model_spec(spec, KerasLayout(stored))


def _check_declared_size(stored: Stored) -> None:
    """The arrays' declared sizes within what a model file may hold (an HDF5 shape costs no bytes)."""
    values = sum(math.prod(shape) for arrays in stored.values() for shape in arrays.values())
    if values * 4 > MAX_MODEL_FILE_BYTES:
        raise SpecError(f"its weights declare {values:,} numbers, {values * 4:,} bytes as float32, beyond the "
                        f"limit of {MAX_MODEL_FILE_BYTES:,} bytes for a model "
                        "(lstmcore.saving.validation.MAX_MODEL_FILE_BYTES)")


def _require_supported(spec: Mapping[str, Any]) -> None:
    """The layer (and the layers it wraps) one lstmcore has, in a form it supports; else SpecError."""
    if spec["class_name"] == INPUT_LAYER:
        return
    try:
        require_supported(spec)
    except (ValueError, ImportError, AttributeError) as error:
        raise SpecError(str(error)) from None
    for key in ("layer", "backward_layer"):
        inner = spec["config"].get(key)
        if isinstance(inner, dict) and isinstance(inner.get("class_name"), str) and \
                isinstance(inner.get("config"), dict):
            _require_supported(inner)


def _sequential_config(body: Mapping[str, Any]) -> Dict[str, Any]:
    """A Keras Sequential as lstmcore's Sequential config: the input layer becomes the input shape.

    A model without one would load unbuilt, its weights never copied in (a
    model that predicts from fresh random weights), so it is refused.
    """
    first, rest = sequential_input(body["layers"])
    shape = None if first is None else input_batch_shape(first)
    if shape is None:
        raise SpecError("its model config has no input shape (no input layer, no batch_input_shape), so its "
                        "weights cannot be placed")
    return {"input_shape": shape, "layers": rest}


def _graph_config(body: Mapping[str, Any]) -> Dict[str, Any]:
    """A Keras functional config as lstmcore's (`graph_validation` reads it): inputs by their shape without the
    batch, every call as [layer, call, output] references."""
    return {"layers": [_graph_layer(spec) for spec in body["layers"]],
            "input_layers": model_refs(body.get("input_layers")),
            "output_layers": model_refs(body.get("output_layers"))}


def _graph_layer(spec: Mapping[str, Any]) -> Dict[str, Any]:
    name = spec["config"]["name"]
    nodes = spec.get("inbound_nodes", [])
    if spec["class_name"] == INPUT_LAYER:
        shape = check_size_list(input_batch_shape(spec), f"the shape of input layer {name!r}", 2)
        return {"class_name": INPUT_LAYER, "name": spec.get("name"), "config": {"name": name, "shape": list(shape[1:])},
                "inbound_nodes": nodes}
    if not isinstance(nodes, list):
        raise SpecError(f"layer {name!r} has inbound_nodes that are not a list")
    return {"class_name": spec["class_name"], "name": spec.get("name"), "config": spec["config"],
            "inbound_nodes": [_graph_call(node, index, name) for index, node in enumerate(nodes)]}


def _graph_call(node: Any, index: int, name: str) -> Dict[str, Any]:
    """One Keras call (Keras 3's {"args", "kwargs"} or Keras 2's list) as lstmcore's."""
    try:
        refs, several, states = call_arguments(node)
    except (KeyError, TypeError, IndexError, AttributeError) as error:
        raise SpecError(f"call {index} of layer {name!r} is not a Keras layer call ({error!r})") from None
    return {"args": refs, "several": several, "initial_state": states}

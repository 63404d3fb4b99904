"""Keras 3 (and Keras 2) model configs, as JSON, to the equivalent lstmcore model.

Each Keras layer becomes the lstmcore layer of the same class with the
arguments lstmcore's constructor takes; initializers, regularizers and
constraints are left out (the weights are copied from the file anyway), and
an argument whose value would change the computation where lstmcore differs
(channels-first data, grouped convolutions) is an error, as is a layer class
lstmcore does not have, named with the advice `lstmcore.layers` gives.
"""
from __future__ import annotations

import inspect

from .. import layers as layers_module
from ..layers.base import Input
from .model_classes import MODEL_CLASSES   # registered by the model classes: saving never imports them

__all__ = ["model_from_keras_config", "layer_from_keras_spec", "require_supported", "input_batch_shape",
           "sequential_input", "model_refs", "call_arguments"]

_DROPPED = {"kernel_initializer", "recurrent_initializer", "bias_initializer", "embeddings_initializer",
            "beta_initializer", "gamma_initializer", "moving_mean_initializer", "moving_variance_initializer",
            "kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "activity_regularizer",
            "embeddings_regularizer", "beta_regularizer", "gamma_regularizer", "kernel_constraint",
            "recurrent_constraint", "bias_constraint", "embeddings_constraint", "beta_constraint",
            "gamma_constraint", "seed", "unroll", "use_cudnn", "implementation", "time_major", "synchronized",
            "build_config", "lora_rank", "lora_alpha", "quantization_config", "input_length", "sparse",
            "ragged", "optional", "renorm", "renorm_clipping", "renorm_momentum", "fused", "virtual_batch_size",
            "adjustment", "dtype", "batch_input_shape", "batch_shape"}
_REQUIRED_VALUES = {"data_format": (None, "channels_last"), "groups": (1,)}


def _dtype_name(value):
    if isinstance(value, dict):  # Keras 3's DTypePolicy
        value = value.get("config", {}).get("name")
    if value not in (None, "float32", "float64"):
        raise ValueError(f"dtype policy {value!r} is not supported (lstmcore runs float32 or float64)")
    return value


def _accepted(cls):
    names = set()
    for klass in cls.__mro__:
        if klass is object:
            break
        names.update(inspect.signature(klass.__init__).parameters)
    return names


def _plain(value):
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def require_supported(spec):
    """The lstmcore class for a Keras layer spec; ValueError if lstmcore has none (with the advice
    `lstmcore.layers` gives) or the spec asks for what lstmcore's layer does not do (channels first)."""
    class_name = spec["class_name"]
    try:
        cls = layers_module.get(class_name)
    except ValueError:
        getattr(layers_module, class_name)   # raises the advice for GRU, Attention, ...
        raise ValueError(f"the Keras layer {class_name!r} has no lstmcore equivalent") from None
    config = spec["config"]
    for key, allowed in _REQUIRED_VALUES.items():
        if key in config and config[key] not in allowed:
            raise ValueError(f"layer {config.get('name')!r} ({class_name}) uses {key}={config[key]!r}; "
                             f"lstmcore supports {allowed[-1]!r} only")
    return cls


def layer_from_keras_spec(spec):
    """The lstmcore layer for one Keras layer spec {"class_name": ..., "config": {...}}."""
    class_name = spec["class_name"]
    cls = require_supported(spec)
    config = dict(spec["config"])
    accepted = _accepted(cls)
    kwargs = {key: _plain(value) for key, value in config.items()
              if key in accepted and key not in _DROPPED and key not in ("layer", "backward_layer")}
    if "dtype" in config and _dtype_name(config["dtype"]) is not None:
        kwargs["dtype"] = _dtype_name(config["dtype"])
    if class_name in ("Bidirectional", "TimeDistributed"):
        kwargs["layer"] = layer_from_keras_spec(config["layer"])
        if config.get("backward_layer"):
            kwargs["backward_layer"] = layer_from_keras_spec(config["backward_layer"])
    return cls(**kwargs)


def input_batch_shape(spec):
    """An InputLayer spec's shape, batch first: Keras 3's `batch_shape`, Keras 2's `batch_input_shape`."""
    return spec["config"].get("batch_shape") or spec["config"].get("batch_input_shape")


def _input_from(spec):
    config = spec["config"]
    shape = input_batch_shape(spec)
    return Input(shape=tuple(shape[1:]), batch_size=shape[0], dtype=config.get("dtype"), name=config.get("name"))


def sequential_input(specs):
    """(the input layer spec, the specs of the layers after it) of a Keras Sequential's layers; the input is
    None where the config gives no shape.  Keras 2 could write the input shape on the first layer
    (`batch_input_shape`) instead of an InputLayer: it is the input all the same."""
    first = specs[0] if specs else None
    if first is not None and first["class_name"] == "InputLayer":
        return first, specs[1:]
    if first is not None and first["config"].get("batch_input_shape"):
        shape = first["config"]["batch_input_shape"]
        return {"class_name": "InputLayer", "config": {"batch_shape": shape}}, specs
    return None, specs


def model_refs(refs):
    """A functional config's input_layers or output_layers as a list of [layer, call, output] (Keras writes
    one reference unnested)."""
    return refs if isinstance(refs, list) and refs and isinstance(refs[0], list) else [refs]


def model_from_keras_config(config):
    """The lstmcore Sequential or Model a Keras model config describes (weights not yet copied)."""
    Model, Sequential = MODEL_CLASSES["Model"], MODEL_CLASSES["Sequential"]
    class_name, body = config.get("class_name"), config.get("config", {})
    if class_name == "Sequential":
        first, rest = sequential_input(body["layers"])
        return Sequential(([_input_from(first)] if first else []) + [layer_from_keras_spec(spec) for spec in rest],
                          name=body.get("name"))
    if class_name not in ("Functional", "Model"):
        raise ValueError(f"the Keras model class {class_name!r} is not supported (Sequential and functional are)")
    tensors = _replay_functional(body)

    def pick(refs):
        return [tensors[(ref[0], ref[1])][ref[2]] for ref in model_refs(refs)]

    inputs, outputs = pick(body["input_layers"]), pick(body["output_layers"])
    return Model(inputs if len(inputs) > 1 else inputs[0], outputs if len(outputs) > 1 else outputs[0],
                 name=body.get("name"))


def _history(arg):
    """The keras_history [layer, call, index] of a tensor argument (Keras 3 dict or Keras 2 list form)."""
    if isinstance(arg, dict):
        return arg["config"]["keras_history"]
    return arg[:3]


def call_arguments(call):
    """(tensor refs, several, initial_state refs) of one Keras inbound node."""
    if isinstance(call, dict):                       # Keras 3: {"args": [...], "kwargs": {...}}
        first = call["args"][0]
        several = isinstance(first, list)
        refs = [_history(arg) for arg in (first if several else [first])]
        states = call.get("kwargs", {}).get("initial_state") or []
        return refs, several, [_history(state) for state in states]
    refs = [_history(arg) for arg in call]           # Keras 2: [[name, node, index, kwargs], ...]
    return refs, len(refs) > 1, []


def _replay_functional(body):
    """Make every layer and replay its calls in an order where each call's inputs exist."""
    tensors, pending = {}, []
    for spec in body["layers"]:
        if spec["class_name"] == "InputLayer":
            tensors[(spec["config"]["name"], 0)] = [_input_from(spec)]
            continue
        layer = layer_from_keras_spec(spec)
        pending.extend((layer, index, call) for index, call in enumerate(spec.get("inbound_nodes", [])))
    while pending:
        progressed = False
        for item in list(pending):
            layer, index, call = item
            refs, several, states = call_arguments(call)
            if not all((ref[0], ref[1]) in tensors for ref in refs + states):
                continue
            x = [tensors[(r[0], r[1])][r[2]] for r in refs]
            state = [tensors[(r[0], r[1])][r[2]] for r in states]
            out = layer(x if several else x[0], initial_state=state) if state else layer(x if several else x[0])
            tensors[(layer.name, index)] = out if isinstance(out, list) else [out]
            pending.remove(item)
            progressed = True
        if not progressed:
            raise ValueError("the model config's layer calls refer to tensors no layer produces")
    return tensors


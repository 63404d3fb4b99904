"""A model file's config checked against its tensors before anything is built: the one entry point.

A Sequential's layers are checked in order, the input shape flowing through
them; a functional model's graph by `lstmcore.saving.graph_validation`.  The
checks of one layer and the limits are `lstmcore.saving.validation`'s (its
docstring lists them all), the weights each layer would create for its input
`lstmcore.saving.weight_shapes`'.  Those modules never import this one, so
no import goes round in a circle.
"""
from __future__ import annotations

from typing import Any

from .graph_validation import check_graph_spec
from .validation import SpecError, TensorLayout, check_layer, check_size_list, layer_list, output_shape
from .weight_shapes import check_planned_weights

__all__ = ["check_model_spec"]


def check_model_spec(spec: Any, shapes, custom_objects=None):
    """Check a model spec ({"class_name", "config"}: a Sequential, or a functional graph) against the tensors
    of its file: `shapes`, {tensor name: shape} of an lstmcore file, or the TensorLayout of another format's.

    Returns (input shape, output shape) as the config builds them; raises
    SpecError saying what is wrong.  Nothing is allocated.
    """
    if not isinstance(spec, dict) or not isinstance(spec.get("config"), dict):
        raise SpecError("its model config is missing or not a JSON object")
    config = spec["config"]
    layout = shapes if isinstance(shapes, TensorLayout) else TensorLayout(shapes)
    if spec.get("class_name") != "Sequential":  # a functional graph (lstmcore.models.Model)
        return check_graph_spec(config, layout, custom_objects)
    layer_specs = layer_list(config)
    input_shape = config.get("input_shape")
    if input_shape is not None:
        input_shape = check_size_list(input_shape, "its input shape", 2)
    shape = input_shape
    for index, layer_spec in enumerate(layer_specs):
        where = f"layer {index}"
        weights = layout.weights(index, layer_spec)
        layer = check_layer(layer_spec, weights, where, custom_objects, layout)
        layer_input, shape = shape, output_shape(layer, shape, where)
        if layer_input is not None:  # the loader builds nothing without an input shape
            check_planned_weights(layer, layer_input, weights, f"{where} ({layer_spec['class_name']} {layer.name!r})",
                                  layout.by_position)
    return input_shape, shape

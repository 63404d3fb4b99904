"""A model file's config checked against its weights and sane limits, before anything is built.

Building a model allocates and initialises every weight its config asks
for, so a file edited by hand or crafted (units of 10^9) must be refused
before that, with one line naming the file, not after a 119 GiB allocation.
`lstmcore.saving.model_validation.check_model_spec` reads the config only,
creates the layers without allocating any weight, and checks (this module
holds the checks of one layer and the limits):

- the config's structure (a list of layers, each a class name and a config);
- every layer class the file names is the class that gets built (a wrapper
  ignoring its inner layer's class, say, would load a "GRU" as an LSTM);
- the documented limits below;
- every size a layer's config asks for (units, filters, output_dim,
  input_dim) is a dimension of that layer's weights in the file, and a
  layer with a size has weights in the file at all: a config that does not
  match its weights fails here, before allocation, instead of after;
- the input shape flows through the layers (their output shapes, which the
  task's own check, `Task.check_state`, compares with its state);
- every weight each layer would create for the input shape that reaches it
  is in the file, with the shape the file stores for it
  (`lstmcore.saving.weight_shapes`: a dry build on a throw-away copy of the
  layer, its weights zero-strided placeholders, never allocated).  Weights
  that follow from a layer's input (an LSTM's kernel is (features, 4 *
  units); Dense, Conv1D, BatchNormalization and the layers a wrapper holds
  alike) are checked only here: a file whose input shape says 10^7
  features over a stored (4, 1280) kernel is refused, not allocated at
  51 GB.  It also closes what the sizes check above leaves open, a size
  matched by a zero-byte tensor of any shape the file adds.  A layer after
  one whose output shape cannot be known (a layer without
  compute_output_shape) is not dry-built; the loader builds it as before.

Limits (a model beyond them is not one lstmcore trains; each is far above
the published architectures it runs, DanQ's 320 units and 925 outputs):

- MAX_CONFIG_INTEGER: any integer setting of a layer (seeds excepted) and
  any dimension of the input shape: 2^24;
- MAX_LAYERS: 10,000 layers;
- MAX_NESTING: a JSON config nested 64 deep;
- MAX_MODEL_FILE_BYTES: a model file of 4 GiB (DanQ with its optimizer
  state is about 0.6 GB).  A model file is read once, whole, into memory
  (it may be standard input or a FIFO, which cannot be read twice); the
  limit is checked while reading, so a stream that never ends stops there.

A functional model (`lstmcore.models.Model`) gets the same checks for every
layer of its graph (`lstmcore.saving.graph_validation`), and its graph's own
references are checked too.  A Keras file (`.keras`, legacy `.h5`) gets them
all as well (`lstmcore.saving.keras_validation`): its config is brought to
this form and its tensors are found through a `TensorLayout` of its own.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Set, Tuple

__all__ = ["SpecError", "TensorLayout", "check_layer", "MAX_CONFIG_INTEGER", "MAX_LAYERS", "MAX_MODEL_FILE_BYTES",
           "SIZE_KEYS"]

MAX_CONFIG_INTEGER = 2 ** 24
MAX_LAYERS = 10_000
MAX_NESTING = 64
MAX_MODEL_FILE_BYTES = 4 * 2 ** 30
SIZE_KEYS = ("units", "filters", "output_dim", "input_dim")  # sizes that are dimensions of the layer's weights
# integer settings that size nothing: seeds, and the Python object ids Keras writes into its configs
_FREE_INTEGERS = ("seed", "shared_object_id")


class SpecError(ValueError):
    """What is wrong with a model config, in plain words (the loader adds the file)."""


class TensorLayout:
    """Where a model file keeps each layer's weights, how it names them, and how a layer is made from its spec.

    This one is lstmcore's own files: tensors `layers.{place}.{weight}`, named
    as the layer names its weights, each layer made by
    `lstmcore.layers.deserialize`.  Keras's files differ on all three
    (`lstmcore.saving.keras_validation.KerasLayout`), so the checks ask the
    layout instead of assuming lstmcore's.
    """

    by_position = False  # True: a layer's tensors are compared with its weights in order, not by name

    def __init__(self, shapes: Mapping[str, Tuple[int, ...]]):
        self.shapes = shapes

    def weights(self, place: int, layer_spec: Mapping[str, Any]) -> Dict[str, Tuple[int, ...]]:
        """{weight name: shape} the file stores for the layer at `place` (its index in the model built)."""
        return weights_of(self.shapes, place)

    def make_layer(self, layer_spec: Mapping[str, Any], custom_objects):
        """The layer `layer_spec` describes, unbuilt (its constructor allocates nothing)."""
        from .. import layers

        return layers.deserialize(layer_spec, custom_objects)


def layer_list(config: Mapping[str, Any]) -> List[Any]:
    """The config's list of layers: present, not empty, within MAX_LAYERS."""
    layer_specs = config.get("layers")
    if not isinstance(layer_specs, list) or not layer_specs:
        raise SpecError("its model config has no list of layers")
    if len(layer_specs) > MAX_LAYERS:
        raise SpecError(f"its model config has {len(layer_specs)} layers (the limit is {MAX_LAYERS:,})")
    return layer_specs


def check_layer(layer_spec: Any, weights: Mapping[str, Tuple[int, ...]], where: str, custom_objects,
                layout: TensorLayout):
    """One layer of a file checked (its spec, limits, sizes against `weights`, the class built) and created
    without weights, by `layout` (lstmcore's files or Keras's)."""
    _check_layer_spec(layer_spec, where)
    _check_integers(layer_spec["config"], where, depth=0)
    _check_sizes_against_weights(layer_spec, weights, where)
    return _layer_without_weights(layer_spec, where, custom_objects, layout)


def check_size_list(value: Any, what: str, minimum_length: int) -> Tuple:
    """A shape from a file: a list of at least `minimum_length` positive sizes (or null) up to the limit."""
    if not isinstance(value, list) or len(value) < minimum_length or not all(
            v is None or (isinstance(v, int) and not isinstance(v, bool) and 0 < v <= MAX_CONFIG_INTEGER)
            for v in value):
        raise SpecError(f"{what} {value!r} is not a list of positive sizes (or null) up to "
                        f"{MAX_CONFIG_INTEGER:,}")
    return tuple(value)


def _check_layer_spec(layer_spec: Any, where: str) -> None:
    if not isinstance(layer_spec, dict) or not isinstance(layer_spec.get("class_name"), str) or \
            not isinstance(layer_spec.get("config"), dict):
        raise SpecError(f"{where} is not a layer spec (a class name and a config)")
    inner = layer_spec["config"].get("layer")
    if inner is not None:
        _check_layer_spec(inner, f"{where} (the layer it wraps)")


def _check_integers(value: Any, where: str, depth: int, key: str = "") -> None:
    """Every integer setting within the limit (seeds excepted), the nesting within MAX_NESTING."""
    if depth > MAX_NESTING:
        raise SpecError(f"{where} has a config nested more than {MAX_NESTING} deep")
    if isinstance(value, dict):
        for name, item in value.items():
            _check_integers(item, where, depth + 1, str(name))
    elif isinstance(value, list):
        for item in value:
            _check_integers(item, where, depth + 1, key)
    elif isinstance(value, int) and not isinstance(value, bool) and key not in _FREE_INTEGERS:
        if abs(value) > MAX_CONFIG_INTEGER:
            raise SpecError(f"{where} has {key}={value:,}, beyond the limit of {MAX_CONFIG_INTEGER:,}")


def weights_of(shapes: Mapping[str, Tuple[int, ...]], index: int) -> Dict[str, Tuple[int, ...]]:
    prefix = f"layers.{index}."
    return {name[len(prefix):]: tuple(shape) for name, shape in shapes.items() if name.startswith(prefix)}


def _sizes(layer_spec: Mapping[str, Any]) -> List[Tuple[str, int]]:
    """(key, value) of the integer sizes a layer's config (and a wrapped layer's) asks for."""
    config = layer_spec["config"]
    found = [(key, config[key]) for key in SIZE_KEYS
             if isinstance(config.get(key), int) and not isinstance(config.get(key), bool)]
    inner = config.get("layer")
    return found + (_sizes(inner) if isinstance(inner, dict) else [])


def _check_sizes_against_weights(layer_spec, weights: Mapping[str, Tuple[int, ...]], where: str) -> None:
    """Each size must be a dimension of the layer's weights: the file's weights are what gets loaded."""
    sizes = _sizes(layer_spec)
    if not sizes:
        return
    if not weights:
        key, value = sizes[0]
        raise SpecError(f"{where} ({layer_spec['class_name']}) has {key}={value:,} but no weights in the file")
    dimensions: Set[int] = {n for shape in weights.values() for n in shape}
    for key, value in sizes:
        if value not in dimensions:
            listed = ", ".join(f"{name} {shape}" for name, shape in sorted(weights.items()))
            raise SpecError(f"{where} ({layer_spec['class_name']}) has {key}={value:,} in its config, which does "
                            f"not match its weights in the file ({listed})")


def _layer_without_weights(layer_spec, where: str, custom_objects, layout: TensorLayout):
    """The layer object (its __init__ allocates nothing), its class and its wrapped layer's checked."""
    try:
        layer = layout.make_layer(layer_spec, custom_objects)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise SpecError(f"{where} ({layer_spec['class_name']}) cannot be rebuilt from its config ({error})") from None
    _check_built_class(layer_spec, layer, where, custom_objects)
    return layer


def _check_built_class(layer_spec, layer, where: str, custom_objects) -> None:
    from .. import layers

    named = layers.get(layer_spec["class_name"], custom_objects)
    if type(layer) is not named:
        raise SpecError(f"{where} names the class {layer_spec['class_name']!r} but builds a "
                        f"{type(layer).__name__}")
    inner = layer_spec["config"].get("layer")
    sublayers = layer._sublayers() if hasattr(layer, "_sublayers") else []
    if isinstance(inner, dict) and sublayers:
        try:
            inner_class = layers.get(inner["class_name"], custom_objects)
        except ValueError:
            inner_class = None
        built = type(sublayers[0])
        if inner_class is not built:
            raise SpecError(f"{where} ({layer_spec['class_name']}) names the layer it wraps "
                            f"{inner['class_name']!r}, but {layer_spec['class_name']} builds a {built.__name__} "
                            "from it: the file does not describe the model it would load")


def output_shape(layer, shape, where: str):
    """The layer's output shape for `shape` (None when unknown); a shape it cannot take is an error."""
    if shape is None:
        return None
    if isinstance(shape, list):
        raise SpecError(f"{where} follows a layer that returns several arrays, which can only be the last")
    try:
        return layer.compute_output_shape(shape)
    except (ValueError, TypeError, IndexError, KeyError) as error:
        raise SpecError(f"{where} ({type(layer).__name__}) cannot take the input shape {shape} ({error})") from None
    except (AttributeError, NotImplementedError):
        return None


def iter_layer_classes(spec: Mapping[str, Any]) -> Iterable[str]:
    """The class names of a Sequential spec's layers (wrapped ones included), for messages."""
    for layer_spec in (spec.get("config") or {}).get("layers") or []:
        while isinstance(layer_spec, dict):
            yield str(layer_spec.get("class_name"))
            layer_spec = (layer_spec.get("config") or {}).get("layer")

"""Keras's files: a Keras 3 `.keras` model, Keras 3 weights (`.weights.h5`) and legacy HDF5 (`.h5`).

- `.keras` is a zip of `config.json` (the model's layers and, for a
  functional model, its calls) and `model.weights.h5`; `load_keras_model`
  rebuilds the equivalent lstmcore model from the config and copies the
  weights in.  A layer lstmcore does not have is named in the error.
- In Keras 3's weights files each layer's arrays are `layers/<path>/vars/<i>`,
  where `<path>` is the snake-case class name numbered in the model's layer
  order (`dense`, `dense_1`, ...), and an LSTM's are under `cell/`, a
  Bidirectional's under `forward_layer/cell/` and `backward_layer/cell/`, a
  TimeDistributed's under `layer/`.  lstmcore writes that layout too, so
  `model.save_weights("x.weights.h5")` in a Keras script writes a file Keras
  reads, never a safetensors file under a Keras name.
- Legacy HDF5 (`model.save("x.h5")` in Keras 2) keeps the config in the
  `model_config` attribute and the weights per layer name in `model_weights`.
- Both keep the compile settings (`compile_config` in config.json, the
  `training_config` attribute): the model loads compiled with them, as in
  Keras (`lstmcore.saving.keras_compile`), with a fresh optimizer state.

A model file's config is checked against the shapes of the arrays it stores
and against the limits before any layer is built
(`lstmcore.saving.keras_validation`), so a crafted file is one
`KerasFileError` naming it, never a huge allocation: the shapes come from the
same mapping (layer to arrays) that the weights are copied by, and an array
is only read once its shape has been compared.  Only arrays and JSON are
read; nothing is executed.  h5py reads the HDF5.
"""
from __future__ import annotations

import io
import json
import os
import warnings
import zipfile

import numpy as np

from ..layers.base import snake_case
from .keras_compile import compile_arguments
from .keras_config import model_from_keras_config
from .keras_validation import check_keras_model, layer_order, without_mask_operations
from .validation import MAX_MODEL_FILE_BYTES, SpecError

__all__ = ["is_keras_path", "load_keras_model", "save_keras_weights", "load_keras_weights", "KerasFileError"]


class KerasFileError(ValueError):
    """A Keras file that cannot be read into an lstmcore model; the message names the file."""

    def __init__(self, path, reason):
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


def is_keras_path(path):
    """Whether a file name says Keras's format (.keras, .h5, .hdf5)."""
    return os.fspath(path).lower().endswith((".keras", ".h5", ".hdf5"))


def _h5py():
    try:
        import h5py
    except ImportError:  # pragma: no cover - h5py is a dependency
        raise ImportError("reading and writing Keras files needs h5py: pip install h5py") from None
    return h5py


def _variable_paths(layer_classes):
    """Keras 3's group name per layer: snake-case class name, numbered by occurrence in layer order."""
    seen, paths = {}, []
    for class_name in layer_classes:
        base = snake_case(class_name)
        count = seen.get(base, 0)
        seen[base] = count + 1
        paths.append(base if count == 0 else f"{base}_{count}")
    return paths


_SUBGROUP_ORDER = ("forward_layer", "backward_layer", "layer", "cell")


def _group(node):
    """`node`, an HDF5 group; an array where Keras writes a group is a TypeError (iterating it would read it)."""
    if not isinstance(node, _h5py().Group):
        raise TypeError(f"{node.name} is an array where Keras writes a group")
    return node


def _datasets_of(group, prefix):
    """[(path, dataset)] of a layer group in Keras weight order: its own vars, then its sub-layers' (forward
    first); nothing is read but the layout."""
    group = _group(group)
    found = []
    if "vars" in group:
        variables = _group(group["vars"])
        found.extend((f"{prefix}/vars/{key}", variables[key]) for key in sorted(variables, key=int))
    extra = sorted(key for key in group if key != "vars" and key not in _SUBGROUP_ORDER)
    for key in [k for k in _SUBGROUP_ORDER if k in group] + extra:
        found.extend(_datasets_of(group[key], f"{prefix}/{key}"))
    return found


def _keras3_layer_datasets(names_and_classes, h5, path):
    """(layer name, [(path, dataset)] or None where its group is missing) per layer of Keras 3's layout, by
    the group name Keras gives it (class name numbered in the model's order)."""
    if "layers" not in h5:
        raise KerasFileError(path, "it holds no 'layers' group (not a Keras 3 weights file)")
    groups = h5["layers"]
    for (name, class_name), group_name in zip(names_and_classes, _variable_paths([c for _, c in names_and_classes])):
        if class_name == "InputLayer":
            continue
        group = groups.get(group_name)
        yield name, group_name, (None if group is None else _layout(path, _datasets_of, group, f"layers/{group_name}"))


def _layout(path, read, group, where):
    """`read(group, where)`, a damaged layout (a vars key that is not a number, a group where an array should
    be) a KerasFileError naming the place."""
    try:
        found = read(group, where)
    except (KeyError, ValueError, TypeError) as error:
        raise KerasFileError(path, f"{where}: its weights are not laid out as Keras writes them ({error})") from None
    for key, dataset in found:
        if not isinstance(dataset, _h5py().Dataset):
            raise KerasFileError(path, f"{key}: a group where Keras writes an array")
    return found


def _assign(model_layer, datasets, path, where):
    """Copy a layer's arrays in, their shapes compared before any is read."""
    expected = [w.shape for w in model_layer.weights]
    found = [tuple(d.shape) for d in datasets]
    if expected != found:
        raise KerasFileError(path, f"{where}: layer {model_layer.name!r} needs weights of shapes {expected}; "
                                   f"the file has {found}")
    model_layer.set_weights([np.asarray(d) for d in datasets])


def _assign_keras3(model, names_and_classes, h5, path):
    """Copy `layers/<path>/...` arrays into the model's layers named in `names_and_classes` (Keras order)."""
    for name, group_name, datasets in _keras3_layer_datasets(names_and_classes, h5, path):
        layer = model.get_layer(name)
        if not layer.weights:
            continue
        if datasets is None:
            raise KerasFileError(path, f"the weights of layer {name!r} ({group_name}) are missing")
        _assign(layer, [d for _, d in datasets], path, f"layers/{group_name}")


def _shapes(layer_datasets):
    """{layer name: {array path: shape}} in Keras order, from (layer name, [(path, dataset)]) pairs."""
    return {name: {key: tuple(int(n) for n in dataset.shape) for key, dataset in datasets}
            for name, datasets in layer_datasets}


def _keras_order(model):
    return [(layer.name, type(layer).__name__) for layer in model.layers]


def load_keras_model(filepath, compile=True):
    """The lstmcore model equivalent to a Keras `.keras` or legacy `.h5` model file, its weights copied;
    with `compile`, compiled as the file's compile settings say (keras_compile), as Keras's load_model
    does; settings lstmcore cannot follow leave it uncompiled, with a warning that says which."""
    path = os.fspath(filepath)
    if path.lower().endswith(".keras"):
        model, settings = _load_dot_keras(path)
    else:
        model, settings = _load_legacy_h5(path)
    if compile and isinstance(settings, dict):
        _compile_as_saved(model, settings, path)
    return model


def _compile_as_saved(model, settings, path):
    try:
        model.compile(**compile_arguments(settings))
    except (ValueError, TypeError, KeyError) as error:
        warnings.warn(f"{path}: its compile settings were not restored ({error}); the model is uncompiled: "
                      "call compile() before fit() or evaluate()", UserWarning, stacklevel=4)


def _load_dot_keras(path):
    config, weights = _read_dot_keras(path)
    config = _checked(path, without_mask_operations, config)
    order = _checked(path, layer_order, config)
    try:
        h5 = _h5py().File(io.BytesIO(weights), "r")
    except OSError as error:
        raise KerasFileError(path, f"its model.weights.h5 is not an HDF5 file ({error})") from None
    with h5:
        layers = _keras3_layer_datasets(order, h5, path)
        _checked(path, check_keras_model, config, _shapes((name, found) for name, _, found in layers if found))
        model = _model_from(config, path)
        _assign_keras3(model, order, h5, path)
    return model, config.get("compile_config")


def _read_dot_keras(path):
    """(config, the bytes of model.weights.h5) of a .keras zip; each member's size checked before it is read
    (a zip member inflates to the size it declares)."""
    try:
        with zipfile.ZipFile(path) as archive:
            for member in ("config.json", "model.weights.h5"):
                size = archive.getinfo(member).file_size
                if size > MAX_MODEL_FILE_BYTES:
                    raise KerasFileError(path, f"its {member} is {size:,} bytes, beyond the limit of "
                                               f"{MAX_MODEL_FILE_BYTES:,} for a model file "
                                               "(lstmcore.saving.validation.MAX_MODEL_FILE_BYTES)")
            text, weights = archive.read("config.json"), archive.read("model.weights.h5")
    except (zipfile.BadZipFile, KeyError, OSError, EOFError) as error:
        raise KerasFileError(path, f"is not a Keras 3 .keras file ({error})") from None
    return _parse_config(path, text), weights


def _parse_config(path, text):
    """The JSON model config, or a KerasFileError (corrupt, or nested deeper than Python parses)."""
    try:
        return json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise KerasFileError(path, f"its model config is not JSON ({error})") from None
    except RecursionError:
        raise KerasFileError(path, "its model config is not JSON that can be read (nested too deeply)") from None


def _checked(path, check, *args):
    """`check(*args)`, a SpecError a KerasFileError naming the file."""
    try:
        return check(*args)
    except SpecError as error:
        raise KerasFileError(path, str(error)) from None


def _model_from(config, path):
    try:
        return model_from_keras_config(config)
    except (KeyError, TypeError, ValueError, ImportError) as error:
        raise KerasFileError(path, str(error)) from None


def _load_legacy_h5(path):
    h5py = _h5py()
    try:
        h5 = h5py.File(path, "r")
    except OSError as error:
        raise KerasFileError(path, f"is not an HDF5 file ({error})") from None
    with h5:
        if "model_config" not in h5.attrs:
            raise KerasFileError(path, "holds weights only; build the model and call model.load_weights()")
        config = _checked(path, without_mask_operations, _parse_config(path, h5.attrs["model_config"]))
        group = h5["model_weights"] if "model_weights" in h5 else h5
        _checked(path, check_keras_model, config, _shapes(_legacy_layer_datasets(group, path)))
        model = _model_from(config, path)
        _assign_legacy(model, group, path)
        settings = h5.attrs.get("training_config")
    return model, _parse_config(path, settings) if settings is not None else None


def _text(name):
    return name.decode() if isinstance(name, bytes) else str(name)


def _legacy_layer_datasets(group, path):
    """(layer name, [(weight name, dataset)]) per layer that Keras 2's layout lists with weights: attribute
    `layer_names`, and per layer `weight_names` in Keras order."""
    if "layer_names" not in group.attrs:
        raise KerasFileError(path, "it holds no 'layer_names' (not a Keras weights file)")
    for name in (_text(n) for n in group.attrs["layer_names"]):
        if name not in group:
            raise KerasFileError(path, f"it lists the layer {name!r} but holds no weights for it")
        names = [_text(n) for n in group[name].attrs.get("weight_names", [])]
        missing = [n for n in names if n not in group[name]]
        if missing:
            raise KerasFileError(path, f"the weight {missing[0]!r} of layer {name!r} is missing")
        if names:
            yield name, _layout(path, lambda layer, _: [(n, layer[n]) for n in names], group[name], name)


def _assign_legacy(model, group, path):
    """Copy Keras 2's arrays into the model's layers of the same names."""
    for name, datasets in _legacy_layer_datasets(group, path):
        _assign(model.get_layer(name), [d for _, d in datasets], path, name)


def save_keras_weights(model, filepath):
    """Write the model's weights in Keras 3's `.weights.h5` layout (atomically: a temporary file, renamed)."""
    from ..io.atomic import atomic_path

    with atomic_path(filepath) as temporary, _h5py().File(temporary, "w") as h5:
        layers = h5.create_group("layers")
        for layer, group_name in zip(model.layers, _variable_paths([type(l).__name__ for l in model.layers])):
            if layer.weights:
                _write_layer(layers.create_group(group_name), layer)


def _write_layer(group, layer):
    own = list(layer._params.values())
    if own:
        target = group.create_group("cell") if type(layer).__name__ == "LSTM" else group
        variables = target.create_group("vars")
        for index, value in enumerate(own):
            variables.create_dataset(str(index), data=value)
    for label, sub in zip(_sublayer_labels(layer), layer._sublayers()):
        _write_layer(group.create_group(label), sub)


def _sublayer_labels(layer):
    return ("forward_layer", "backward_layer") if type(layer).__name__ == "Bidirectional" else ("layer",)


def load_keras_weights(model, filepath):
    """Read a Keras 3 `.weights.h5` (or a legacy `.h5`) file into `model`, layer by layer."""
    path = os.fspath(filepath)
    try:
        h5 = _h5py().File(path, "r")
    except OSError as error:
        raise KerasFileError(path, f"is not an HDF5 file ({error})") from None
    with h5:
        if "layers" in h5:
            _assign_keras3(model, _keras_order(model), h5, path)
        else:
            _assign_legacy(model, h5["model_weights"] if "model_weights" in h5 else h5, path)

"""Model files: one safetensors file, weights as named arrays, JSON config in its metadata.

Layout of a model file:

- tensors `layers.{i}.{weight}` for the i-th layer's weights in Keras order
  (`layers.0.kernel`, `layers.0.recurrent_kernel`, `layers.2.forward.bias`, ...),
  readable by any safetensors reader (PyTorch users: `safetensors.torch.load_file`);
- tensors `optimizer.*` with the optimizer's state when it was saved;
- metadata key `lstmcore`: JSON with `format`, `format_version`,
  `library_version`, `model` (the Sequential config), `compile` (optimizer,
  loss and metrics by name and config) and `extra` (free JSON for tasks, e.g.
  an encoder's state).

Nothing is unpickled: loading parses JSON and raw arrays only.  A file is
read once, into memory, with a size limit (`read_model_bytes`; a FIFO works),
and everything is parsed from those bytes (`parse_model_bytes`,
`model_from_parsed`): the command line reads a model from standard input
this way.  Writes are
atomic: the bytes go to a temporary file in the target's directory, which
then replaces the target, so an interrupted save leaves the old file intact.
A truncated, corrupt or foreign file raises `ModelFileError` naming it.
"""
from __future__ import annotations

import json
import os
import struct
import tempfile

import numpy as np
import safetensors.numpy

from . import keras_files
from .model_classes import MODEL_CLASSES, register_model_class

__all__ = ["ModelFileError", "save_model", "load_model", "save_weights", "load_weights", "register_model_class",
           "read_metadata", "read_metadata_and_shapes", "read_model_bytes", "parse_model_bytes",
           "model_from_parsed", "check_spec", "FORMAT", "FORMAT_VERSION"]

FORMAT = "lstmcore.model"
WEIGHTS_FORMAT = "lstmcore.weights"
FORMAT_VERSION = 1
_METADATA_KEY = "lstmcore"


class ModelFileError(ValueError):
    """A model file that cannot be read: truncated, corrupt, foreign, or from a newer version."""

    def __init__(self, path, reason):
        self.path = os.fspath(path)
        self.reason = " ".join(str(reason).split())  # one line, whatever a crafted file's keys hold
        super().__init__(f"Cannot load model file {self.path!r}: {self.reason}")


# ----- writing ----------------------------------------------------------------------------
# Model classes by the name a file gives (models register themselves, so this module never imports
# a model class and models.py may import it: no cycle).
def _write_bytes(handle, data):
    """Write `data` to an open binary file (a seam for tests that interrupt a save)."""
    handle.write(data)


def _atomic_write(path, data, overwrite):
    from ..io.atomic import special_file_kind

    path = os.fspath(path)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path!r} exists and overwrite=False")
    if os.path.islink(path):
        path = os.path.realpath(path)  # write through the link: the link stays
    kind = special_file_kind(path) or ("a folder" if os.path.isdir(path) else "")
    if kind:
        raise ValueError(f"{path!r} is {kind}, not a regular file: a model file only ever replaces a regular "
                         "file. Received: filepath naming it")
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            _write_bytes(handle, data)
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _weight_tensors(model):
    tensors = {}
    for index, layer in enumerate(model.layers):
        for name, value in zip(layer.weight_names, layer.weights):
            tensors[f"layers.{index}.{name}"] = np.ascontiguousarray(value)
    return tensors


def _library_version():
    from .. import __version__

    return __version__


def require_model_file_name(filepath):
    """ValueError for a model file named as Keras's format: lstmcore writes its own (checked before any
    work, so a ModelCheckpoint says it before the first epoch, not after it)."""
    if keras_files.is_keras_path(filepath):
        raise ValueError(f"lstmcore writes its own model files (one safetensors file: config, weights, optimizer), "
                         f"not Keras's .keras / .h5 format. Received: filepath={os.fspath(filepath)!r}; name it "
                         "'.lstm' (model.save_weights('x.weights.h5') does write Keras's weights format)")


def save_model(model, filepath, overwrite=True, include_optimizer=True, extra=None):
    """Write `model` to `filepath` atomically (see the module docstring for the layout).

    Args:
        model: a built Sequential.
        filepath: destination; conventionally ending in '.lstm' or '.safetensors'.
        overwrite: default True; False raises FileExistsError if the file exists.
        include_optimizer: default True: keep the optimizer state so training resumes exactly.
        extra: JSON-able dict stored with the model (tasks keep encoder state here);
            defaults to `model.extra_metadata` when the model has one.
    """
    require_model_file_name(filepath)
    if not model.built:
        raise ValueError("model must be built before saving (give an input shape or fit it). "
                         f"Received: an unbuilt model {model.name!r}")
    tensors = _weight_tensors(model)
    if include_optimizer and model.compiled and model.optimizer.iterations > 0:
        for key, value in model.optimizer.get_state().items():
            tensors[f"optimizer.{key}"] = np.ascontiguousarray(value)
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "library_version": _library_version(),
        "model": {"class_name": type(model).__name__, "config": model.get_config()},
        "compile": model._compile_config(),
        "extra": extra if extra is not None else getattr(model, "extra_metadata", None),
    }
    try:
        text = json.dumps(header)
    except TypeError as error:
        raise ValueError(f"extra must be JSON-serialisable. Received: extra that fails ({error})") from None
    data = safetensors.numpy.save(tensors, metadata={_METADATA_KEY: text})
    _atomic_write(filepath, data, overwrite)


def save_weights(model, filepath, overwrite=True):
    """Write only the weights of `model` (same tensor names as a model file)."""
    if not model.built:
        raise ValueError(f"model must be built before saving its weights. Received: an unbuilt model {model.name!r}")
    if keras_files.is_keras_path(filepath):
        if not overwrite and os.path.exists(filepath):
            raise FileExistsError(f"{os.fspath(filepath)} exists and overwrite=False")
        keras_files.save_keras_weights(model, filepath)
        return
    header = {"format": WEIGHTS_FORMAT, "format_version": FORMAT_VERSION,
              "library_version": _library_version()}
    data = safetensors.numpy.save(_weight_tensors(model), metadata={_METADATA_KEY: json.dumps(header)})
    _atomic_write(filepath, data, overwrite)


# ----- reading ----------------------------------------------------------------------------
def read_model_bytes(filepath):
    """The bytes of a model file, read once (a FIFO works), at most `validation.MAX_MODEL_FILE_BYTES`."""
    from ..io.inputs import read_at_most
    from . import validation

    path = os.fspath(filepath)
    limit = validation.MAX_MODEL_FILE_BYTES
    with open(path, "rb") as handle:
        data = read_at_most(handle, limit)
    if data is None:
        raise ModelFileError(path, f"it is larger than {limit:,} bytes, the limit for a model file "
                                   "(lstmcore.saving.validation.MAX_MODEL_FILE_BYTES)")
    return data


def _read(filepath):
    """(tensors, header dict) of an lstmcore file, or ModelFileError saying what is wrong."""
    path = os.fspath(filepath)
    return parse_model_bytes(read_model_bytes(path), path)


def parse_model_bytes(data, path):
    """(tensors, header dict) of the bytes of an lstmcore file; `path` names it in a ModelFileError."""
    if len(data) < 8:
        raise ModelFileError(path, f"the file is truncated or empty ({len(data)} bytes; "
                                   "a safetensors file starts with an 8-byte header length)")
    (header_length,) = struct.unpack("<Q", data[:8])
    if header_length > len(data) - 8:
        raise ModelFileError(path, "the file is truncated or not a safetensors file "
                                   f"(its header claims {header_length} bytes, {len(data) - 8} follow)")
    try:
        header = json.loads(data[8:8 + header_length].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelFileError(path, f"the safetensors header is corrupt ({error})") from None
    except RecursionError:
        raise ModelFileError(path, "the safetensors header is corrupt (JSON nested too deeply)") from None
    if not isinstance(header, dict):
        raise ModelFileError(path, "the safetensors header is corrupt (not a JSON object)")
    metadata = header.get("__metadata__") or {}
    if not isinstance(metadata, dict) or not isinstance(metadata.get(_METADATA_KEY), str):
        raise ModelFileError(path, "it is not an lstmcore model file (a safetensors file without "
                                   f"'{_METADATA_KEY}' metadata)")
    try:
        info = json.loads(metadata[_METADATA_KEY])
    except json.JSONDecodeError as error:
        raise ModelFileError(path, f"its lstmcore metadata is corrupt ({error})") from None
    except RecursionError:
        raise ModelFileError(path, "its lstmcore metadata is corrupt (JSON nested too deeply)") from None
    if not isinstance(info, dict) or info.get("format") not in (FORMAT, WEIGHTS_FORMAT):
        raise ModelFileError(path, "it is not an lstmcore model file (unknown format "
                                   f"{info.get('format') if isinstance(info, dict) else info!r})")
    version = info.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(path, f"it was written in format version {version!r} by lstmcore "
                                   f"{info.get('library_version')}; this lstmcore reads versions up to "
                                   f"{FORMAT_VERSION} (upgrade lstmcore)")
    try:
        tensors = safetensors.numpy.load(data)
    except Exception as error:  # SafetensorError is not exported under a stable name
        raise ModelFileError(path, f"its tensor data is truncated or corrupt ({error})") from None
    return tensors, info


def read_metadata(filepath):
    """The JSON header of an lstmcore file (format, versions, config, compile, extra)."""
    return _read(filepath)[1]


def read_metadata_and_shapes(filepath):
    """(the JSON header, {tensor name: shape}) of an lstmcore file, every tensor checked as load does.

    What `lstmcore info` needs: the architecture and its parameter counts
    without building the model (so without the layers' plugins).
    """
    tensors, info = _read(filepath)
    return info, {name: tuple(int(n) for n in value.shape) for name, value in tensors.items()}


def _assign_weights(model, tensors, path):
    for index, layer in enumerate(model.layers):
        values = []
        for name, target in zip(layer.weight_names, layer.weights):
            key = f"layers.{index}.{name}"
            if key not in tensors:
                raise ModelFileError(path, f"the weight {key!r} of layer {layer.name!r} is missing")
            value = tensors[key]
            if value.shape != target.shape:
                raise ModelFileError(path, f"the weight {key!r} has shape {value.shape}; layer "
                                           f"{layer.name!r} needs {target.shape}")
            values.append(value)
        layer.set_weights(values)


def load_model(filepath, custom_objects=None, compile=True):
    """Rebuild a model saved with `save_model` / `Sequential.save`.

    Args:
        filepath: the model file.
        custom_objects: {class name: Layer subclass} for layers that are not built in.
        compile: default True: compile with the saved optimizer (and its state), loss and metrics.

    Returns:
        The model, its weights bit-identical to the saved ones; the `extra`
        JSON stored with it is `model.extra_metadata`.  A Keras file (`.keras`,
        or legacy `.h5`) gives the equivalent lstmcore model with Keras's weights,
        compiled with the optimizer, loss and metrics the file names (a fresh
        optimizer: Keras's state is not read; `lstmcore.saving.keras_files`).

    A layer class that is not registered yet (a task plugin's own layer, say)
    loads the plugins (entry points in the group "lstmcore") and is looked up
    again, so a model that `lstmcore train` wrote loads without importing its
    plugin by hand.  Still unknown, the error names the task that wrote the
    file and the plugin distribution to install.
    """
    path = os.fspath(filepath)
    if keras_files.is_keras_path(path):
        return keras_files.load_keras_model(path, compile)
    tensors, info = _read(path)
    return model_from_parsed(path, tensors, info, custom_objects, compile)


def model_from_parsed(path, tensors, info, custom_objects=None, compile=True):
    """The model of a file already read and parsed (`parse_model_bytes`): checked, built, weights set."""
    if info.get("format") != FORMAT:
        raise ModelFileError(path, "it holds weights only (written by save_weights); build the model "
                                   "and call model.load_weights()")
    spec = info.get("model")
    if not isinstance(spec, dict):
        raise ModelFileError(path, "its model config is missing or not a JSON object")
    model_class = MODEL_CLASSES.get(spec.get("class_name")) if isinstance(spec.get("class_name"), str) else None
    if model_class is None:
        raise ModelFileError(path, f"it holds an unknown model class {spec.get('class_name')!r}")
    _require_layer_classes(path, spec.get("config"), info, custom_objects)
    check_spec(path, spec, {name: value.shape for name, value in tensors.items()}, custom_objects)
    try:
        model = model_class.from_config(spec["config"], custom_objects=custom_objects)
    except (KeyError, TypeError, ValueError, IndexError) as error:
        raise ModelFileError(path, f"its model config cannot be rebuilt ({error})") from None
    if not model.built:
        raise ModelFileError(path, "its model config has no input shape")
    _assign_weights(model, tensors, path)
    model.extra_metadata = info.get("extra")
    compile_spec = info.get("compile")
    if compile and compile_spec:
        try:
            _compile_from_spec(model, compile_spec, tensors)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ModelFileError(path, f"its compile settings (optimizer, loss, metrics) cannot be rebuilt "
                                       f"({error})") from None
    return model


def _compile_from_spec(model, compile_spec, tensors):
    """Compile `model` with the file's optimizer (and its state), loss and metrics."""
    from .. import losses, optimizers

    if not isinstance(compile_spec, dict):
        raise ValueError("not a JSON object")
    loss_spec = compile_spec["loss"]
    model.compile(optimizer=optimizers.deserialize(compile_spec["optimizer"]),
                  loss=([losses.deserialize(item) for item in loss_spec] if isinstance(loss_spec, list)
                        else losses.deserialize(loss_spec)),
                  loss_weights=compile_spec.get("loss_weights"),
                  metrics=compile_spec.get("metrics") or None,
                  weighted_metrics=compile_spec.get("weighted_metrics") or None)
    state = {key[len("optimizer."):]: value for key, value in tensors.items()
             if key.startswith("optimizer.")}
    if state:
        model.optimizer.set_state(state, {"model": model._flat_params})


def check_spec(path, spec, shapes, custom_objects=None):
    """(input shape, output shape) of a model spec checked against its tensors' `shapes` and the limits
    (lstmcore.saving.model_validation), before anything is allocated; ModelFileError says what is wrong."""
    from .model_validation import check_model_spec
    from .validation import SpecError

    try:
        return check_model_spec(spec, shapes, custom_objects)
    except SpecError as error:
        raise ModelFileError(path, str(error)) from None


def _require_layer_classes(path, config, info, custom_objects):
    """Make sure every layer class the config names is known, loading the plugins once if one is not.

    Plugins register their layers when they are imported, and a script that
    only calls `load_model` may not have read any registry yet, so nothing has
    loaded them: that is the one retry worth making.
    """
    missing = _unregistered_layer_classes(config, custom_objects)
    if not missing:
        return
    from .. import plugins

    plugins.load_plugins()
    missing = _unregistered_layer_classes(config, custom_objects)
    if missing:
        raise ModelFileError(path, _unknown_layers_reason(missing, info.get("extra")))


def _unregistered_layer_classes(config, custom_objects):
    """The layer class names in a Sequential config (wrapped layers too) that no one registered, sorted."""
    from .. import layers

    missing = set()
    layer_specs = config.get("layers") if isinstance(config, dict) else None
    pending = list(layer_specs) if isinstance(layer_specs, list) else []  # a damaged list: check_spec says so
    while pending:
        spec = pending.pop()
        if not isinstance(spec, dict) or "class_name" not in spec:
            continue  # a malformed spec is reported by from_config, with its own message
        try:
            layers.get(spec["class_name"], custom_objects)
        except (ValueError, TypeError):
            missing.add(str(spec["class_name"]))
        inner = (spec.get("config") or {}).get("layer") if isinstance(spec.get("config"), dict) else None
        if isinstance(inner, dict):
            pending.append(inner)  # Bidirectional, TimeDistributed
    return sorted(missing)


def _unknown_layers_reason(missing, extra):
    """Why the model cannot be rebuilt, and what to install: the task that wrote it and its plugin."""
    names = ", ".join(repr(name) for name in missing)
    reason = f"it uses the layer class{'es' if len(missing) > 1 else ''} {names}, which no loaded plugin registers"
    task = extra.get("task") if isinstance(extra, dict) else None
    if task is None:
        return (f"{reason}; import the module that defines {'them' if len(missing) > 1 else 'it'} "
                "(lstmcore.layers.register_layer) or pass custom_objects")
    from ..plugins import plugin_install_hint

    hint = plugin_install_hint(extra)
    return f"{reason}; the file was written by task {task!r}" + (f": {hint}" if hint else
                                                                 "; install the plugin that provides that task")


def load_weights(model, filepath):
    """Read the weights of a model or weights file into `model` (built, same architecture)."""
    path = os.fspath(filepath)
    if not model.built:
        raise ValueError(f"model must be built before loading weights into it. Received: an unbuilt model "
                         f"{model.name!r}")
    if keras_files.is_keras_path(path):
        keras_files.load_keras_weights(model, path)
        return
    tensors, _ = _read(path)
    _assign_weights(model, tensors, path)

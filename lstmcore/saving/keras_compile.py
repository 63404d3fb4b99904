"""The compile settings a Keras file keeps, as lstmcore's compile() arguments.

Keras restores a model's optimizer, loss and metrics when it loads a `.keras`
file (its config.json's "compile_config") or a legacy `.h5` (the
"training_config" attribute), so a script that loads a model and calls
evaluate() or fit() works; `load_keras_model` does the same with these
arguments.  A name is taken as lstmcore spells it (Keras's class names are
its snake-cased names: BinaryCrossentropy is "binary_crossentropy"), with the
constructor arguments lstmcore's class takes; Keras-only arguments (names,
dtypes, reductions, EMA) are left out.  What lstmcore has no equivalent for (a
learning-rate schedule, a custom loss) raises ValueError naming it, and the
model loads uncompiled.
"""
from __future__ import annotations

import inspect
from typing import Any, Dict, Mapping

from .. import losses, optimizers, registry
from ..layers.base import snake_case

__all__ = ["compile_arguments"]

# Keras arguments lstmcore's classes do not take and that do not change what they compute: bookkeeping,
# dtypes, and the settings of an EMA that is off (use_ema=True is refused).  Any other argument
# lstmcore's class lacks is refused when set, unless it has the value that changes nothing here.
_KERAS_ONLY = {"name", "dtype", "reduction", "use_ema", "ema_momentum", "ema_overwrite_frequency",
               "loss_scale_factor", "gradient_accumulation_steps"}
_NEUTRAL = {"axis": -1}


def compile_arguments(config: Mapping[str, Any]) -> Dict[str, Any]:
    """compile() keyword arguments from a Keras compile_config (or a legacy training_config)."""
    optimizer = config.get("optimizer", config.get("optimizer_config"))
    arguments = {"optimizer": _optimizer(optimizer), "loss": _tree(config.get("loss"), _loss)}
    for key in ("metrics", "weighted_metrics"):
        if config.get(key) is not None:
            arguments[key] = _tree(config[key], _metric)
    if config.get("loss_weights") is not None:
        arguments["loss_weights"] = config["loss_weights"]
    return arguments


def _tree(value, convert):
    """`convert` applied to each leaf of a loss or metrics spec: one, a list, or a dict by output."""
    if isinstance(value, list):
        return [_tree(item, convert) for item in value]
    if isinstance(value, dict) and "class_name" not in value:
        return {key: _tree(item, convert) for key, item in value.items()}
    return convert(value)


def _name_and_config(spec, what, spell=snake_case):
    """(lstmcore's name, constructor config) of a Keras string or serialized object; `spell` turns a
    Keras class name into lstmcore's (BinaryCrossentropy -> binary_crossentropy)."""
    if isinstance(spec, str):
        return spec, {}
    if not isinstance(spec, dict) or not isinstance(spec.get("class_name"), str):
        raise ValueError(f"the {what} {spec!r} is not one lstmcore reads")
    if spec["class_name"] == "function":            # a Keras function by name: {"config": "mse"}
        name = spec.get("config") or spec.get("registered_name")
        if not isinstance(name, str):
            raise ValueError(f"the {what} {spec!r} is not one lstmcore reads")
        return name, {}
    config = spec.get("config") or {}
    if not isinstance(config, dict):
        raise ValueError(f"the {what} {spec['class_name']!r} has a config lstmcore does not read")
    return spell(spec["class_name"]), dict(config)


def _constructed(cls, config, what, name):
    """cls(**the config's arguments cls takes); ValueError for a value lstmcore cannot take."""
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
    if config.get("use_ema"):
        raise ValueError(f"the {what} {name!r} keeps an exponential moving average of the weights (use_ema)")
    for key, value in config.items():
        neutral = key in _NEUTRAL and value == _NEUTRAL[key]
        if key not in accepted and key not in _KERAS_ONLY and value is not None and not neutral:
            raise ValueError(f"the {what} {name!r} has {key}={value!r}, which lstmcore's does not take")
    keep = {key: value for key, value in config.items()
            if key in accepted and key not in _KERAS_ONLY and value is not None}
    if isinstance(keep.get("learning_rate"), dict):
        raise ValueError(f"the {what} {name!r} has a learning-rate schedule "
                         f"({keep['learning_rate'].get('class_name')})")
    return cls(**keep)


def _optimizer(spec):
    name, config = _name_and_config(spec, "optimizer", str.lower)   # Adam, SGD, RMSprop, AdamW
    name = name.lower()                                             # "Adam" given as a string too
    if name not in registry.optimizers:
        raise ValueError(f"the optimizer {name!r} has no lstmcore equivalent "
                         f"({', '.join(sorted(optimizers.BUILTIN_OPTIMIZERS))} do)")
    return _constructed(registry.optimizers.get(name), config, "optimizer", name)


def _loss(spec):
    name, config = _name_and_config(spec, "loss")
    if name not in registry.losses:
        raise ValueError(f"the loss {name!r} has no lstmcore equivalent")
    found = registry.losses.get(name)
    return _constructed(found, config, "loss", name) if config and inspect.isclass(found) else losses.get(name)


def _metric(spec):
    """A metric by its name: compile() builds it (an "accuracy" after the loss, as Keras does)."""
    name, _ = _name_and_config(spec, "metric")
    if name not in registry.metrics:
        raise ValueError(f"the metric {name!r} has no lstmcore equivalent")
    return name

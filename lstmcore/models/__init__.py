"""Models: the functional `Model(inputs, outputs)`, `Sequential` (its special case of a chain of layers)
and `load_model`.

The model classes hold layers and weights and run the forward and backward
passes; compile, the epoch loop and `train_step` come from
`lstmcore.trainers.Trainer`, and files from `lstmcore.saving`.
"""
from ..saving import load_model
from .model import Model
from .sequential import Sequential

__all__ = ["Model", "Sequential", "load_model", "model_from_json"]


def model_from_json(json_string, custom_objects=None):
    """A new model (fresh weights) of the architecture a `to_json()` string describes; Keras's JSON too."""
    import json

    from ..saving.keras_config import model_from_keras_config
    from ..saving.model_classes import MODEL_CLASSES

    spec = json.loads(json_string)
    if spec.get("format") != "lstmcore":          # Keras's model.to_json()
        return model_from_keras_config(spec)
    model_class = MODEL_CLASSES.get(spec.get("class_name"))
    if model_class is None:
        raise ValueError(f"Unknown model class {spec.get('class_name')!r}. Known: {', '.join(sorted(MODEL_CLASSES))}")
    return model_class.from_config(spec["config"], custom_objects=custom_objects)

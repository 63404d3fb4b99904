"""Model files: the safetensors model format (`model_file`) and model files that know their task
(`task_models`: the task's name, encoder state and hyper-parameters in the metadata).

Saving never imports a model class: classes register themselves by name
(`register_model_class`) and loading looks them up.
"""
from .model_file import (FORMAT, FORMAT_VERSION, ModelFileError, load_model, load_weights, read_metadata,
                         read_metadata_and_shapes, register_model_class, save_model, save_weights)

__all__ = ["ModelFileError", "save_model", "load_model", "save_weights", "load_weights", "register_model_class",
           "read_metadata", "read_metadata_and_shapes", "FORMAT", "FORMAT_VERSION"]

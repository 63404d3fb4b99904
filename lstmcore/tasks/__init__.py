"""Tasks: the contract a task plugin implements (`contract`), and what tasks share, each in its own
module: `splits` (cross-validation splitters, validation holdouts), `cross_validation`, `scores`,
`training` (class weights, learning-rate schedules) and `synthetic` (demo data).  A plugin imports
all of it from the one module `lstmcore.toolkit`.
"""
from .contract import (Encoded, ExampleData, SkippedRecord, Task, read_config_file, resolve_hyperparameters,
                       validation_arguments)

__all__ = ["Task", "Encoded", "ExampleData", "SkippedRecord", "resolve_hyperparameters", "read_config_file", "validation_arguments"]

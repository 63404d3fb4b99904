"""lstmcore-motif: the `motif` task (FASTA classification) and the `motif` command (attribution, motifs).

lstmcore finds this module through the entry point `motif` in the group
`lstmcore` (pyproject.toml) and calls the functions marked
`@lstmcore.hookimpl`.  Importing it also registers the model layer the task
uses (`MaskedGlobalPooling`), so saved models load.
"""
import lstmcore

from .pooling import MaskedGlobalPooling  # noqa: F401  (registers the layer class for model files)

__version__ = "0.1.0"


@lstmcore.hookimpl
def register_tasks(register):
    from .task import MotifTask

    register(MotifTask.name, MotifTask())


@lstmcore.hookimpl
def register_commands(register):
    from .commands import MOTIF_COMMAND

    register("motif", MOTIF_COMMAND)

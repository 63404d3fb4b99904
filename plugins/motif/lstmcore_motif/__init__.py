"""lstmcore-motif: the `motif` task (FASTA classification) and the `motif` command (attribution, motifs).

lstmcore finds this module through the entry point `motif` in the group
`lstmcore` (pyproject.toml) and calls the functions marked
`@lstmcore.hookimpl`.  Its model's layers are all the core's (the pooling
layer included), so a saved model loads without this plugin's code.
"""
import lstmcore

__version__ = "0.1.0"


@lstmcore.hookimpl
def register_tasks(register):
    from .task import MotifTask

    register(MotifTask.name, MotifTask())


@lstmcore.hookimpl
def register_commands(register):
    from .commands import MOTIF_COMMAND

    register("motif", MOTIF_COMMAND)

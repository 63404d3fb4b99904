"""lstmcore-signal: the `signal` task (classifying recorded traces) and the `ts` reader.

Users: a physiologist or cell biologist with recorded traces (ECG beats,
calcium or voltage imaging, protein-activation time courses), one or several
channels, one class per trace, often few labelled examples.  lstmcore finds
this module through the entry point `signal` in the group `lstmcore`
(pyproject.toml).  The model is built from the core's layers only, so a saved
model loads without this plugin's code.
"""
import lstmcore

__version__ = "0.1.0"


@lstmcore.hookimpl
def register_tasks(register):
    from .task import SignalTask

    register(SignalTask.name, SignalTask())


@lstmcore.hookimpl
def register_readers(register):
    from lstmcore.io.readers import Reader

    from .ts_format import read_ts_arrays

    register("ts", Reader(read_ts_arrays, (".ts",), "UEA/UCR archive time-series file (sktime/aeon's .ts)",
                          kind="arrays"))

"""lstmcore-population: the `population` task (forecasting animal counts) and its count losses.

lstmcore finds this module through the entry point `population` in the group `lstmcore`
(pyproject.toml) and calls the functions marked `@lstmcore.hookimpl`.  The model is made of the core's
layers only; its count losses (`poisson_log`, `negative_binomial`) are registered here.
"""
import lstmcore

__version__ = "0.1.0"


@lstmcore.hookimpl
def register_tasks(register):
    from .task import PopulationTask

    register(PopulationTask.name, PopulationTask())


@lstmcore.hookimpl
def register_losses(register):
    from .losses import NegativeBinomialLog, PoissonLog

    register("poisson_log", PoissonLog)
    register("negative_binomial", NegativeBinomialLog)

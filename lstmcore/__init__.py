"""lstmcore: a fast LSTM for biological sequences.

The recurrent core is compiled (Cython + OpenMP, BLAS for the products);
the API is Keras's, so ported scripts run with their imports changed.
"""
__version__ = "0.1.0"

from . import _check_build  # noqa: F401  (clear message when the kernels are not built)
from ._malloc import tune_malloc as _tune_malloc

_tune_malloc()  # reuse freed work buffers instead of page-faulting them back (see _malloc.py)
from ._config import machine_summary, show_config
from ._threads import get_num_threads, set_num_threads
from . import ops
from .precision import get_inference_precision, inference_precision

__all__ = ["__version__", "ops", "get_num_threads", "set_num_threads", "show_config", "machine_summary",
           "inference_precision", "get_inference_precision"]

from .hookspecs import hookimpl  # the marker plugin authors decorate their hooks with
from . import plugins as _plugins  # noqa: F401  (installs the plugin manager as the registries' loader)
__all__ += ["hookimpl"]

# Keras-style models (issue 4)
from .backend import floatx, set_floatx, set_seed
from . import callbacks, initializers, layers, losses, metrics, models, optimizers, regularizers, saving
from .models import Model, Sequential, load_model
from .layers import Input
from . import preprocessing, utils

__all__ += ["Model", "Sequential", "Input", "load_model", "set_seed", "floatx", "set_floatx", "layers", "models",
            "losses", "metrics", "optimizers", "callbacks", "initializers", "regularizers", "saving", "utils", "preprocessing"]

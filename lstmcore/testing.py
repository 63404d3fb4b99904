"""Moved to lstmcore.plugin.testing; re-exported here for plugin authors' tests and conftest.py files."""
from .plugin.testing import (  # noqa: F401
    check_gradient, check_loss_gradient, fresh_plugin_manager, kernel_variants, numerical_gradient,
    registered_plugin, using_kernel,
)
from .plugin.testing import __all__  # noqa: F401

try:  # the pytest fixtures exist only where pytest is installed
    from .plugin.testing import fresh_plugins, register_plugin  # noqa: F401
except ImportError:  # pragma: no cover
    pass

"""Moved to lstmcore.plugin.manager; `lstmcore.plugins` is that very module under its old name."""
import sys

from .plugin import manager
from .plugin.manager import *  # noqa: F401,F403  (the public names, for tools that read this file)

# The same module object rather than copies of its names: tests and users patch
# module attributes (`lstmcore.plugins._entry_points`), and `_manager` changes.
sys.modules[__name__] = manager

"""Deprecated: workflow analysis moved to :mod:`statesignals.analysis`.

Kept for one release so that ``from statesignals.graph import WorkflowGraph``
still works.
"""

from __future__ import annotations

import warnings

from .analysis import *  # noqa: F403
from .analysis import __all__ as __all__

warnings.warn("statesignals.graph is now statesignals.analysis", DeprecationWarning, stacklevel=2)

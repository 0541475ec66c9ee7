"""Deprecated: moved to :mod:`statesignals.bridge.diagrams`.

Kept for one release, and so that pickles made with 0.1 still load.
"""

from __future__ import annotations

import warnings

from .bridge.diagrams import *  # noqa: F403
from .bridge.diagrams import __all__ as __all__

warnings.warn(
    "statesignals.graph_machines is now statesignals.bridge.diagrams",
    DeprecationWarning,
    stacklevel=2,
)

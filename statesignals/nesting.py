"""Deprecated: moved to :mod:`statesignals.bridge.nesting`.

Kept for one release, and so that pickles made with 0.1 still load.
"""

from __future__ import annotations

import warnings

from .bridge.nesting import *  # noqa: F403
from .bridge.nesting import __all__ as __all__

warnings.warn(
    "statesignals.nesting is now statesignals.bridge.nesting", DeprecationWarning, stacklevel=2
)

"""Deprecated: moved to :mod:`statesignals.bridge.asyncio`.

Kept for one release, and so that pickles made with 0.1 still load.
"""

from __future__ import annotations

import warnings

from .bridge.asyncio import *  # noqa: F403
from .bridge.asyncio import __all__ as __all__

warnings.warn(
    "statesignals.asynchronous is now statesignals.bridge.asyncio", DeprecationWarning, stacklevel=2
)

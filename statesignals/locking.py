"""Deprecated: moved to :mod:`statesignals.bridge.locking`.

Kept for one release, and so that pickles made with 0.1 still load.
"""

from __future__ import annotations

import warnings

from .bridge.locking import *  # noqa: F403
from .bridge.locking import __all__ as __all__

warnings.warn(
    "statesignals.locking is now statesignals.bridge.locking", DeprecationWarning, stacklevel=2
)

"""Deprecated: the declarative base class moved to :mod:`statesignals.declarative`.

Kept for one release so that ``from statesignals.machine import SignalingMachine``
still works; import from ``statesignals`` instead.
"""

from __future__ import annotations

import warnings

from .declarative import *  # noqa: F403
from .declarative import __all__ as __all__

warnings.warn(
    "statesignals.machine is now statesignals.declarative; import from statesignals",
    DeprecationWarning,
    stacklevel=2,
)

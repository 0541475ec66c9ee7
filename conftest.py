"""Every test, doctests of the docs and README included, starts with no receivers."""

from __future__ import annotations

import collections.abc as c

import pytest

from statesignals.testing import disconnect_all


@pytest.fixture(autouse=True)
def isolated_signals() -> c.Iterator[None]:
    """Disconnect whatever a test connected, global and per-class receivers alike."""
    yield
    disconnect_all()

"""Shared fixtures: every test starts with no receivers on the global signals."""

from __future__ import annotations

import collections.abc as c

import pytest

from statesignals import signals

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def isolated_signals() -> c.Iterator[None]:
    """Disconnect whatever a test connected to the global signals."""
    before = {name: set(signal.receivers) for name, signal in signals.items()}
    yield
    for name, signal in signals.items():
        for receiver_id in set(signal.receivers) - before[name]:
            signal._disconnect(receiver_id, 0)

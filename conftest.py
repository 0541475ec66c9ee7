"""Every test, doctests of the docs and README included, starts with no receivers."""

from __future__ import annotations

import collections.abc as c

import pytest
from blinker import Signal

from statesignals import signals, transition_committed, transition_flushed


def disconnect_all(signal: Signal) -> None:
    """Disconnect every receiver of ``signal``."""
    for receiver_id in list(signal.receivers):
        signal._disconnect(receiver_id, 0)


@pytest.fixture(autouse=True)
def isolated_signals() -> c.Iterator[None]:
    """Disconnect whatever a test connected to the global signals."""
    yield
    for signal in (*signals.values(), transition_committed, transition_flushed):
        disconnect_all(signal)

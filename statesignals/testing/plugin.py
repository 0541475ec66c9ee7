"""The pytest plugin of :mod:`statesignals.testing` (entry point ``statesignals``).

Installed with the package, so its fixtures need no import or ``conftest.py``.
"""

from __future__ import annotations

import collections.abc as c

import pytest

from . import SignalRecorder, disconnect_all


@pytest.fixture
def signal_recorder() -> c.Iterator[SignalRecorder]:
    """A :class:`~statesignals.testing.SignalRecorder` active for the whole test."""
    with SignalRecorder() as recorder:
        yield recorder


@pytest.fixture
def isolated_signals() -> c.Iterator[None]:
    """Disconnect, after the test, every receiver it connected (see :func:`disconnect_all`)."""
    yield
    disconnect_all()


__all__ = ["isolated_signals", "signal_recorder"]

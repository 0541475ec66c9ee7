"""Shared fixtures for the test suite (the root conftest isolates the signals)."""

from __future__ import annotations

import typing as t

pytest_plugins = ["pytester"]


def pytest_terminal_summary(terminalreporter: t.Any) -> None:
    """The outbox fault tests' counts (events in, effects out, lost, doubled), one a line."""
    from .outbox_support import FAULT_COUNTS

    if FAULT_COUNTS:
        terminalreporter.section("outbox fault counts")
        for count in FAULT_COUNTS:
            terminalreporter.write_line(count)

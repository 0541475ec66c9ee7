"""Shared fixtures for the test suite (the root conftest isolates the global signals)."""

from __future__ import annotations

import collections.abc as c
import typing as t

import pytest

from statesignals import signals

pytest_plugins = ["pytester"]


class SignalLog:
    """Records signals (and, through :meth:`note`, callbacks) in one ordered list."""

    def __init__(self) -> None:
        self.entries: list[tuple[t.Any, ...]] = []
        self.payloads: list[dict[str, t.Any]] = []

    def note(self, *entry: t.Any) -> None:
        self.entries.append(entry)

    def receiver(self, signal_name: str) -> c.Callable[..., None]:
        def record(sender: object, **payload: t.Any) -> None:
            self.payloads.append({"signal": signal_name, "sender": sender, **payload})
            detail: tuple[t.Any, ...] = (payload["trigger"], payload["source"], payload["dest"])
            if "state" in payload:
                detail += (payload["state"],)
            if signal_name == "transition_denied":
                detail += (payload["reason"], payload["failed_conditions"])
            self.entries.append((signal_name, *detail))

        return record

    def signals_only(self) -> list[tuple[t.Any, ...]]:
        return [entry for entry in self.entries if entry[0] in signals]


@pytest.fixture
def signal_log() -> SignalLog:
    """A log connected to every statesignals signal for the duration of the test."""
    log = SignalLog()
    for name, signal in signals.items():
        signal.connect(log.receiver(name), weak=False)
    return log

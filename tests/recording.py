"""A receiver that records every workflow signal, for tests that check what was sent."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from statesignals import signals


@dataclass
class SignalLog:
    """Every signal sent while connected: (signal name, sender, payload)."""

    sent: list[tuple[str, object, dict[str, t.Any]]] = field(default_factory=list)
    receivers: dict[str, t.Callable[..., None]] = field(default_factory=dict)

    def connect(self) -> SignalLog:
        for name, signal in signals.items():
            self.receivers[name] = self._receiver(name)
            signal.connect(self.receivers[name], weak=False)
        return self

    def disconnect(self) -> None:
        for name, receiver in self.receivers.items():
            signals[name].disconnect(receiver)

    def _receiver(self, name: str) -> t.Callable[..., None]:
        def record(sender: object, **payload: t.Any) -> None:
            self.sent.append((name, sender, payload))

        return record

    def names(self) -> list[str]:
        return [name for name, _, _ in self.sent]

    def states(self) -> list[tuple[str, str]]:
        """(signal name, state) of each state signal, in order."""
        return [(name, p["state"]) for name, _, p in self.sent if "state" in p]

    def of(self, signal_name: str) -> list[dict[str, t.Any]]:
        return [p for name, _, p in self.sent if name == signal_name]

    def clear(self) -> None:
        self.sent.clear()

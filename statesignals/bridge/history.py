"""What keeps each model's state signals a consistent history (docs/signals.md).

``state_entered`` is sent after the state's ``on_enter`` callbacks. While they run,
another trigger of the same model may already move it on: one fired from the
callback itself (a non-queued machine runs it at once), or a newer async trigger
that cancels this one. The entries here let that trigger's first signal send the
pending ``state_entered`` before its own, so that no receiver hears a state left
that it was not told was entered, nor a child entered before its parent.
"""

from __future__ import annotations

import typing as t

from transitions.core import EventData


class Entering:
    """A state the model has entered whose ``state_entered`` has not been sent yet.

    It is sent when the state's ``on_enter`` callbacks return (or raise), unless a
    signal about the same model from another trigger comes first: a trigger fired
    from ``on_enter``, or a newer async trigger that cancelled this one. Then it is
    sent just before that signal, so that the model's history never leaves a state
    it was not told to have entered (docs/signals.md, "A consistent history").
    """

    __slots__ = ("event_data", "extra", "name", "sent")

    def __init__(self, name: str, event_data: EventData, extra: dict[str, t.Any]) -> None:
        self.name = name
        self.event_data = event_data
        self.extra = extra
        self.sent = False


entering: dict[int, list[Entering]] = {}
"""The entries not sent yet, per model id, in the order the states were entered.

Empty whenever no ``on_enter`` callback is running, so a send checks it in one test."""


def settle(entry: Entering) -> bool:
    """Take ``entry`` off the pending entries; False if it was sent already."""
    if entry.sent:
        return False
    entry.sent = True
    key = id(entry.event_data.model)
    pending = entering.get(key)
    if pending is not None:
        if entry in pending:
            pending.remove(entry)
        if not pending:
            del entering[key]
    return True


def overtaken(event_data: EventData) -> list[Entering]:
    """The pending entries of ``event_data``'s model that other triggers left, settled:
    a signal about ``event_data`` is about to be sent, and they must be sent first."""
    pending = entering.get(id(event_data.model))
    if not pending:
        return []
    return [
        entry for entry in list(pending) if entry.event_data is not event_data and settle(entry)
    ]


__all__ = ["Entering", "entering", "overtaken", "settle"]

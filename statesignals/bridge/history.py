"""What keeps each model's state signals a consistent history (docs/signals.md).

``state_entered`` is sent after the state's ``on_enter`` callbacks. While they run,
another trigger of the same model may already move it on: one fired from the
callback itself (a non-queued machine runs it at once), or a newer async trigger
that cancels this one. The entries here let that trigger's first signal send the
pending ``state_entered`` before its own, so that no receiver hears a state left
that it was not told was entered, nor a child entered before its parent.
"""

from __future__ import annotations

import threading
import typing as t

from transitions.core import EventData

Entering = tuple[str, EventData, dict[str, t.Any]]
"""A state the model has entered whose ``state_entered`` has not been sent yet: its
name, the event data of the trigger that entered it, and the extra payload.

It is sent when the state's ``on_enter`` callbacks return (or raise), unless a
signal about the same model from another trigger comes first: a trigger fired
from ``on_enter``, or a newer async trigger that cancelled this one. Then it is
sent just before that signal. A plain tuple: one is made on every state entered
while someone listens."""


class PendingEntries(threading.local):
    """The entries not sent yet, of the triggers running on the current thread.

    A trigger and every trigger that can overtake it run on one thread: one fired
    from its ``on_enter`` runs inside it, and an async trigger's tasks share their
    event loop's thread. Triggers on other threads (other instances of a locked
    workflow, or other machines) never see these entries, so no thread can take off
    or skip another's entry while it is looked for.
    """

    entering: list[Entering]
    """In the order the states were entered (of every model on this thread: a list, as
    a state's entry is appended and taken off while its on_enter runs). Empty whenever
    no ``on_enter`` callback is running here, so a send checks it in one test."""

    def __init__(self) -> None:
        self.entering = []


this_thread = PendingEntries()


def settle(entry: Entering) -> bool:
    """Take ``entry`` off the pending entries; False if it was sent already."""
    entering = this_thread.entering
    if entering and entering[-1] is entry:
        entering.pop()
        return True
    for index, pending in enumerate(entering):
        if pending is entry:
            del entering[index]
            return True
    return False


def overtaken(event_data: EventData) -> list[Entering]:
    """The pending entries of ``event_data``'s model that other triggers left, settled:
    a signal about ``event_data`` is about to be sent, and they must be sent first."""
    model = event_data.model
    return [
        entry
        for entry in list(this_thread.entering)
        if entry[1].model is model and entry[1] is not event_data and settle(entry)
    ]


__all__ = ["Entering", "PendingEntries", "overtaken", "settle", "this_thread"]

"""Views of what a :class:`~statesignals.testing.SignalRecorder` recorded, in the shapes
the tests compare (the recorder is the one way tests record signals)."""

from __future__ import annotations

import typing as t

from statesignals.testing import MARK, SignalRecorder


def names(recorder: SignalRecorder) -> list[str]:
    """The name of each recorded signal, in order (marks left out)."""
    return [recorded.signal for recorded in recorder.signals if recorded.signal != MARK]


def payloads(recorder: SignalRecorder, signal_name: str | None = None) -> list[dict[str, t.Any]]:
    """Each recorded payload (of ``signal_name`` only, if given), with its ``signal`` and
    ``sender`` added."""
    return [
        {"signal": recorded.signal, "sender": recorded.sender, **recorded.payload}
        for recorded in recorder.signals
        if recorded.signal != MARK and signal_name in (None, recorded.signal)
    ]


def states(recorder: SignalRecorder) -> list[tuple[str, str]]:
    """(signal name, state) of each state signal, in order."""
    return [
        (recorded.signal, recorded.payload["state"])
        for recorded in recorder.signals
        if recorded.signal != MARK and "state" in recorded.payload
    ]


def entries(recorder: SignalRecorder, *, marks: bool = True) -> list[tuple[t.Any, ...]]:
    """Each signal as (name, trigger, source, dest[, state][, reason, failed_conditions]),
    and each mark as (label,), in order."""
    found: list[tuple[t.Any, ...]] = []
    for recorded in recorder.signals:
        payload = recorded.payload
        if recorded.signal == MARK:
            if marks:
                found.append((payload["label"],))
            continue
        entry: tuple[t.Any, ...] = (
            recorded.signal,
            payload["trigger"],
            payload["source"],
            payload["dest"],
        )
        if "state" in payload:
            entry += (payload["state"],)
        if recorded.signal == "transition_denied":
            entry += (payload["reason"], payload["failed_conditions"])
        found.append(entry)
    return found


def recording() -> SignalRecorder:
    """A recorder of every workflow signal, started (``stop()`` it when done)."""
    recorder = SignalRecorder()
    recorder.start()
    return recorder


def sent(recorder: SignalRecorder) -> list[tuple[str, object, dict[str, t.Any]]]:
    """Each recorded signal as (name, sender, payload), in order (marks left out)."""
    return [
        (each.signal, each.sender, dict(each.payload))
        for each in recorder.signals
        if each.signal != MARK
    ]

"""Trigger cost of the signaling extension machines relative to the raw transitions classes.

One run, same workflow for both sides of each ratio: a model toggling between two
states (two children of one compound state for the nested machines). Measured
without receivers and with one receiver on each of state_exited, state_entered
and transition_completed; the latter is compared with the raw trigger plus three
plain blinker sends of the same payload (the anchor design.md uses).
Run with ``python benchmarks/extensions_quick.py``.
"""

from __future__ import annotations

import asyncio
import time
import typing as t

from blinker import Signal
from transitions import Machine
from transitions.extensions import HierarchicalMachine, LockedHierarchicalMachine, LockedMachine
from transitions.extensions.asyncio import AsyncMachine, HierarchicalAsyncMachine

from statesignals import (
    SignalingAsyncMachine,
    SignalingCoreMachine,
    SignalingHierarchicalAsyncMachine,
    SignalingHierarchicalMachine,
    SignalingLockedHierarchicalMachine,
    SignalingLockedMachine,
    state_entered,
    state_exited,
    transition_completed,
)

TRIGGERS = 20_000
REPEATS = 5

FLAT = {
    "states": ["a", "b"],
    "transitions": [["toggle", "a", "b"], ["toggle", "b", "a"]],
    "initial": "a",
}
NESTED = {
    "states": [{"name": "p", "children": ["a", "b"], "initial": "a"}],
    "transitions": [["toggle", "p_a", "p_b"], ["toggle", "p_b", "p_a"]],
    "initial": "p",
}

PAIRS: list[tuple[str, type[t.Any], type[t.Any], dict[str, t.Any]]] = [
    ("flat", Machine, SignalingCoreMachine, FLAT),
    ("nested", HierarchicalMachine, SignalingHierarchicalMachine, NESTED),
    ("locked", LockedMachine, SignalingLockedMachine, FLAT),
    ("locked nested", LockedHierarchicalMachine, SignalingLockedHierarchicalMachine, NESTED),
    ("async", AsyncMachine, SignalingAsyncMachine, FLAT),
    ("async nested", HierarchicalAsyncMachine, SignalingHierarchicalAsyncMachine, NESTED),
]


class Model:
    pass


def per_trigger(machine_cls: type[t.Any], workflow: dict[str, t.Any]) -> float:
    """Best of REPEATS runs, in microseconds per trigger."""
    model = Model()
    machine_cls(model, **workflow)
    toggle = t.cast(t.Any, model).toggle
    best = float("inf")
    if issubclass(machine_cls, AsyncMachine):

        async def run() -> float:
            start = time.perf_counter()
            for _ in range(TRIGGERS):
                await toggle()
            return time.perf_counter() - start

        for _ in range(REPEATS):
            best = min(best, asyncio.run(run()))
    else:
        for _ in range(REPEATS):
            start = time.perf_counter()
            for _ in range(TRIGGERS):
                toggle()
            best = min(best, time.perf_counter() - start)
    return best / TRIGGERS * 1e6


def receiver(sender: object, **payload: t.Any) -> None:
    pass


def three_blinker_sends() -> float:
    """Microseconds for three plain blinker sends with one receiver and a full payload."""
    signals = [Signal() for _ in range(3)]
    for signal in signals:
        signal.connect(receiver)
    sender = Model()
    payload: dict[str, t.Any] = {"trigger": "t", "source": "a", "dest": "b", "model": sender}
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(TRIGGERS):
            for signal in signals:
                signal.send(sender, machine=None, event_data=None, **payload)
        best = min(best, time.perf_counter() - start)
    return best / TRIGGERS * 1e6


def main() -> None:
    sends = three_blinker_sends()
    print(f"three plain blinker sends: {sends:.2f} µs")
    print(
        f"{'machine':<14} {'raw µs':>8} {'signaling µs':>13} {'ratio':>6}   "
        "with 3 receivers vs raw + 3 sends"
    )
    for label, raw_cls, signaling_cls, workflow in PAIRS:
        raw = per_trigger(raw_cls, workflow)
        quiet = per_trigger(signaling_cls, workflow)
        for signal in (state_exited, state_entered, transition_completed):
            signal.connect(receiver)
        try:
            loud = per_trigger(signaling_cls, workflow)
        finally:
            for signal in (state_exited, state_entered, transition_completed):
                signal.disconnect(receiver)
        print(
            f"{label:<14} {raw:8.2f} {quiet:13.2f} {quiet / raw:6.2f}   "
            f"{loud:6.2f} µs / {raw + sends:6.2f} µs = {loud / (raw + sends):.2f}"
        )


if __name__ == "__main__":
    main()

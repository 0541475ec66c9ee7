"""Programs written for ``transitions`` behave the same on the signaling twins, receivers or not."""

from __future__ import annotations

import asyncio
import re
import typing as t

import pytest

from statesignals import (
    SignalingAsyncMachine,
    SignalingCoreMachine,
    SignalingHierarchicalAsyncMachine,
    SignalingHierarchicalMachine,
    SignalingLockedMachine,
    transition_failed,
)
from tests.recording import names, payloads, recording

MACHINES = [
    SignalingCoreMachine,
    SignalingHierarchicalMachine,
    SignalingLockedMachine,
    SignalingAsyncMachine,
    SignalingHierarchicalAsyncMachine,
]


def run(result: t.Any) -> t.Any:
    """The trigger's result, awaited if the machine is asynchronous."""
    if asyncio.iscoroutine(result):
        return asyncio.run(result)
    return result


class Matter:
    """transitions' README example of an ``on_exception`` handler."""

    state: str

    def raise_error(self, event: t.Any) -> None:
        raise ValueError("Oh no")

    def handle_error(self, event: t.Any) -> None:
        del event.error


def lump_on(machine_cls: type[t.Any]) -> Matter:
    lump = Matter()
    machine_cls(
        lump,
        ["solid", "gas"],
        initial="solid",
        before_state_change="raise_error",
        on_exception="handle_error",
        send_event=True,
    )
    return lump


@pytest.mark.parametrize("listening", [False, True], ids=["no receivers", "receivers"])
@pytest.mark.parametrize("machine_cls", MACHINES)
def test_an_on_exception_handler_that_deletes_the_error_returns_what_transitions_returns(
    machine_cls: type[t.Any], listening: bool
) -> None:
    plain = lump_on(machine_cls.__bases__[-1])
    expected = run(t.cast(t.Any, plain).to_gas())  # False; None for nested machines
    log = recording() if listening else None
    try:
        lump = lump_on(machine_cls)
        assert run(t.cast(t.Any, lump).to_gas()) is expected
    finally:
        if log is not None:
            log.stop()
    assert lump.state == plain.state == "solid"
    if log is not None:
        # The failure is reported; the handler took its exception away.
        assert names(log) == [transition_failed.name]
        assert payloads(log, transition_failed.name)[0]["error"] is None


EXPECTED_REPR = {
    SignalingCoreMachine: ("State", "Event", "Transition", "Condition", "EventData"),
    SignalingLockedMachine: ("State", "LockedEvent", "Transition", "Condition", "EventData"),
    SignalingHierarchicalMachine: (
        "NestedState",
        "NestedEvent",
        "NestedTransition",
        "Condition",
        "NestedEventData",
    ),
    SignalingAsyncMachine: (
        "AsyncState",
        "AsyncEvent",
        "AsyncTransition",
        "AsyncCondition",
        "EventData",
    ),
}


@pytest.mark.parametrize("machine_cls", list(EXPECTED_REPR))
def test_states_events_transitions_and_event_data_print_as_transitions_prints_them(
    machine_cls: type[t.Any],
) -> None:
    state, event, transition, condition, event_data = EXPECTED_REPR[machine_cls]
    seen: list[str] = []

    def check(event: t.Any) -> bool:
        seen.append(repr(event))
        seen.append(repr(event.transition.conditions))
        return True

    machine = machine_cls(states=["A", "B"], initial="A", send_event=True)
    machine.add_transition("go", "A", "B", conditions=check)
    assert re.fullmatch(rf"<{state}\('A'\)@\d+>", repr(machine.get_state("A")))
    assert re.fullmatch(rf"<{event}\('go'\)@\d+>", repr(machine.events["go"]))
    go = machine.get_transitions("go")[0]
    assert re.fullmatch(rf"<{transition}\('A', 'B'\)@\d+>", repr(go))
    assert run(machine.go())
    assert re.fullmatch(
        rf"<{event_data}\(<{event}\('go'\)@\d+>, <{state}\('A'\)@\d+>, "
        rf"<{transition}\('A', 'B'\)@\d+>\)@\d+>",
        seen[0],
    )
    assert re.fullmatch(rf"\[<{condition}\(<function .*check at \w+>\)@\d+>\]", seen[1])

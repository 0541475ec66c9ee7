"""A queued asynchronous workflow queues each instance's triggers on their own, as a
``transitions`` machine per instance does: one instance's trigger never waits in, or is
dropped with, another instance's queue."""

from __future__ import annotations

import asyncio
import typing as t

import pytest
from transitions.extensions.asyncio import AsyncMachine, HierarchicalAsyncMachine

from statesignals import (
    SignalingAsyncMachine,
    SignalingHierarchicalAsyncMachine,
    SignalingMachine,
)
from statesignals.testing import SignalRecorder
from tests.recording import payloads

STATES = ["idle", "moved", "done"]
TRANSITIONS = [
    {"trigger": "go", "source": "idle", "dest": "moved", "after": "after_go"},
    {"trigger": "finish", "source": "moved", "dest": "done"},
]


class Courier:
    """The callbacks; ``behaviour`` says what ``after_go`` does."""

    state: str

    def __init__(self, trace: list[t.Any]) -> None:
        self.trace = trace
        self.peer: t.Any = None
        self.behaviour = "nothing"
        self.release = asyncio.Event()

    async def after_go(self) -> None:
        me: t.Any = self
        if self.behaviour == "poke peer":
            self.trace.append((await self.peer.go(), self.peer.state))
        elif self.behaviour == "chain and poke failing peer":
            self.trace.append(("finish queued", await me.finish(), self.state))
            try:
                await self.peer.go()
            except RuntimeError as error:
                self.trace.append(("peer raised", str(error), self.state))
        elif self.behaviour == "chain and fail":
            self.trace.append(("finish queued", await me.finish(), self.state))
            raise RuntimeError("after_go failed")
        elif self.behaviour == "wait":
            await self.release.wait()


Pair = tuple[t.Any, t.Any, list[t.Any]]
"""Two couriers and the trace they share."""


def per_instance_machines(machine_cls: type[AsyncMachine]) -> Pair:
    trace: list[t.Any] = []
    first, second = Courier(trace), Courier(trace)
    for courier in (first, second):
        machine_cls(courier, states=STATES, transitions=TRANSITIONS, initial="idle", queued=True)
    return first, second, trace


def declared(chosen: type[AsyncMachine]) -> Pair:
    class DeclaredCourier(Courier, SignalingMachine):
        machine_cls = chosen
        states = STATES
        transitions = TRANSITIONS
        initial = "idle"
        queued = True

    trace: list[t.Any] = []
    return DeclaredCourier(trace), DeclaredCourier(trace), trace


MACHINES = [
    pytest.param(AsyncMachine, SignalingAsyncMachine, id="async"),
    pytest.param(HierarchicalAsyncMachine, SignalingHierarchicalAsyncMachine, id="nested"),
]


async def poke_peer(pair: Pair) -> list[t.Any]:
    first, second, trace = pair
    first.peer, first.behaviour = second, "poke peer"
    trace.append(await first.go())
    return [*trace, first.state, second.state]


async def peer_fails(pair: Pair) -> list[t.Any]:
    first, second, trace = pair
    first.peer, first.behaviour = second, "chain and poke failing peer"
    second.behaviour = "chain and fail"
    trace.append(await first.go())
    return [*trace, first.state, second.state]


async def cancel_one(pair: Pair) -> list[t.Any]:
    first, second, trace = pair
    first.behaviour = "wait"
    waiting = asyncio.ensure_future(first.go())
    while first.state != "moved":
        await asyncio.sleep(0)
    trace.append(("queued behind the wait", await first.finish(), first.state))
    trace.append(("other instance", await second.go(), second.state))
    waiting.cancel()
    trace.append(("cancelled trigger returns", await waiting, first.state))
    trace.append(("next trigger", await first.finish(), first.state))
    return trace


@pytest.mark.parametrize(("plain_cls", "signaling_cls"), MACHINES)
def test_another_instances_trigger_fired_from_a_callback_runs_at_once(
    plain_cls: type[AsyncMachine],
    signaling_cls: type[AsyncMachine],
    signal_recorder: SignalRecorder,
) -> None:
    expected = [(True, "moved"), True, "moved", "moved"]
    assert asyncio.run(poke_peer(per_instance_machines(plain_cls))) == expected
    assert asyncio.run(poke_peer(declared(signaling_cls))) == expected
    assert [p["dest"] for p in payloads(signal_recorder, "transition_completed")] == [
        "moved",
        "moved",
    ]


@pytest.mark.parametrize(("plain_cls", "signaling_cls"), MACHINES)
def test_an_error_clears_the_queue_of_its_own_instance_only(
    plain_cls: type[AsyncMachine], signaling_cls: type[AsyncMachine]
) -> None:
    # The peer's queued finish is dropped with its error; the first instance's runs.
    expected = [
        ("finish queued", True, "moved"),
        ("finish queued", True, "moved"),
        ("peer raised", "after_go failed", "moved"),
        True,
        "done",
        "moved",
    ]
    assert asyncio.run(peer_fails(per_instance_machines(plain_cls))) == expected
    assert asyncio.run(peer_fails(declared(signaling_cls))) == expected


@pytest.mark.parametrize(("plain_cls", "signaling_cls"), MACHINES)
def test_a_cancelled_trigger_drops_its_own_instances_queue_only(
    plain_cls: type[AsyncMachine], signaling_cls: type[AsyncMachine]
) -> None:
    expected = [
        ("queued behind the wait", True, "moved"),
        ("other instance", True, "moved"),
        ("cancelled trigger returns", False, "moved"),
        ("next trigger", True, "done"),
    ]
    assert asyncio.run(cancel_one(per_instance_machines(plain_cls))) == expected
    assert asyncio.run(cancel_one(declared(signaling_cls))) == expected


@pytest.mark.parametrize(
    "signaling_cls", [SignalingAsyncMachine, SignalingHierarchicalAsyncMachine]
)
def test_a_queued_declared_async_machine_keeps_no_queue_once_its_triggers_ran(
    signaling_cls: type[AsyncMachine],
) -> None:
    first, second, _ = declared(signaling_cls)
    asyncio.run(poke_peer((first, second, [])))
    machine: t.Any = type(first).machine
    assert machine.has_queue is True
    assert machine._transition_queue_dict == {}

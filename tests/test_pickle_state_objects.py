"""Machines whose states are objects of the program's own ``State`` class pickle as they
do with ``transitions``, and the restored machines keep sending the state signals."""

from __future__ import annotations

import asyncio
import pickle
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest
from transitions import Machine, State
from transitions.core import Condition, Transition
from transitions.extensions import HierarchicalMachine
from transitions.extensions.asyncio import (
    AsyncMachine,
    AsyncState,
    HierarchicalAsyncMachine,
    NestedAsyncState,
)
from transitions.extensions.nesting import NestedState

from statesignals import (
    SignalingAsyncMachine,
    SignalingCoreMachine,
    SignalingHierarchicalAsyncMachine,
    SignalingHierarchicalMachine,
    SignalingMachine,
    SignalingMixin,
)
from statesignals.testing import SignalRecorder
from tests.recording import names, states


class Tagged:
    """Gives a state class a ``tags`` keyword."""

    def __init__(self, *args: t.Any, tags: list[str] | None = None, **kwargs: t.Any) -> None:
        self.tags = tags or []
        super().__init__(*args, **kwargs)


class TaggedState(Tagged, State):
    pass


class TaggedNestedState(Tagged, NestedState):
    pass


class TaggedAsyncState(Tagged, AsyncState):
    pass


class TaggedNestedAsyncState(Tagged, NestedAsyncState):
    pass


class Parcel:
    state: str


def flat_states(state_cls: t.Callable[..., State]) -> list[t.Any]:
    return [state_cls("packed"), state_cls("sent", tags=["billing"])]


def nested_states(state_cls: t.Callable[..., State]) -> list[t.Any]:
    return [
        state_cls("packed"),
        {
            "name": "sent",
            "children": [state_cls("road", tags=["billing"]), state_cls("air")],
            "initial": "road",
        },
    ]


FLAT_SIGNALS = [("state_exited", "packed"), ("state_entered", "sent")]
NESTED_SIGNALS = [*FLAT_SIGNALS, ("state_entered", "sent_road")]

CASES = [
    pytest.param(Machine, SignalingCoreMachine, TaggedState, flat_states, FLAT_SIGNALS, id="core"),
    pytest.param(
        HierarchicalMachine,
        SignalingHierarchicalMachine,
        TaggedNestedState,
        nested_states,
        NESTED_SIGNALS,
        id="nested",
    ),
    pytest.param(
        AsyncMachine, SignalingAsyncMachine, TaggedAsyncState, flat_states, FLAT_SIGNALS, id="async"
    ),
    pytest.param(
        HierarchicalAsyncMachine,
        SignalingHierarchicalAsyncMachine,
        TaggedNestedAsyncState,
        nested_states,
        NESTED_SIGNALS,
        id="nested-async",
    ),
]


def build(
    machine_cls: type[Machine],
    state_cls: type[State],
    make_states: t.Callable[[t.Callable[..., State]], list[t.Any]],
) -> tuple[Parcel, Machine]:
    parcel = Parcel()
    machine = machine_cls(
        parcel,
        states=make_states(state_cls),
        transitions=[["send", "packed", "sent"]],
        initial="packed",
    )
    return parcel, machine


def send(parcel: t.Any) -> bool:
    result = parcel.send()
    return bool(asyncio.run(result) if asyncio.iscoroutine(result) else result)


@pytest.mark.parametrize(
    ("plain_cls", "signaling_cls", "state_cls", "make_states", "expected"), CASES
)
def test_a_model_whose_machine_has_state_objects_pickles_and_keeps_signalling(
    plain_cls: type[Machine],
    signaling_cls: type[Machine],
    state_cls: type[State],
    make_states: t.Callable[[t.Callable[..., State]], list[t.Any]],
    expected: list[tuple[str, str]],
    signal_recorder: SignalRecorder,
) -> None:
    plain, _ = pickle.loads(pickle.dumps(build(plain_cls, state_cls, make_states)))
    assert send(plain) is True

    parcel, machine = build(signaling_cls, state_cls, make_states)
    restored, restored_machine = pickle.loads(pickle.dumps((parcel, machine)))
    assert send(restored) is True

    assert restored.state == plain.state
    assert parcel.state == "packed"
    assert states(signal_recorder) == expected
    assert names(signal_recorder)[-1] == "transition_completed"
    tagged = [
        state
        for state in every_state(restored_machine)
        if getattr(state, "tags", None) == ["billing"]
    ]
    assert len(tagged) == 1 and isinstance(tagged[0], state_cls)


def every_state(machine: t.Any) -> list[t.Any]:
    found, pending = [], list(machine.states.values())
    while pending:
        state = pending.pop()
        found.append(state)
        pending.extend(getattr(state, "states", {}).values())
    return found


def test_a_machine_with_state_objects_pickles_as_its_own_model(
    signal_recorder: SignalRecorder,
) -> None:
    machine = SignalingCoreMachine(
        states=flat_states(TaggedState), transitions=[["send", "packed", "sent"]], initial="packed"
    )
    restored = pickle.loads(pickle.dumps(machine))

    assert restored.send() is True
    assert restored.get_state("sent").tags == ["billing"]
    assert repr(restored.get_state("sent")).startswith("<TaggedState('sent')@")
    assert states(signal_recorder) == [("state_exited", "packed"), ("state_entered", "sent")]


def test_a_pickled_machine_with_state_objects_loads_and_signals_in_a_new_process() -> None:
    parcel, _ = build(SignalingCoreMachine, TaggedState, flat_states)
    loader = (
        "import pickle, sys\n"
        "from statesignals import state_entered\n"
        "parcel = pickle.loads(sys.stdin.buffer.read())\n"
        "state_entered.connect(lambda sender, state, **_: print('entered', state), weak=False)\n"
        "print(parcel.send(), parcel.state)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", loader],
        input=pickle.dumps(parcel),
        capture_output=True,
        cwd=Path(__file__).parent.parent,
        check=True,
    )
    assert done.stdout.decode().splitlines() == ["entered sent", "True sent"]


class Ticket(SignalingMachine):
    states = [TaggedState("open"), TaggedState("closed", tags=["archive"])]
    initial = "open"
    transitions = [["close", "open", "closed"]]


def test_an_instance_of_a_declared_class_with_state_objects_pickles(
    signal_recorder: SignalRecorder,
) -> None:
    ticket = Ticket()
    restored = pickle.loads(pickle.dumps(ticket))

    assert t.cast(t.Any, restored).close() is True
    assert restored.state == "closed" and ticket.state == "open"
    assert states(signal_recorder) == [("state_exited", "open"), ("state_entered", "closed")]


class CountedCondition(Condition):
    pass


class CountedTransition(Transition):
    condition_cls = CountedCondition


class CountingMachine(SignalingMixin, Machine):
    transition_cls = CountedTransition


def test_a_machine_with_its_own_condition_class_pickles() -> None:
    machine = CountingMachine(
        states=["a", "b"],
        transitions=[{"trigger": "go", "source": "a", "dest": "b", "unless": "is_b"}],
        initial="a",
    )
    restored = pickle.loads(pickle.dumps(machine))

    assert restored.go() is True
    assert isinstance(restored.get_transitions("go")[0].conditions[0], CountedCondition)

"""Ready-made signaling machines for every machine class transitions offers."""

from __future__ import annotations

import asyncio
import itertools
import pickle
import typing as t

import pytest
from transitions.extensions import MachineFactory
from transitions.extensions.nesting import NestedState

import statesignals
from statesignals import (
    SignalingCoreMachine,
    SignalingHierarchicalMachine,
    SignalingLockedHierarchicalMachine,
    SignalingLockedMachine,
    SignalingMachine,
    SignalingMarkupMachine,
    SignalingMixin,
    StateSignalsError,
    Trigger,
    get_machine_class,
    transition_completed,
)

FEATURES = [
    combination
    for combination in itertools.product([False, True], repeat=4)
    if not (combination[2] and combination[3])  # transitions has no locked asyncio machine
]


class Parcel:
    """A module-level model, so that machines holding it can be pickled."""


def completed() -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    transition_completed.connect(
        lambda sender, **p: seen.append((p["trigger"], p["dest"])), weak=False
    )
    return seen


@pytest.mark.parametrize(("graph", "nested", "locked", "asyncio_"), FEATURES)
def test_each_feature_combination_wraps_the_transitions_class_of_the_same_name(
    graph: bool, nested: bool, locked: bool, asyncio_: bool
) -> None:
    original = MachineFactory.get_predefined(graph, nested, locked, asyncio_)
    ours = get_machine_class(graph=graph, nested=nested, locked=locked, asyncio=asyncio_)
    assert issubclass(ours, SignalingMixin)
    assert ours.__bases__ == (SignalingMixin, original)
    expected = (
        "SignalingCoreMachine"
        if original.__name__ == "Machine"
        else f"Signaling{original.__name__}"
    )
    assert ours.__name__ == expected
    assert getattr(statesignals, expected) is ours


@pytest.mark.parametrize(("graph", "nested", "locked", "asyncio_"), FEATURES)
def test_each_ready_made_machine_signals_a_transition(
    graph: bool, nested: bool, locked: bool, asyncio_: bool
) -> None:
    seen = completed()
    parcel = Parcel()
    machine_cls: t.Any = get_machine_class(
        graph=graph, nested=nested, locked=locked, asyncio=asyncio_
    )
    options = {"graph_engine": "graphviz"} if graph else {}
    machine_cls(
        parcel,
        states=["packed", "sent"],
        transitions=[["send", "packed", "sent"]],
        initial="packed",
        **options,
    )
    outcome = parcel.send()  # type: ignore[attr-defined]
    assert (asyncio.run(outcome) if asyncio_ else outcome) is True
    assert seen == [("send", "sent")]


def test_an_unsupported_combination_is_a_statesignals_error() -> None:
    with pytest.raises(StateSignalsError, match="locked=True, asyncio=True"):
        get_machine_class(locked=True, asyncio=True)


def test_markup_machines_are_exported_too() -> None:
    assert statesignals.SignalingMarkupMachine is SignalingMarkupMachine
    assert issubclass(statesignals.SignalingHierarchicalMarkupMachine, SignalingMixin)


@pytest.mark.parametrize(
    "machine_cls",
    [
        SignalingCoreMachine,
        SignalingHierarchicalMachine,
        SignalingLockedMachine,
        SignalingLockedHierarchicalMachine,
    ],
)
def test_ready_made_machines_survive_pickling_and_keep_signalling(machine_cls: t.Any) -> None:
    parcel = Parcel()
    machine = machine_cls(
        parcel,
        states=["packed", "sent"],
        transitions=[["send", "packed", "sent"]],
        initial="packed",
    )
    restored = pickle.loads(pickle.dumps(machine))
    seen = completed()
    [copy] = restored.models
    assert copy.send() is True
    assert seen == [("send", "sent")]
    assert parcel.state == "packed"  # type: ignore[attr-defined]


class TaggedState(NestedState):
    """A user's own state class."""

    def __init__(self, *args: t.Any, tags: list[str] | None = None, **kwargs: t.Any) -> None:
        self.tags = tags or []
        super().__init__(*args, **kwargs)


class TaggedMachine(SignalingHierarchicalMachine):
    state_cls = TaggedState


def test_a_custom_state_class_keeps_its_behaviour_and_gains_the_signals() -> None:
    seen = completed()
    parcel = Parcel()
    machine = TaggedMachine(
        parcel,
        states=["packed", {"name": "sent", "tags": ["final"]}],
        transitions=[["send", "packed", "sent"]],
        initial="packed",
    )
    parcel.send()  # type: ignore[attr-defined]
    assert machine.get_state("sent").tags == ["final"]  # type: ignore[attr-defined]
    assert seen == [("send", "sent")]
    restored = pickle.loads(pickle.dumps(machine))
    assert type(restored.get_state("sent")) is TaggedMachine.state_cls


def test_a_declared_workflow_picks_its_machine_from_the_lookup() -> None:
    class Parcel2(SignalingMachine):
        machine_cls = get_machine_class(nested=True, locked=True)
        states = ["packed", {"name": "sent", "children": ["out", "back"], "initial": "out"}]
        initial = "packed"
        transitions = [["send", "packed", "sent"]]
        send: Trigger

    seen = completed()
    parcel = Parcel2()
    assert parcel.send() is True
    assert parcel.state == "sent_out"
    assert seen == [("send", "sent")]

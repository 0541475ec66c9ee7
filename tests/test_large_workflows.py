"""Large workflows load in time linear in their size: auto transitions are made on first use."""

from __future__ import annotations

import asyncio
import collections.abc as c
import typing as t

import pytest
from transitions import Machine
from transitions.extensions.nesting import HierarchicalMachine, NestedState

from statesignals import (
    SignalingHierarchicalAsyncMachine,
    SignalingHierarchicalGraphMachine,
    SignalingHierarchicalMachine,
    SignalingMachine,
    remember_last_transitions,
    state_entered,
)
from statesignals.last_transition import LastTransition, last_transition
from statesignals.testing import transition_paths
from tests.recording import entries, recording


def chain_class(size: int, **options: t.Any) -> type[SignalingMachine]:
    names = [f"s{index}" for index in range(size)]
    return type(
        f"Chain{size}",
        (SignalingMachine,),
        {
            "states": names,
            "initial": names[0],
            "transitions": [[f"next_{i}", name, names[i + 1]] for i, name in enumerate(names[:-1])],
            **options,
        },
    )


def transition_objects(machine: Machine) -> int:
    return sum(
        len(transitions)
        for event in machine.events.values()
        for transitions in dict.values(event.transitions)
    )


def pairs(made: c.Mapping[str, list[t.Any]]) -> list[tuple[str, list[tuple[str, str]]]]:
    return [(source, [(x.source, x.dest) for x in found]) for source, found in made.items()]


def test_creating_a_class_makes_no_auto_transition_up_front() -> None:
    # transitions makes size * size of them (90,000 here) before the first trigger.
    chain = chain_class(300)
    assert len([name for name in chain.machine.events if name.startswith("to_")]) == 300
    assert transition_objects(chain.machine) == 299


def test_an_auto_transition_works_from_any_state_and_is_made_once() -> None:
    chain = chain_class(50)
    model = t.cast(t.Any, chain())
    entered: list[str] = []
    state_entered.connect(lambda sender, **payload: entered.append(payload["state"]), weak=False)
    assert model.may_to_s40()
    assert model.to_s40()
    assert model.state == "s40"
    assert model.to_s40()  # to itself, as transitions' to_<state> allows
    assert entered == ["s40", "s40"]
    assert "to_s3" in chain.machine.get_triggers("s40")
    assert transition_objects(chain.machine) == 49 + 2  # from s0 and from s40, nothing more
    assert model.next_40() and model.state == "s41"


def test_auto_transitions_follow_the_model_attribute_and_can_be_turned_off() -> None:
    named = chain_class(5, model_attribute="status")
    model = t.cast(t.Any, named())
    assert model.to_status_s3() and model.status == "s3"
    off = chain_class(5, auto_transitions=False)
    assert not any(name.startswith("to_") for name in off.machine.events)


def test_an_auto_transition_made_later_is_remembered_for_diagrams() -> None:
    chain = remember_last_transitions(chain_class(20))
    model = t.cast(t.Any, chain())
    model.to_s7()
    assert last_transition(model) == LastTransition("to_s7", "s0", "s7")


def test_listing_an_auto_event_lists_every_source_as_transitions_does() -> None:
    chain = chain_class(5)
    names = [f"s{index}" for index in range(5)]
    eager = Machine(states=names, initial="s0")
    assert pairs(chain.machine.events["to_s3"].transitions) == pairs(
        eager.events["to_s3"].transitions
    )
    assert [(x.source, x.dest) for x in chain.machine.get_transitions("to_s3")] == [
        (x.source, x.dest) for x in eager.get_transitions("to_s3")
    ]
    # A callback added to the event reaches every transition, as it would in transitions.
    seen: list[str] = []
    chain.machine.events["to_s3"].add_callback("after", lambda: seen.append("after"))
    assert t.cast(t.Any, chain()).to_s3()
    assert seen == ["after"]


def test_paths_with_auto_transitions_still_cover_every_pair() -> None:
    chain = chain_class(6)
    auto = [
        path
        for path in transition_paths(chain, include_auto=True)
        if path.triggers[-1][:3] == "to_"
    ]
    assert len(auto) == 6 * 6


# Nested workflows: the to_<state> events of transitions' HierarchicalMachine, made on first use.

NESTED_STATES: list[t.Any] = [
    "a",
    {
        "name": "b",
        "children": ["c", {"name": "d", "children": ["e", "f"], "initial": "e"}],
        "initial": "c",
        "transitions": [["to_c", "d", "c"]],  # a compound state's own to_c, next to the auto one
    },
    {
        "name": "p",
        "parallel": [
            {"name": "x", "children": ["open", "done"], "initial": "open"},
            {"name": "y", "children": ["open", "done"], "initial": "open"},
        ],
    },
    "g",
]
NESTED_TRANSITIONS = [["go", "a", "b"], ["to_g", "b_d", "a", "allowed"]]


class Gate:
    """Guards of the nested workflows: ``allowed`` says no."""

    def allowed(self) -> bool:
        return False


def nested_class(
    machine_cls: type[Machine] = SignalingHierarchicalMachine, **options: t.Any
) -> type[SignalingMachine]:
    return type(
        "Nested",
        (Gate, SignalingMachine),
        {
            "machine_cls": machine_cls,
            "states": NESTED_STATES,
            "initial": "a",
            "transitions": NESTED_TRANSITIONS,
            **options,
        },
    )


def eager_nested(
    machine_cls: type[Machine] = HierarchicalMachine, **options: t.Any
) -> tuple[t.Any, t.Any]:
    """The same workflow in a machine of transitions' own making, auto transitions and all."""
    model = Gate()
    options = {"states": NESTED_STATES, "transitions": NESTED_TRANSITIONS, **options}
    return model, machine_cls(model, initial="a", **options)


def chain_of_compounds(size: int) -> type[SignalingMachine]:
    """``size`` states: top-level ones and, in every tenth, nine children."""
    states: list[t.Any] = []
    for index in range(size // 10):
        states.append(f"t{index}")
        states.append({"name": f"n{index}", "children": [f"c{j}" for j in range(8)]})
    return type(
        f"Nested{size}",
        (SignalingMachine,),
        {"machine_cls": SignalingHierarchicalMachine, "states": states, "initial": "t0"},
    )


def test_creating_a_nested_class_makes_no_auto_transition_up_front() -> None:
    # transitions makes one per top-level state (100) for each of the 500 states: 50,000.
    nested = chain_of_compounds(500)
    auto = [name for name in nested.machine.events if name.startswith("to_")]
    assert len(auto) == 500
    assert transition_objects(nested.machine) == 0
    model = t.cast(t.Any, nested())
    assert model.to_n7_c3() and model.state == "n7_c3"
    assert model.to_t2() and model.state == "t2"
    # From t0 and, the second time, from n7 (the parent of n7_c3): nothing more.
    assert transition_objects(nested.machine) == 2


def test_a_nested_class_has_the_auto_events_of_transitions() -> None:
    nested = nested_class()
    _, eager = eager_nested()
    assert list(nested.machine.events) == list(eager.events)
    assert nested.machine.get_nested_triggers() == eager.get_nested_triggers()
    for name, event in eager.events.items():
        made = nested.machine.events[name].transitions
        assert len(made) == len(event.transitions)
        assert [
            (source, [(x.source, x.dest) for x in found]) for source, found in made.items()
        ] == [
            (source, [(x.source, x.dest) for x in found])
            for source, found in event.transitions.items()
        ]
    assert [(x.source, x.dest) for x in nested.machine.get_transitions("to_b_d_f")] == [
        (x.source, x.dest) for x in eager.get_transitions("to_b_d_f")
    ]


def configurations(model: t.Any, machine: t.Any) -> list[t.Any]:
    """The model's state after each ``to_<state>`` from the initial state: every
    configuration a model can be in."""
    found: list[t.Any] = []
    for name in machine.get_nested_state_names():
        machine.set_state("a", model)
        machine.trigger_event(model, f"to_{name}")
        value = getattr(model, machine.model_attribute)
        if value not in found:
            found.append(value)
    return found


def test_nested_auto_transitions_behave_as_transitions_makes_them() -> None:
    nested = nested_class()
    plain, eager = eager_nested()
    names = eager.get_nested_state_names()
    for configuration in configurations(plain, eager):
        for name in names:
            model = t.cast(t.Any, nested())
            model.state = configuration
            eager.set_state(configuration, plain)
            leaves = configuration if isinstance(configuration, list) else [configuration]
            assert [nested.machine.get_triggers(leaf) for leaf in leaves] == [
                eager.get_triggers(leaf) for leaf in leaves
            ]
            trigger = f"to_{name}"
            assert getattr(model, f"may_{trigger}")() == getattr(plain, f"may_{trigger}")()
            assert getattr(model, trigger)() == getattr(plain, trigger)()
            assert model.state == plain.state


def signals_of(run: c.Callable[[], bool]) -> list[t.Any]:
    """What ``run`` returns, then each signal it sent."""
    recorder = recording()
    try:
        result = run()
    finally:
        recorder.stop()
    return [result, *entries(recorder, marks=False)]


def test_nested_auto_transitions_send_the_signals_of_transitions_own() -> None:
    nested = nested_class()
    plain, eager = eager_nested(SignalingHierarchicalMachine)
    for configuration in configurations(plain, eager):
        for name in eager.get_nested_state_names():
            model = t.cast(t.Any, nested())
            model.state = configuration
            eager.set_state(configuration, plain)
            trigger = f"to_{name}"
            assert signals_of(getattr(model, trigger)) == signals_of(getattr(plain, trigger))
            assert model.state == plain.state


def test_nested_async_auto_transitions_behave_as_transitions_makes_them() -> None:
    nested = nested_class(SignalingHierarchicalAsyncMachine)
    plain, eager = eager_nested(SignalingHierarchicalAsyncMachine)
    assert transition_objects(nested.machine) == 2  # the declared ones

    async def signals_of(run: c.Callable[[], c.Awaitable[bool]]) -> list[t.Any]:
        recorder = recording()
        try:
            result = await run()
        finally:
            recorder.stop()
        return [result, *entries(recorder, marks=False)]

    async def compare() -> None:
        for configuration in configurations(*eager_nested()):
            for name in eager.get_nested_state_names():
                model = t.cast(t.Any, nested())
                model.state = configuration
                eager.set_state(configuration, plain)
                trigger = f"to_{name}"
                may = f"may_{trigger}"
                assert await getattr(model, may)() == await getattr(plain, may)()
                mine = await signals_of(getattr(model, trigger))
                assert mine == await signals_of(getattr(plain, trigger))
                assert model.state == plain.state

    asyncio.run(compare())


class DottedState(NestedState):
    separator = "."


class DottedMachine(SignalingHierarchicalMachine):
    state_cls = DottedState


def test_nested_auto_transitions_follow_the_separator_and_ignore_the_model_attribute() -> None:
    # transitions names a nested machine's auto transitions to_<state>, whatever the
    # model_attribute (a flat machine's are to_<attribute>_<state>).
    options = {"model_attribute": "status", "transitions": [["to_g", "b.d", "a", "allowed"]]}
    dotted = nested_class(DottedMachine, **options)
    _, eager = eager_nested(DottedMachine, **options)
    assert list(dotted.machine.events) == list(eager.events)
    assert "to_b.d.f" in dotted.machine.events
    model = t.cast(t.Any, dotted())
    assert dotted.machine.trigger_event(model, "to_b.d.f")
    assert model.status == "b.d.f"
    assert model.to_a() and model.status == "a"


def test_a_nested_auto_transition_made_later_is_remembered_under_full_names() -> None:
    nested = remember_last_transitions(nested_class())
    model = t.cast(t.Any, nested())
    model.to_b_d_f()
    assert last_transition(model) == LastTransition("to_b_d_f", "a", "b_d_f")
    model.to_g()
    assert last_transition(model) == LastTransition("to_g", "b", "g")


@pytest.mark.parametrize("shown", [False, True])
def test_a_nested_graph_machine_marks_up_auto_transitions_as_transitions_does(shown: bool) -> None:
    nested = nested_class(SignalingHierarchicalGraphMachine, show_auto_transitions=shown)
    _, eager = eager_nested(SignalingHierarchicalGraphMachine, show_auto_transitions=shown)
    mine = {key: value for key, value in nested.machine.markup.items() if key != "models"}
    theirs = {key: value for key, value in eager.markup.items() if key not in ("models", "name")}
    assert mine == {**theirs, "name": "Nested"}


def test_a_nested_state_object_at_the_top_level_keeps_the_auto_transitions_of_transitions() -> None:
    def states() -> list[t.Any]:
        compound = NestedState("r")
        compound.add_substate(NestedState("k"))
        return ["a", compound]

    # transitions makes to_r_k from r twice here: the class keeps them as they are.
    namespace = {"machine_cls": SignalingHierarchicalMachine, "states": states(), "initial": "a"}
    nested: type[SignalingMachine] = type("WithObject", (SignalingMachine,), namespace)
    eager = HierarchicalMachine(states=states(), initial="a")
    assert pairs(nested.machine.events["to_r_k"].transitions) == [
        ("r", [("r", "r_k"), ("r", "r_k")]),
        ("a", [("a", "r_k")]),
    ]
    for name, event in eager.events.items():
        assert pairs(nested.machine.events[name].transitions) == pairs(event.transitions)

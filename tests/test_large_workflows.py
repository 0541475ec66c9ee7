"""Large workflows load in time linear in their size: auto transitions are made on first use."""

from __future__ import annotations

import typing as t

from transitions import Machine

from statesignals import SignalingMachine, remember_last_transitions, state_entered
from statesignals.last_transition import LastTransition, last_transition
from statesignals.testing import transition_paths


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


def test_paths_with_auto_transitions_still_cover_every_pair() -> None:
    chain = chain_class(6)
    auto = [
        path
        for path in transition_paths(chain, include_auto=True)
        if path.triggers[-1][:3] == "to_"
    ]
    assert len(auto) == 6 * 6

"""remember_last_transitions on nested workflows: into, inside and out of compound states."""

from __future__ import annotations

from statesignals import (
    SignalingHierarchicalMachine,
    SignalingMachine,
    Trigger,
    diagram,
    remember_last_transitions,
)
from statesignals.last_transition import LastTransition, last_transition

HIGHLIGHT = 'color="#c0392b"'


@remember_last_transitions
class Dive(SignalingMachine):
    machine_cls = SignalingHierarchicalMachine
    states = [
        "surface",
        {
            "name": "deep",
            "initial": "shallow",
            "children": ["shallow", "bottom"],
            "transitions": [["sink", "shallow", "bottom"]],
        },
    ]
    initial = "surface"
    transitions = [["dive", "surface", "deep"], ["ascend", "deep", "surface"]]

    dive: Trigger
    sink: Trigger
    ascend: Trigger


def highlighted_edges(source: str) -> list[str]:
    return [line.strip() for line in source.splitlines() if HIGHLIGHT in line and "->" in line]


def test_a_transition_into_a_compound_state_is_highlighted_while_inside_it() -> None:
    diver = Dive()
    diver.dive()
    assert diver.state == "deep_shallow"
    assert last_transition(diver) == LastTransition("dive", "surface", "deep")
    edges = highlighted_edges(diagram(diver).source)
    assert edges == [
        f'surface -> deep_shallow [{HIGHLIGHT} fontcolor="#c0392b" lhead=cluster_deep '
        "penwidth=2.5 xlabel=dive]"
    ]


def test_transitions_declared_inside_a_compound_state_are_remembered() -> None:
    diver = Dive()
    diver.dive()
    diver.sink()
    assert last_transition(diver) == LastTransition("sink", "deep_shallow", "deep_bottom")
    assert [edge.split(" [")[0] for edge in highlighted_edges(diagram(diver).source)] == [
        "deep_shallow -> deep_bottom"
    ]
    diver.ascend()
    assert last_transition(diver) == LastTransition("ascend", "deep", "surface")


def test_a_class_diagram_names_the_transition_into_a_compound_state() -> None:
    drawn = diagram(Dive, state="deep_shallow", transition="dive")
    assert drawn.transition == LastTransition("dive", "surface", "deep")
    assert len(highlighted_edges(drawn.source)) == 1

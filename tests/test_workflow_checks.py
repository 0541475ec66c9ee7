"""``check()``: unreachable states and dead ends, which compile but look wrong."""

from __future__ import annotations

import pytest

from statesignals import SignalingMachine, WorkflowDefinitionError, validate
from statesignals.analysis import WorkflowGraph
from statesignals.definition import WorkflowDefinition


def findings(model_class: type[SignalingMachine]) -> list[tuple[str, str]]:
    return [(finding.kind, finding.state) for finding in validate(model_class)]


def test_a_workflow_whose_every_state_is_reachable_and_ends_final_has_no_findings() -> None:
    class Order(SignalingMachine):
        states = ["pending", "paid", {"name": "done", "final": True}]
        initial = "pending"
        transitions = [["pay", "pending", "paid"], ["finish", "paid", "done"]]

    assert validate(Order) == []


def test_a_state_no_transition_reaches_is_reported() -> None:
    class Order(SignalingMachine):
        states = ["pending", {"name": "paid", "final": True}, {"name": "archived", "final": True}]
        initial = "pending"
        transitions = [["pay", "pending", "paid"]]

    (finding,) = validate(Order)
    assert (finding.kind, finding.state) == ("unreachable", "archived")
    assert str(finding) == "state 'archived' cannot be reached from the initial state 'pending'"


def test_a_non_final_state_no_transition_leaves_is_a_dead_end() -> None:
    class Order(SignalingMachine):
        states = ["pending", "paid", {"name": "cancelled", "final": True}]
        initial = "pending"
        transitions = [
            ["pay", "pending", "paid"],
            ["cancel", "pending", "cancelled"],
            {"trigger": "note", "source": "paid", "dest": None},
            {"trigger": "recheck", "source": "paid", "dest": "="},
        ]

    assert findings(Order) == [("dead_end", "paid")]
    assert str(validate(Order)[0]) == (
        "state 'paid' is a dead end: no transition leaves it and it is not marked final"
    )


def test_auto_transitions_do_not_count_as_reaching_or_leaving() -> None:
    class Order(SignalingMachine):
        states = ["pending", "lost"]
        initial = "pending"
        transitions = [["ping", "pending", "pending"]]

    assert findings(Order) == [
        ("dead_end", "pending"),
        ("unreachable", "lost"),
        ("dead_end", "lost"),
    ]


def test_a_wildcard_transition_leaves_every_state() -> None:
    class Job(SignalingMachine):
        states = ["queued", "running", {"name": "failed", "final": True}]
        initial = "queued"
        transitions = [["start", "queued", "running"], ["fail", "*", "failed"]]

    assert validate(Job) == []


def nested_graph(*transitions: dict[str, object], final_leaf: bool = True) -> WorkflowGraph:
    definition = WorkflowDefinition(
        states=(
            "pending",
            {
                "name": "shipping",
                "initial": "packing",
                "children": ["packing", "moving", "lost"],
                "transitions": [{"trigger": "load", "source": "packing", "dest": "moving"}],
            },
            {"name": "delivered", "final": final_leaf},
        ),
        transitions=(
            {"trigger": "start", "source": "pending", "dest": "shipping"},
            *transitions,
        ),
        initial="pending",
    )
    return WorkflowGraph.from_definition(definition, "Shipment")


def test_entering_a_compound_state_reaches_its_initial_child_only() -> None:
    graph = nested_graph({"trigger": "arrive", "source": "shipping", "dest": "delivered"})
    assert [(finding.kind, finding.state) for finding in graph.findings()] == [
        ("unreachable", "shipping_lost")
    ]


def test_a_transition_of_a_compound_state_leaves_each_of_its_children() -> None:
    def dead_ends(graph: WorkflowGraph) -> set[str]:
        return {finding.state for finding in graph.findings() if finding.kind == "dead_end"}

    arrive: dict[str, object] = {"trigger": "arrive", "source": "shipping", "dest": "delivered"}
    assert dead_ends(nested_graph()) == {"shipping_moving", "shipping_lost"}
    assert dead_ends(nested_graph(arrive)) == set()
    assert dead_ends(nested_graph(arrive, final_leaf=False)) == {"delivered"}


def test_a_class_without_a_workflow_cannot_be_checked() -> None:
    class Abstract(SignalingMachine):
        pass

    with pytest.raises(LookupError, match="Abstract declares no workflow"):
        validate(Abstract)


def test_definition_errors_say_where_the_mistake_is() -> None:
    with pytest.raises(WorkflowDefinitionError) as raised:

        class Order(SignalingMachine):
            states = ["pending", "paid"]
            initial = "pending"
            transitions = [
                ["pay", "pending", "paid"],
                {"trigger": "refund", "source": ["paid", "payed"], "dest": "pending"},
            ]

    error = raised.value
    assert error.location == ("transitions", 1, "source")
    assert error.problem == "'payed' is not a state"
    assert "Order: transitions[1] {" in str(error)
    assert str(error).endswith("source 'payed' is not a state")

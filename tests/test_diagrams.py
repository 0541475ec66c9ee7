"""Diagrams of workflows: DOT and Mermaid text of classes, instances and nested workflows."""

from __future__ import annotations

import re

import pytest

from statesignals import (
    DiagramError,
    LastTransition,
    SignalingMachine,
    Trigger,
    diagram,
    remember_last_transitions,
)
from statesignals.definition import WorkflowDefinition
from statesignals.last_transition import last_transition
from tests.models import Page


class Order(SignalingMachine):
    states = ["pending", "paid", "shipped", {"name": "delivered", "final": True}, "cancelled"]
    initial = "pending"
    transitions = [
        {"trigger": "pay", "source": "pending", "dest": "paid", "conditions": "is_funded"},
        {"trigger": "ship", "source": "paid", "dest": "shipped"},
        {"trigger": "deliver", "source": "shipped", "dest": "delivered"},
        {
            "trigger": "cancel",
            "source": ["pending", "paid"],
            "dest": "cancelled",
            "unless": "is_dispatched",
        },
        {"trigger": "note", "source": "paid", "dest": None},
        {"trigger": "recheck", "source": "paid", "dest": "="},
    ]

    pay: Trigger
    to_shipped: Trigger

    def __init__(self, funded: bool = True) -> None:
        self.funded = funded

    def is_funded(self) -> bool:
        return self.funded

    def is_dispatched(self) -> bool:
        return False


def dot_edges(source: str) -> dict[tuple[str, str], str]:
    """``(tail, head) -> attribute text`` of each edge line in DOT source."""
    edges: dict[tuple[str, str], str] = {}
    for line in source.splitlines():
        match = re.match(r"\s*(\S+) -> (\S+)(?: \[(.*)\])?$", line)
        if match:
            edges[(match[1], match[2])] = edges.get((match[1], match[2]), "") + (match[3] or "")
    return edges


def dot_nodes(source: str) -> dict[str, str]:
    nodes: dict[str, str] = {}
    for line in source.splitlines():
        match = re.match(r"\s*(\w+) \[(.*)\]$", line)
        if match and "->" not in line:
            nodes[match[1]] = match[2]
    return nodes


def test_class_diagram_draws_every_state_and_labels_edges_with_guards() -> None:
    source = diagram(Order).source
    assert set(dot_nodes(source)) >= {"pending", "paid", "shipped", "delivered", "cancelled"}
    edges = dot_edges(source)
    assert 'label="pay [is_funded]"' in edges[("pending", "paid")]
    assert 'label="cancel [!is_dispatched]"' in edges[("pending", "cancelled")]
    assert 'label="cancel [!is_dispatched]"' in edges[("paid", "cancelled")]
    assert "label=ship" in edges[("paid", "shipped")]


def test_internal_transition_is_a_dashed_loop_and_reflexive_a_solid_one() -> None:
    loop = dot_edges(diagram(Order).source)[("paid", "paid")]
    assert 'label="note (internal)" style=dashed' in loop
    assert "label=recheck" in loop


def test_final_states_are_marked_and_the_initial_state_has_a_start_arrow() -> None:
    source = diagram(Order).source
    assert "peripheries=2" in dot_nodes(source)["delivered"]
    assert "peripheries" not in dot_nodes(source)["cancelled"]
    assert ("__start__", "pending") in dot_edges(source)


def test_auto_transitions_are_hidden_unless_asked_for() -> None:
    assert "to_shipped" not in diagram(Order).source
    shown = dot_edges(diagram(Order, auto_transitions=True).source)
    assert "label=to_shipped" in shown[("pending", "shipped")]
    assert "style=dotted" in shown[("cancelled", "paid")]


def test_title_and_direction_are_graph_attributes() -> None:
    source = diagram(Order, title="Orders", direction="TB").source
    assert "label=Orders" in source
    assert "rankdir=TB" in source
    assert "rankdir=LR" in diagram(Order).source
    with pytest.raises(DiagramError, match="direction must be 'LR' or 'TB'"):
        diagram(Order, direction="RL")  # type: ignore[arg-type]


def test_instance_diagram_highlights_current_state_and_the_transition_that_led_there() -> None:
    remember_last_transitions(Order)
    order = Order()
    order.pay()
    drawn = diagram(order)
    assert drawn.state == "paid"
    assert drawn.transition == LastTransition("pay", "pending", "paid")
    assert "filled" in dot_nodes(drawn.source)["paid"]
    assert "filled" not in dot_nodes(drawn.source)["pending"]
    edges = dot_edges(drawn.source)
    assert "penwidth=2.5" in edges[("pending", "paid")]
    assert "penwidth=2.5" not in edges[("paid", "shipped")]


def test_remembered_transition_follows_the_model_but_internal_transitions_do_not_replace_it() -> (
    None
):
    @remember_last_transitions
    class Ticket(SignalingMachine):
        states = ["open", "closed"]
        initial = "open"
        transitions = [
            {"trigger": "close", "source": "open", "dest": "closed"},
            {"trigger": "reopen", "source": "closed", "dest": "open"},
            {"trigger": "comment", "source": "*", "dest": None},
        ]
        close: Trigger
        reopen: Trigger
        comment: Trigger

    ticket = Ticket()
    assert last_transition(ticket) is None
    ticket.close()
    ticket.comment()
    assert last_transition(ticket) == LastTransition("close", "open", "closed")
    ticket.reopen()
    assert last_transition(ticket) == LastTransition("reopen", "closed", "open")
    other = Ticket()
    assert last_transition(other) is None


def test_without_remembering_an_instance_diagram_shows_only_the_current_state() -> None:
    class Light(SignalingMachine):
        states = ["off", "on"]
        initial = "off"
        transitions = [["switch_on", "off", "on"], ["switch_off", "on", "off"]]
        switch_on: Trigger
        switch_off: Trigger

    lamp = Light()
    lamp.switch_on()
    drawn = diagram(lamp)
    assert drawn.state == "on"
    assert drawn.transition is None
    lamp.switch_off()
    assert diagram(lamp).transition is None  # drawing has no side effect on the class
    assert diagram(lamp, transition="switch_off").transition == LastTransition(
        "switch_off", "on", "off"
    )


def test_a_transition_whose_callback_raises_before_the_state_changes_is_not_remembered() -> None:
    @remember_last_transitions
    class Door(SignalingMachine):
        states = [{"name": "closed", "on_exit": "jammed"}, "open"]
        initial = "closed"
        transitions = [["open_door", "closed", "open"]]
        open_door: Trigger

        def jammed(self) -> None:
            raise RuntimeError("jammed")

    door = Door()
    with pytest.raises(RuntimeError):
        door.open_door()
    assert door.state == "closed"
    assert last_transition(door) is None


def test_a_transition_whose_enter_callback_raises_after_the_state_changed_is_remembered() -> None:
    @remember_last_transitions
    class Door(SignalingMachine):
        states = ["closed", {"name": "open", "on_enter": "alarm"}]
        initial = "closed"
        transitions = [["open_door", "closed", "open"]]
        open_door: Trigger

        def alarm(self) -> None:
            raise RuntimeError("alarm")

    door = Door()
    with pytest.raises(RuntimeError):
        door.open_door()
    assert door.state == "open"
    assert last_transition(door) == LastTransition("open_door", "closed", "open")


def test_to_state_transition_that_led_there_is_drawn_even_with_auto_transitions_hidden() -> None:
    order = remember_last_transitions(Order)()
    order.to_shipped()
    edges = dot_edges(diagram(order).source)
    assert "label=to_shipped" in edges[("pending", "shipped")]
    assert "penwidth=2.5" in edges[("pending", "shipped")]


def test_explicit_state_and_transition_highlight_a_class_diagram() -> None:
    drawn = diagram(Order, state="paid", transition="pay")
    assert drawn.transition == LastTransition("pay", "pending", "paid")
    with pytest.raises(DiagramError, match="Order has no state 'payed'"):
        diagram(Order, state="payed")
    with pytest.raises(DiagramError, match="no transition 'ship' leads to state 'paid'"):
        diagram(Order, state="paid", transition="ship")


def test_enum_states_are_drawn_by_name() -> None:
    page = Page()
    page.publish()
    assert "label=publish" in dot_edges(diagram(page).source)[("DRAFT", "LIVE")]
    assert diagram(page).state == "LIVE"


def test_wildcard_source_draws_an_edge_from_every_state() -> None:
    class Job(SignalingMachine):
        states = ["queued", "running", "failed"]
        initial = "queued"
        auto_transitions = False
        transitions = [
            {"trigger": "start", "source": "queued", "dest": "running"},
            {"trigger": "fail", "source": "*", "dest": "failed"},
        ]

    edges = dot_edges(diagram(Job).source)
    assert {tail for tail, head in edges if head == "failed"} == {"queued", "running", "failed"}


NESTED = WorkflowDefinition(
    states=(
        "pending",
        {
            "name": "shipping",
            "initial": "packing",
            "children": [
                "packing",
                {"name": "in_transit", "children": ["on_truck", "at_hub"]},
            ],
            "transitions": [{"trigger": "dispatch", "source": "packing", "dest": "in_transit"}],
        },
        {"name": "delivered", "final": True},
    ),
    transitions=(
        {"trigger": "start", "source": "pending", "dest": "shipping"},
        {"trigger": "arrive", "source": "shipping", "dest": "delivered"},
    ),
    initial="pending",
)


def test_nested_states_are_clusters_with_their_own_start() -> None:
    source = diagram(NESTED, name="Shipment").source
    assert "subgraph cluster_shipping {" in source
    assert "subgraph cluster_shipping_in_transit {" in source
    cluster = source[source.index("subgraph cluster_shipping_in_transit") :]
    assert "label=on_truck" in cluster.split("}")[0]
    edges = dot_edges(source)
    assert ("__start__shipping", "shipping_packing") in edges
    assert ("__start__shipping_in_transit", "shipping_in_transit_on_truck") in edges


def test_edges_to_and_from_a_compound_state_end_at_its_cluster() -> None:
    edges = dot_edges(diagram(NESTED, name="Shipment").source)
    assert "lhead=cluster_shipping" in edges[("pending", "shipping_packing")]
    assert "ltail=cluster_shipping" in edges[("shipping_packing", "delivered")]
    # A nested state's transitions name its children relative to it.
    assert (
        "lhead=cluster_shipping_in_transit"
        in edges[("shipping_packing", "shipping_in_transit_on_truck")]
    )


def test_mermaid_text_is_a_state_diagram_with_guards_finals_and_the_current_state() -> None:
    order = Order()
    text = diagram(order, title="Order: lifecycle").mermaid()
    lines = text.splitlines()
    assert lines[:5] == [
        "---",
        'title: "Order: lifecycle"',
        "---",
        "stateDiagram-v2",
        "    direction LR",
    ]
    assert "    [*] --> pending" in lines
    assert "    pending --> paid: pay [is_funded]" in lines
    assert "    paid --> cancelled: cancel [!is_dispatched]" in lines
    assert "    paid --> paid: note (internal)" in lines
    assert "    delivered --> [*]" in lines
    assert "    cancelled --> [*]" not in lines
    assert "    class pending current" in lines


def test_mermaid_nests_compound_states_and_aliases_their_children() -> None:
    lines = diagram(NESTED, name="Shipment", direction="TB").mermaid().splitlines()
    assert "    direction TB" in lines
    start = lines.index("    state shipping {")
    block = lines[start : lines.index("    }", start) + 1]
    assert '        state "packing" as shipping_packing' in block
    assert "        [*] --> shipping_packing" in block
    assert "        state shipping_in_transit {" in block
    assert "    shipping_packing --> shipping_in_transit: dispatch" in lines


def test_mermaid_ids_are_safe_for_state_names_with_spaces() -> None:
    text = diagram(
        WorkflowDefinition(
            states=("on hold", "done"),
            transitions=({"trigger": "finish", "source": "on hold", "dest": "done"},),
            initial="on hold",
        )
    ).mermaid()
    assert '    state "on hold" as on_hold' in text
    assert "    on_hold --> done: finish" in text


def test_a_class_without_a_workflow_cannot_be_drawn() -> None:
    class Abstract(SignalingMachine):
        pass

    with pytest.raises(Exception, match="Abstract declares no workflow"):
        diagram(Abstract)


PARALLEL = WorkflowDefinition(
    states=(
        "queued",
        {
            "name": "checks",
            "parallel": [{"name": "lint", "children": ["running", "passed"]}, "tests"],
        },
    ),
    transitions=({"trigger": "start", "source": "queued", "dest": "checks"},),
    initial="queued",
)


def test_parallel_regions_are_dashed_clusters_and_each_active_state_is_highlighted() -> None:
    drawn = diagram(PARALLEL, name="Build", state=["checks_lint_running", "checks_tests"])
    assert drawn.states == ("checks_lint_running", "checks_tests")
    assert drawn.state is None
    assert repr(drawn) == "<Diagram of Build, states=('checks_lint_running', 'checks_tests')>"
    source = drawn.source
    assert 'style="rounded,dashed"' in source.split("subgraph cluster_checks {")[1].split("\n")[1]
    nodes = dot_nodes(source)
    assert "filled" in nodes["checks_lint_running"]
    assert "filled" in nodes["checks_tests"]
    assert "filled" not in nodes["checks_lint_passed"]
    lines = drawn.mermaid().splitlines()
    start = lines.index("    state checks {")
    assert lines[start + 1 : start + 3] == [
        "        [*] --> checks_lint",
        "        state checks_lint {",
    ]
    assert "        --" in lines[start:]
    assert "    class checks_lint_running,checks_tests current" in lines

"""Graph and markup machines keep their own features, with the signals on top."""

from __future__ import annotations

import asyncio
import typing as t

from statesignals import (
    AsyncTrigger,
    SignalingGraphMachine,
    SignalingHierarchicalAsyncGraphMachine,
    SignalingHierarchicalGraphMachine,
    SignalingHierarchicalMarkupMachine,
    SignalingMachine,
    SignalingMarkupMachine,
    Trigger,
    transition_completed,
)


class Order:
    """A plain model for imperative machines."""

    def is_funded(self) -> bool:
        return True


STATES = ["pending", "paid", "shipped"]
TRANSITIONS = [
    {"trigger": "pay", "source": "pending", "dest": "paid", "conditions": "is_funded"},
    {"trigger": "ship", "source": "paid", "dest": "shipped"},
]


def completed_triggers() -> list[str]:
    seen: list[str] = []
    transition_completed.connect(lambda sender, **p: seen.append(p["trigger"]), weak=False)
    return seen


def test_graph_machine_draws_guards_and_highlights_the_state_after_a_signalled_trigger() -> None:
    seen = completed_triggers()
    order = Order()
    SignalingGraphMachine(
        order,
        states=STATES,
        transitions=TRANSITIONS,
        initial="pending",
        graph_engine="graphviz",
        show_conditions=True,
        title="Orders",
    )
    order.pay()  # type: ignore[attr-defined]
    graph = order.get_graph()  # type: ignore[attr-defined]
    assert type(graph).__module__.startswith("graphviz")
    source = graph.source
    assert "pay [is_funded]" in source
    assert "label=Orders" in source or 'label="Orders"' in source
    paid = next(line for line in source.splitlines() if line.strip().startswith("paid "))
    assert "darksalmon" in paid  # the active-state style
    pending = next(line for line in source.splitlines() if line.strip().startswith("pending "))
    assert "azure" in pending  # the previous-state style
    assert seen == ["pay"]


def test_graph_style_attributes_stay_configurable_on_the_signaling_class() -> None:
    default: t.Any = SignalingGraphMachine.style_attributes

    class Styled(SignalingGraphMachine):
        style_attributes = {
            **default,
            "node": {
                **default["node"],
                "active": {"fillcolor": "gold"},
            },
        }

    order = Order()
    Styled(
        order, states=STATES, transitions=TRANSITIONS, initial="pending", graph_engine="graphviz"
    )
    assert "gold" in order.get_graph().source  # type: ignore[attr-defined]


def test_nested_graph_machine_draws_compound_states_as_clusters() -> None:
    seen = completed_triggers()
    order = Order()
    SignalingHierarchicalGraphMachine(
        order,
        states=[
            "pending",
            {"name": "shipping", "children": ["packed", "transit"], "initial": "packed"},
        ],
        transitions=[
            ["ship", "pending", "shipping"],
            ["move", "shipping_packed", "shipping_transit"],
        ],
        initial="pending",
        graph_engine="graphviz",
    )
    order.ship()  # type: ignore[attr-defined]
    order.move()  # type: ignore[attr-defined]
    source = order.get_graph().source  # type: ignore[attr-defined]
    assert "subgraph cluster_shipping" in source
    assert "shipping_transit" in source
    assert seen == ["ship", "move"]


def test_markup_export_describes_the_workflow_and_rebuilds_a_signaling_machine() -> None:
    order = Order()
    machine = SignalingMarkupMachine(
        order, states=STATES, transitions=TRANSITIONS, initial="pending"
    )
    markup = machine.markup
    assert [state["name"] for state in markup["states"]] == STATES
    assert {
        "trigger": "pay",
        "source": "pending",
        "dest": "paid",
        "conditions": ["is_funded"],
    } in markup["transitions"]
    config = {key: value for key, value in markup.items() if key != "models"}
    seen = completed_triggers()
    copy = Order()
    rebuilt = SignalingMarkupMachine(markup=config)
    rebuilt.add_model(copy)
    copy.pay()  # type: ignore[attr-defined]
    assert copy.state == "paid"  # type: ignore[attr-defined]
    assert seen == ["pay"]


def test_nested_markup_lists_children() -> None:
    machine = SignalingHierarchicalMarkupMachine(
        states=[
            "pending",
            {"name": "shipping", "children": ["packed", "transit"], "initial": "packed"},
        ],
        initial="pending",
    )
    shipping = next(state for state in machine.markup["states"] if state["name"] == "shipping")
    assert [child["name"] for child in shipping["children"]] == ["packed", "transit"]


def test_a_declared_workflow_on_a_graph_machine_triggers_without_per_instance_graphs() -> None:
    class GraphedOrder(SignalingMachine):
        machine_cls = SignalingGraphMachine
        states = STATES
        initial = "pending"
        transitions = [["pay", "pending", "paid"]]
        graph_engine = "graphviz"
        pay: Trigger

    seen = completed_triggers()
    order = GraphedOrder()
    assert order.pay()
    assert order.state == "paid"
    assert seen == ["pay"]
    machine: t.Any = GraphedOrder.machine
    assert machine.model_graphs == {}
    graph: t.Any = machine.graph_cls(machine).get_graph()
    assert "pending -> paid" in graph.source


def test_a_declared_workflow_on_a_markup_machine_exports_its_definition() -> None:
    class MarkedOrder(SignalingMachine):
        machine_cls = SignalingMarkupMachine
        states = STATES
        initial = "pending"
        transitions = [["pay", "pending", "paid"]]
        pay: Trigger

    seen = completed_triggers()
    order = MarkedOrder()
    assert order.pay()
    markup = MarkedOrder.machine.markup
    assert markup["initial"] == "pending"
    assert markup["transitions"] == [{"trigger": "pay", "source": "pending", "dest": "paid"}]
    assert seen == ["pay"]


def test_a_declared_workflow_on_an_async_graph_machine_triggers_without_graphs() -> None:
    class AsyncGraphedOrder(SignalingMachine):
        machine_cls = SignalingHierarchicalAsyncGraphMachine
        states = ["pending", {"name": "paid", "children": ["held", "settled"], "initial": "held"}]
        initial = "pending"
        transitions = [["pay", "pending", "paid"]]
        graph_engine = "graphviz"
        pay: AsyncTrigger

    seen = completed_triggers()
    order = AsyncGraphedOrder()
    assert asyncio.run(order.pay()) is True
    assert order.state == "paid_held"
    assert seen == ["pay"]
    machine: t.Any = AsyncGraphedOrder.machine
    assert machine.model_graphs == {}

"""Nested and parallel states send one signal per level, with full state names."""

from __future__ import annotations

import enum
import functools
import typing as t

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from transitions.extensions.nesting import NestedState

from statesignals import (
    MachineError,
    ReceiverError,
    SignalingHierarchicalMachine,
    SignalingMachine,
    Trigger,
    WorkflowDefinitionError,
    transition_completed,
)
from statesignals.testing import SignalRecorder
from tests.recording import names, payloads, states

SHIPPING = {
    "name": "shipping",
    "children": ["packed", "transit"],
    "initial": "packed",
    "transitions": [["move", "packed", "transit"]],
}
STATES = ["pending", SHIPPING, "delivered"]
TRANSITIONS = [
    ["ship", "pending", "shipping"],
    ["deliver", "shipping", "delivered"],
    ["reopen", "delivered", "shipping_transit"],
]


class Parcel:
    """A plain model for imperative machines."""


@pytest.fixture
def log(signal_recorder: SignalRecorder) -> SignalRecorder:
    return signal_recorder


def make_machine(**options: t.Any) -> tuple[Parcel, SignalingHierarchicalMachine]:
    parcel = Parcel()
    options.setdefault("initial", "pending")
    machine = SignalingHierarchicalMachine(
        parcel, states=STATES, transitions=TRANSITIONS, **options
    )
    return parcel, machine


def test_entering_a_compound_state_enters_each_level_outermost_first(log: SignalRecorder) -> None:
    parcel, _ = make_machine()
    parcel.ship()  # type: ignore[attr-defined]
    assert states(log) == [
        ("state_exited", "pending"),
        ("state_entered", "shipping"),
        ("state_entered", "shipping_packed"),
    ]


def test_leaving_a_compound_state_exits_each_level_innermost_first(log: SignalRecorder) -> None:
    parcel, _ = make_machine(initial="shipping_transit")
    parcel.deliver()  # type: ignore[attr-defined]
    assert states(log) == [
        ("state_exited", "shipping_transit"),
        ("state_exited", "shipping"),
        ("state_entered", "delivered"),
    ]


def test_moving_between_siblings_leaves_the_parent_alone(log: SignalRecorder) -> None:
    parcel, _ = make_machine(initial="shipping")
    parcel.move()  # type: ignore[attr-defined]
    assert states(log) == [
        ("state_exited", "shipping_packed"),
        ("state_entered", "shipping_transit"),
    ]


def test_completed_payload_names_full_source_and_dest_of_a_scoped_transition(
    log: SignalRecorder,
) -> None:
    parcel, _ = make_machine(initial="shipping")
    parcel.move()  # type: ignore[attr-defined]
    [completed] = payloads(log, "transition_completed")
    assert (completed["source"], completed["dest"]) == ("shipping_packed", "shipping_transit")
    exited = payloads(log, "state_exited")[0]
    assert (exited["source"], exited["dest"]) == ("shipping_packed", "shipping_transit")


def test_transition_into_a_nested_state_from_the_root_names_it_in_full(log: SignalRecorder) -> None:
    parcel, _ = make_machine(initial="delivered")
    parcel.reopen()  # type: ignore[attr-defined]
    assert payloads(log, "transition_completed")[0]["dest"] == "shipping_transit"
    assert states(log)[-1] == ("state_entered", "shipping_transit")


def test_signals_follow_the_state_callbacks_of_each_level(log: SignalRecorder) -> None:
    order: list[str] = []
    parcel, machine = make_machine(initial="shipping_transit")
    machine.on_exit("shipping_transit", lambda: order.append("on_exit transit"))
    machine.on_exit("shipping", lambda: order.append("on_exit shipping"))
    state_log = log
    machine.on_enter("delivered", lambda: order.append(f"signals so far {len(state_log.signals)}"))
    parcel.deliver()  # type: ignore[attr-defined]
    assert order == ["on_exit transit", "on_exit shipping", "signals so far 2"]


def parallel_machine() -> tuple[Parcel, SignalingHierarchicalMachine]:
    parcel = Parcel()
    regions = [
        {"name": "payment", "children": ["open", "settled"], "initial": "open"},
        {"name": "stock", "children": ["open", "settled"], "initial": "open"},
    ]
    machine = SignalingHierarchicalMachine(
        parcel,
        states=["idle", {"name": "busy", "parallel": regions}, "done"],
        transitions=[
            ["start", "idle", "busy"],
            ["settle", "busy_payment_open", "busy_payment_settled"],
            ["settle", "busy_stock_open", "busy_stock_settled"],
            ["finish", "busy", "done"],
        ],
        initial="idle",
    )
    return parcel, machine


def test_entering_a_parallel_state_enters_every_region(log: SignalRecorder) -> None:
    parcel, _ = parallel_machine()
    parcel.start()  # type: ignore[attr-defined]
    assert sorted(state for _, state in states(log)[1:]) == [
        "busy",
        "busy_payment",
        "busy_payment_open",
        "busy_stock",
        "busy_stock_open",
    ]
    assert states(log)[1] == ("state_entered", "busy")


def test_leaving_a_parallel_state_exits_every_region_before_the_parent(log: SignalRecorder) -> None:
    parcel, _ = parallel_machine()
    parcel.start()  # type: ignore[attr-defined]
    log.clear()
    parcel.finish()  # type: ignore[attr-defined]
    exited = [state for name, state in states(log) if name == "state_exited"]
    assert set(exited[:-1]) == {
        "busy_payment_open",
        "busy_payment",
        "busy_stock_open",
        "busy_stock",
    }
    assert exited[-1] == "busy"
    assert exited.index("busy_payment_open") < exited.index("busy_payment")


def test_a_trigger_that_moves_every_region_completes_once(log: SignalRecorder) -> None:
    parcel, _ = parallel_machine()
    parcel.start()  # type: ignore[attr-defined]
    log.clear()
    assert parcel.settle()  # type: ignore[attr-defined]
    assert parcel.state == ["busy_payment_settled", "busy_stock_settled"]  # type: ignore[attr-defined]
    assert names(log).count("transition_completed") == 1
    assert names(log)[-1] == "transition_completed"
    assert sorted(s for n, s in states(log) if n == "state_entered") == [
        "busy_payment_settled",
        "busy_stock_settled",
    ]


def test_completed_is_sent_before_finalize_event(log: SignalRecorder) -> None:
    seen: list[list[str]] = []
    parcel, _ = make_machine(finalize_event=lambda: seen.append(names(log)))
    parcel.ship()  # type: ignore[attr-defined]
    assert seen == [names(log)]
    assert seen[0][-1] == "transition_completed"


def test_a_guard_refusing_inside_a_nested_state_is_denied_for_conditions(
    log: SignalRecorder,
) -> None:
    parcel = Parcel()
    parcel.ready = lambda: False  # type: ignore[attr-defined]
    states = [{**SHIPPING, "transitions": [["move", "packed", "transit", "ready"]]}, "delivered"]
    SignalingHierarchicalMachine(parcel, states=states, initial="shipping")
    assert parcel.move() is False  # type: ignore[attr-defined]
    [denied] = payloads(log, "transition_denied")
    assert denied["reason"] == "conditions"
    assert denied["failed_conditions"] == ["ready"]
    assert denied["source"] == denied["dest"] == "shipping_packed"
    assert "transition_completed" not in names(log)


def test_an_invalid_trigger_in_a_nested_machine_is_denied_then_raised(log: SignalRecorder) -> None:
    parcel, _ = make_machine()
    with pytest.raises(MachineError) as raised:
        parcel.move()  # type: ignore[attr-defined]
    [denied] = payloads(log, "transition_denied")
    assert denied["reason"] == "invalid_trigger"
    assert denied["error"] is raised.value
    assert denied["trigger"] == "move"


def test_an_ignored_invalid_trigger_is_still_denied(log: SignalRecorder) -> None:
    parcel, _ = make_machine(ignore_invalid_triggers=True)
    assert parcel.move() is False  # type: ignore[attr-defined]
    [denied] = payloads(log, "transition_denied")
    assert denied["reason"] == "invalid_trigger"
    assert isinstance(denied["error"], MachineError)


def test_a_trigger_no_state_knows_raises_attribute_error_and_sends_nothing(
    log: SignalRecorder,
) -> None:
    parcel, _ = make_machine()
    with pytest.raises(AttributeError):
        parcel.trigger("explode")  # type: ignore[attr-defined]
    assert log.signals == []


def test_a_failing_callback_in_a_nested_machine_reports_transition_failed(
    log: SignalRecorder,
) -> None:
    parcel, machine = make_machine()

    def broken() -> None:
        raise RuntimeError("label printer offline")

    machine.on_enter("shipping_packed", broken)
    with pytest.raises(RuntimeError):
        parcel.ship()  # type: ignore[attr-defined]
    [failed] = payloads(log, "transition_failed")
    assert str(failed["error"]) == "label printer offline"
    assert "transition_completed" not in names(log)


def test_to_state_sends_exit_enter_and_completed(log: SignalRecorder) -> None:
    parcel, _ = make_machine()
    parcel.to("shipping_transit")  # type: ignore[attr-defined]
    assert names(log) == ["state_exited", "state_entered", "state_entered", "transition_completed"]
    assert payloads(log, "transition_completed")[0]["dest"] == "shipping_transit"


def test_auto_transition_to_a_nested_state_is_signalled(log: SignalRecorder) -> None:
    parcel, _ = make_machine()
    parcel.to_shipping_transit()  # type: ignore[attr-defined]
    [completed] = payloads(log, "transition_completed")
    assert (completed["trigger"], completed["dest"]) == ("to_shipping_transit", "shipping_transit")


class DottedState(NestedState):
    separator = "."


class DottedMachine(SignalingHierarchicalMachine):
    state_cls = DottedState


def test_state_names_use_the_machine_separator(log: SignalRecorder) -> None:
    parcel = Parcel()
    DottedMachine(
        parcel,
        states=["pending", {"name": "shipping", "children": ["packed", "in_transit"]}],
        transitions=[["ship", "pending", "shipping.in_transit"]],
        initial="pending",
    )
    parcel.ship()  # type: ignore[attr-defined]
    assert states(log)[1:] == [
        ("state_entered", "shipping"),
        ("state_entered", "shipping.in_transit"),
    ]
    assert payloads(log, "transition_completed")[0]["dest"] == "shipping.in_transit"


# The declarative side


class Shipment(SignalingMachine):
    machine_cls = SignalingHierarchicalMachine
    states = STATES
    transitions = TRANSITIONS
    initial = "pending"
    ship: Trigger
    move: Trigger
    may_move: Trigger
    may_ship: Trigger
    is_shipping_transit: Trigger


def test_a_declared_nested_workflow_starts_in_the_initial_leaf() -> None:
    class Parked(SignalingMachine):
        machine_cls = SignalingHierarchicalMachine
        states = STATES
        initial = "shipping"

    assert Parked().state == "shipping_packed"


def test_declared_nested_triggers_move_instances_and_signal(log: SignalRecorder) -> None:
    shipment = Shipment()
    assert vars(shipment) == {}  # the state is the class default until it changes
    assert shipment.ship() is True
    assert shipment.move() is True
    assert shipment.state == "shipping_transit"
    assert shipment.is_shipping_transit()
    assert not shipment.may_move()
    assert [p["dest"] for p in payloads(log, "transition_completed")] == [
        "shipping",
        "shipping_transit",
    ]
    assert Shipment.machine.models == []


def test_declared_nested_trigger_from_a_wrong_state_raises_machine_error() -> None:
    with pytest.raises(MachineError):
        Shipment().move()


def test_per_class_receivers_accept_nested_triggers_and_states() -> None:
    seen: list[str] = []

    @Shipment.on_transition("move")
    def moved(shipment: Shipment, **payload: object) -> None:
        seen.append(f"moved to {payload['dest']}")

    @Shipment.on_enter("shipping_packed")
    def packed(shipment: Shipment, **payload: object) -> None:
        seen.append("packed")

    try:
        shipment = Shipment()
        shipment.ship()
        shipment.move()
    finally:
        Shipment.disconnect(moved)
        Shipment.disconnect(packed)
    assert seen == ["packed", "moved to shipping_transit"]


def test_a_declared_parallel_state_runs_every_region() -> None:
    class Fulfilment(SignalingMachine):
        machine_cls = SignalingHierarchicalMachine
        states = [
            "idle",
            {
                "name": "busy",
                "parallel": [
                    {"name": "payment", "children": ["open", "settled"], "initial": "open"},
                    {"name": "stock", "children": ["open", "settled"], "initial": "open"},
                ],
            },
        ]
        initial = "idle"
        transitions = [
            ["start", "idle", "busy"],
            ["settle", "busy_payment_open", "busy_payment_settled"],
            ["settle", "busy_stock_open", "busy_stock_settled"],
        ]
        start: Trigger
        settle: Trigger

    order = Fulfilment()
    completed: list[str] = []
    transition_completed.connect(lambda s, **p: completed.append(p["trigger"]), weak=False)
    order.start()
    assert order.state == ["busy_payment_open", "busy_stock_open"]
    order.settle()
    assert order.state == ["busy_payment_settled", "busy_stock_settled"]
    assert completed == ["start", "settle"]


class Counter(SignalingMachine):
    machine_cls = SignalingHierarchicalMachine
    states = ["counting", "done"]
    initial = "counting"
    transitions = [["finish", "counting", "done"]]


def test_a_workflow_class_embeds_as_children_and_remaps_its_final_state() -> None:
    class Inventory(SignalingMachine):
        machine_cls = SignalingHierarchicalMachine
        states = ["idle", {"name": "count", "children": Counter, "remap": {"done": "idle"}}]
        initial = "idle"
        transitions = [["start", "idle", "count"]]
        start: Trigger
        finish: Trigger

    inventory = Inventory()
    inventory.start()
    assert inventory.state == "count_counting"
    inventory.finish()
    assert inventory.state == "idle"


def test_a_nested_transition_to_an_unknown_child_names_the_class_and_entry() -> None:
    with pytest.raises(WorkflowDefinitionError) as raised:

        class Broken(SignalingMachine):
            machine_cls = SignalingHierarchicalMachine
            states = [{**SHIPPING, "transitions": [["move", "packed", "lost"]]}]
            initial = "shipping"

    message = str(raised.value)
    assert "Broken: state 'shipping' transitions[0]" in message
    assert "dest 'lost' is not a state" in message


def test_a_root_transition_to_an_unknown_nested_name_is_rejected() -> None:
    with pytest.raises(WorkflowDefinitionError, match=r"Broken: transitions\[0\].*shipping_lost"):

        class Broken(SignalingMachine):
            machine_cls = SignalingHierarchicalMachine
            states = STATES
            initial = "pending"
            transitions = [["ship", "pending", "shipping_lost"]]


def test_a_compound_initial_that_is_not_a_child_is_rejected() -> None:
    with pytest.raises(WorkflowDefinitionError, match="state 'shipping': initial state 'lost'"):

        class Broken(SignalingMachine):
            machine_cls = SignalingHierarchicalMachine
            states = [{**SHIPPING, "initial": "lost"}]
            initial = "shipping"


def test_a_remap_to_an_unknown_state_is_rejected() -> None:
    with pytest.raises(WorkflowDefinitionError, match="remap: target 'nowhere'"):

        class Broken(SignalingMachine):
            machine_cls = SignalingHierarchicalMachine
            states = ["idle", {"name": "count", "children": Counter, "remap": {"done": "nowhere"}}]
            initial = "idle"


def test_a_child_declared_twice_is_rejected() -> None:
    with pytest.raises(WorkflowDefinitionError, match="'shipping_packed' is declared twice"):

        class Broken(SignalingMachine):
            machine_cls = SignalingHierarchicalMachine
            states = [{"name": "shipping", "children": ["packed", "packed"]}]
            initial = "shipping"


def test_receiver_errors_during_to_state_are_raised_once_it_returned() -> None:
    def broken(sender: object, **payload: object) -> None:
        raise LookupError("no such depot")

    transition_completed.connect(broken)
    parcel, _ = make_machine()
    with pytest.raises(ReceiverError) as raised:
        parcel.to("shipping_transit")  # type: ignore[attr-defined]
    assert parcel.state == "shipping_transit"  # type: ignore[attr-defined]
    assert [str(error) for error in raised.value.exceptions] == ["no such depot"]


def test_may_checks_in_a_nested_machine_send_nothing(log: SignalRecorder) -> None:
    parcel, _ = make_machine(initial="shipping")
    assert parcel.may_move() is True  # type: ignore[attr-defined]
    assert parcel.may_ship() is False  # type: ignore[attr-defined]
    assert Shipment().may_ship() is True
    assert log.signals == []


class Leg(enum.Enum):
    PACKED = 1
    TRANSIT = 2


class Stage(enum.Enum):
    PENDING = 0
    SHIPPING = Leg


def test_nested_enum_states_signal_by_full_member_path(log: SignalRecorder) -> None:
    class EnumShipment(SignalingMachine):
        machine_cls = SignalingHierarchicalMachine
        states = Stage
        initial = Stage.PENDING
        transitions = [["ship", Stage.PENDING, Leg.PACKED], ["move", Leg.PACKED, Leg.TRANSIT]]
        ship: Trigger
        move: Trigger

    shipment = EnumShipment()
    shipment.ship()
    shipment.move()
    assert shipment.state is Leg.TRANSIT
    assert [p["state"] for p in payloads(log, "state_entered")] == [
        "SHIPPING",
        "SHIPPING_PACKED",
        "SHIPPING_TRANSIT",
    ]
    assert [(p["source"], p["dest"]) for p in payloads(log, "transition_completed")] == [
        ("PENDING", "SHIPPING_PACKED"),
        ("SHIPPING_PACKED", "SHIPPING_TRANSIT"),
    ]


PARALLEL_STATES: list[t.Any] = [
    "idle",
    {
        "name": "busy",
        "parallel": [
            {"name": "pay", "children": ["open", "done"], "initial": "open"},
            {
                "name": "pick",
                "children": [
                    "open",
                    {"name": "done", "children": ["boxed", "sealed"], "initial": "boxed"},
                ],
                "initial": "open",
            },
        ],
    },
    {"name": "closed", "children": ["ok", "void"], "initial": "ok"},
]
PARALLEL_TRANSITIONS = [
    ["start", "idle", "busy"],
    ["settle", "busy_pay_open", "busy_pay_done"],
    ["settle", "busy_pick_open", "busy_pick_done"],
    ["seal", "busy_pick_done_boxed", "busy_pick_done_sealed"],
    ["close", "busy", "closed"],
    ["void", "closed_ok", "closed_void"],
    ["reset", "*", "idle"],
]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(["start", "settle", "seal", "close", "void", "reset"]), max_size=12)
)
def test_state_signals_follow_the_state_callbacks_for_any_trigger_sequence(
    triggers: list[str],
) -> None:
    callbacks: list[tuple[str, str]] = []
    parcel = Parcel()
    machine = SignalingHierarchicalMachine(
        parcel,
        states=PARALLEL_STATES,
        transitions=PARALLEL_TRANSITIONS,
        initial="idle",
        ignore_invalid_triggers=True,
    )
    for name in machine.get_nested_state_names():
        machine.on_enter(name, functools.partial(callbacks.append, ("state_entered", name)))
        machine.on_exit(name, functools.partial(callbacks.append, ("state_exited", name)))
    with SignalRecorder() as log:
        moved = sum(bool(getattr(parcel, trigger)()) for trigger in triggers)
    assert states(log) == callbacks
    assert names(log).count("transition_completed") == moved
    assert len(payloads(log, "transition_denied")) == len(triggers) - moved

"""SignalingMachine: workflows declared on the class, compiled once, cheap instances."""

from __future__ import annotations

import enum
import gc
import pickle
import typing as t
import weakref

import pytest
from transitions import Machine, MachineError

from statesignals import SignalingMachine, WorkflowDefinitionError, transition_completed
from statesignals.testing import SignalRecorder
from tests.models import Order
from tests.recording import entries


def test_workflow_is_compiled_once_and_shared_by_every_instance() -> None:
    first, second = Order(), Order()

    assert isinstance(Order.machine, Machine)
    assert type(first).machine is type(second).machine is Order.machine
    assert Order.machine.models == []
    assert not any(isinstance(value, Machine) for value in vars(first).values())


def test_instances_start_in_the_initial_state_without_calling_super_init() -> None:
    order = Order(total=10)

    assert order.state == "pending"
    assert order.is_pending() is True  # type: ignore[attr-defined]
    assert "state" not in vars(order)


def test_instances_are_not_kept_alive_by_the_class() -> None:
    triggers: list[str] = []

    def record(sender: object, **payload: t.Any) -> None:
        triggers.append(payload["trigger"])

    transition_completed.connect(record)
    order = Order(total=1, paid=1)
    order.pay()
    reference = weakref.ref(order)

    del order
    gc.collect()

    assert reference() is None
    assert triggers == ["pay"]


def test_triggers_and_conveniences_behave_as_in_transitions() -> None:
    order = Order(total=10, paid=5)

    assert order.may_pay() is False  # type: ignore[attr-defined]
    assert order.pay() is False
    order.paid = 10
    assert order.may_trigger("pay") is True
    assert order.trigger("pay") is True
    assert order.is_paid() is True  # type: ignore[attr-defined]
    with pytest.raises(MachineError):
        order.pay()
    assert order.to_pending() is True  # type: ignore[attr-defined]
    assert order.state == "pending"
    with pytest.raises(AttributeError):
        order.trigger("refund")


def test_instances_transition_independently() -> None:
    paid, waiting = Order(total=1, paid=1), Order(total=1)

    paid.pay()

    assert (paid.state, waiting.state) == ("paid", "pending")


def test_trigger_arguments_reach_callbacks() -> None:
    received: list[tuple[t.Any, ...]] = []

    class Shipment(SignalingMachine):
        states = ["packed", "sent"]
        initial = "packed"
        transitions = [{"trigger": "send", "source": "packed", "dest": "sent", "after": "log"}]

        def log(self, *args: t.Any, **kwargs: t.Any) -> None:
            received.append((args, kwargs))

    Shipment().trigger("send", "DHL", tracking="123")

    assert received == [(("DHL",), {"tracking": "123"})]


def test_on_enter_and_on_exit_methods_of_the_class_are_callbacks() -> None:
    calls: list[str] = []

    class Door(SignalingMachine):
        states = ["closed", "open"]
        initial = "closed"
        transitions = [["open", "closed", "open"]]

        def on_exit_closed(self) -> None:
            calls.append("exit closed")

        def on_enter_open(self) -> None:
            calls.append("enter open")

    Door().trigger("open")

    assert calls == ["exit closed", "enter open"]


def test_machine_keywords_are_declared_on_the_class() -> None:
    calls: list[str] = []

    class Audited(SignalingMachine):
        states = ["a", "b"]
        initial = "a"
        transitions = [["go", "a", "b"]]
        auto_transitions = False
        ignore_invalid_triggers = True
        send_event = True
        model_attribute = "status"
        after_state_change = "audit"

        def audit(self, event: t.Any) -> None:
            calls.append(event.event.name)

    model = Audited()
    assert not hasattr(model, "to_b")
    assert model.status == "a"  # type: ignore[attr-defined]
    assert model.is_status_a() is True  # type: ignore[attr-defined]
    assert model.trigger("go") is True
    assert model.trigger("go") is False  # ignored, not raised
    assert calls == ["go"]


def test_subclass_extends_the_parent_workflow() -> None:
    class ExpressOrder(Order):
        states = ["expedited"]
        transitions = [{"trigger": "expedite", "source": "paid", "dest": "expedited"}]

    express = ExpressOrder(total=0)
    express.pay()
    express.trigger("expedite")

    assert express.state == "expedited"
    assert ExpressOrder.machine is not Order.machine
    assert "expedite" not in Order.machine.events
    assert not hasattr(Order(), "expedite")
    assert ExpressOrder.workflow.state_names == (
        "pending",
        "paid",
        "shipped",
        "cancelled",
        "expedited",
    )


def test_subclass_without_declarations_inherits_the_workflow() -> None:
    class GiftOrder(Order):
        def is_funded(self) -> bool:
            return True

    gift = GiftOrder()

    assert gift.pay() is True
    assert gift.state == "paid"


def test_subclass_may_replace_the_initial_state_and_options() -> None:
    class Imported(Order):
        initial = "paid"
        ignore_invalid_triggers = True

    imported = Imported()

    assert imported.state == "paid"
    assert imported.pay() is False
    assert Order().state == "pending"


def test_abstract_base_without_states_is_not_compiled() -> None:
    class Logged(SignalingMachine):
        receiver_errors = "log"

    class Task(Logged):
        states = ["todo", "done"]
        initial = "todo"
        transitions = [["finish", "todo", "done"]]

    assert "machine" not in vars(Logged)
    assert Task.machine.receiver_errors == "log"


class Priority(enum.Enum):
    LOW = "low"
    HIGH = "high"


class Escalation(SignalingMachine):
    states = Priority
    initial = Priority.LOW
    transitions = [["escalate", Priority.LOW, Priority.HIGH]]


def test_enum_states_are_declared_and_held_as_enum_members(signal_recorder: SignalRecorder) -> None:
    ticket = Escalation()

    ticket.trigger("escalate")

    assert ticket.state is Priority.HIGH
    assert ticket.is_HIGH() is True  # type: ignore[attr-defined]
    assert entries(signal_recorder, marks=False)[-1] == (
        "transition_completed",
        "escalate",
        "LOW",
        "HIGH",
    )


def test_instances_pickle_with_their_state() -> None:
    order = Order(total=1, paid=1)
    order.pay()

    copy = pickle.loads(pickle.dumps(order))

    assert copy.state == "paid"
    assert copy.ship() is True
    assert order.state == "paid"


def test_model_override_binds_only_declared_stubs() -> None:
    class Typed(SignalingMachine):
        states = ["a", "b"]
        initial = "a"
        transitions = [["go", "a", "b"], ["back", "b", "a"]]
        model_override = True

        def go(self) -> bool:
            raise RuntimeError("replaced by the workflow")

    typed = Typed()

    assert typed.go() is True
    assert not hasattr(typed, "back")
    assert typed.trigger("back") is True


def test_a_definition_error_leaves_no_class_behind() -> None:
    with pytest.raises(WorkflowDefinitionError):

        class Broken(SignalingMachine):
            states = ["a"]
            initial = "b"

    assert "Broken" not in locals()


def test_is_state_accepts_allow_substates_as_transitions_does() -> None:
    from statesignals import SignalingHierarchicalMachine

    class Trip(SignalingMachine):
        machine_cls = SignalingHierarchicalMachine
        states = ["home", {"name": "away", "children": ["hotel", "beach"], "initial": "hotel"}]
        initial = "home"
        transitions = [["leave", "home", "away"]]

    class Lamp(SignalingMachine):
        states = ["off", "on"]
        initial = "off"

    trip = Trip()
    trip.trigger("leave")
    check: t.Any = trip
    assert check.is_away(allow_substates=True)
    assert not check.is_away()
    assert check.is_away_hotel(allow_substates=True)
    assert t.cast(t.Any, Lamp()).is_off(allow_substates=True)

"""The declarative class accepts what transitions users write in a machine's keywords."""

from __future__ import annotations

import typing as t

import pytest
from transitions import State
from transitions.extensions.nesting import NestedState

from statesignals import (
    MachineError,
    SignalingHierarchicalMachine,
    SignalingMachine,
    StateSignalsError,
    WorkflowDefinitionError,
)
from tests.recording import recording, states


def test_a_declared_name_prefixes_machine_errors_as_the_imperative_machine_does() -> None:
    class Order(SignalingMachine):
        name = "Shop"
        states = ["pending", "shipped"]
        initial = "pending"
        transitions = [["deliver", "shipped", "pending"]]

    with pytest.raises(
        MachineError, match=r"^\"?Shop: Can't trigger event deliver from state pending!"
    ):
        t.cast(t.Any, Order()).deliver()
    assert Order.machine.name == "Shop: "


def test_state_objects_are_accepted_in_states_and_send_their_signals() -> None:
    left: list[str] = []

    class Ticket(SignalingMachine):
        states = [State("open", on_exit="note_left"), "closed"]
        initial = "open"
        transitions = [["close", "open", "closed"]]

        def note_left(self) -> None:
            left.append("open")

    log = recording()
    try:
        ticket = Ticket()
        assert t.cast(t.Any, ticket).close()
    finally:
        log.stop()
    assert ticket.state == "closed"
    assert left == ["open"]
    assert states(log) == [("state_exited", "open"), ("state_entered", "closed")]


def test_nested_state_objects_are_accepted_in_states() -> None:
    class Parcel(SignalingMachine):
        machine_cls = SignalingHierarchicalMachine
        states = [NestedState("packed"), {"name": "transit", "children": [NestedState("road")]}]
        initial = "packed"
        transitions = [["ship", "packed", "transit_road"]]

    parcel = Parcel()
    assert t.cast(t.Any, parcel).ship()
    assert parcel.state == "transit_road"


def test_a_compound_state_may_declare_initial_false() -> None:
    class Parcel(SignalingMachine):
        machine_cls = SignalingHierarchicalMachine
        states = ["packed", {"name": "transit", "children": ["road", "sea"], "initial": False}]
        initial = "packed"
        transitions = [["ship", "packed", "transit_sea"], ["hold", "packed", "transit"]]

    parcel = Parcel()
    assert t.cast(t.Any, parcel).ship()
    assert parcel.state == "transit_sea"
    other = Parcel()
    assert t.cast(t.Any, other).hold()
    assert other.state == "transit"


@pytest.mark.parametrize(
    "keyword",
    ["prepare_event", "before_state_change", "after_state_change", "finalize_event"],
)
def test_a_model_method_named_like_a_machine_callback_is_that_callback(keyword: str) -> None:
    calls: list[str] = []

    def callback(self: object) -> None:
        calls.append(keyword)

    Workflow = type(
        "Workflow",
        (SignalingMachine,),
        {
            "states": ["a", "b"],
            "initial": "a",
            "transitions": [["go", "a", "b"]],
            keyword: callback,
        },
    )
    assert Workflow().go()
    assert calls == [keyword]


def test_a_model_on_exception_method_handles_exceptions_of_callbacks() -> None:
    class Upload(SignalingMachine):
        states = ["idle", "sent"]
        initial = "idle"
        transitions = [{"trigger": "send", "source": "idle", "dest": "sent", "before": "fail"}]
        send_event = True
        handled: t.ClassVar[list[str]] = []

        def fail(self, event: t.Any) -> None:
            raise ValueError("no network")

        def on_exception(self, event: t.Any) -> None:
            self.handled.append(str(event.error))

    upload = Upload()
    assert t.cast(t.Any, upload).send() is False
    assert Upload.handled == ["no network"]


def test_a_model_method_named_like_a_machine_setting_is_rejected_at_class_creation() -> None:
    with pytest.raises(WorkflowDefinitionError, match=r"Job\.queued is a method.*rename it"):

        class Job(SignalingMachine):
            states = ["a", "b"]
            initial = "a"

            def queued(self) -> bool:
                return True


def test_queued_on_a_declared_class_queues_per_instance() -> None:
    seen: list[tuple[bool, str]] = []

    class Pair(SignalingMachine):
        states = ["idle", "moved"]
        initial = "idle"
        transitions = [{"trigger": "go", "source": "idle", "dest": "moved", "after": "poke"}]
        queued = True
        peer: Pair | None = None

        def poke(self) -> None:
            if self.peer is not None:
                # Another instance's trigger runs at once, as with per-instance machines.
                seen.append((t.cast(t.Any, self.peer).go(), self.peer.state))

    first, second = Pair(), Pair()
    first.peer = second
    assert t.cast(t.Any, first).go()
    assert seen == [(True, "moved")]


def test_queued_on_a_declared_class_still_defers_the_same_instances_triggers() -> None:
    order: list[str] = []

    class Relay(SignalingMachine):
        states = ["a", "b", "c"]
        initial = "a"
        transitions = [
            {"trigger": "first", "source": "a", "dest": "b", "after": "chain"},
            ["second", "b", "c"],
        ]
        queued = True

        def chain(self) -> None:
            t.cast(t.Any, self).second()
            order.append(self.state)

    relay = Relay()
    assert t.cast(t.Any, relay).first()
    assert order == ["b"]
    assert relay.state == "c"


def test_dispatch_on_a_declared_classes_machine_says_what_to_do_instead() -> None:
    class Order(SignalingMachine):
        states = ["pending", "paid"]
        initial = "pending"
        transitions = [["pay", "pending", "paid"]]

    with pytest.raises(StateSignalsError, match=r"Order\.machine holds no models.*pay"):
        Order.machine.dispatch("pay")

"""transition_denied: a guard said no, or the trigger is not valid in this state."""

from __future__ import annotations

import typing as t

import pytest
from transitions import Machine, MachineError

from statesignals import GuardCallError, SignalingCoreMachine, SignalingMachine, transition_denied
from statesignals.testing import SignalRecorder
from tests.recording import entries, payloads


class Order(SignalingMachine):
    states = ["pending", "paid", "shipped", "cancelled"]
    initial = "pending"
    transitions = [
        {"trigger": "pay", "source": "pending", "dest": "paid", "conditions": ["is_funded"]},
        {
            "trigger": "ship",
            "source": "paid",
            "dest": "shipped",
            "conditions": ["is_packed", "has_address"],
            "unless": "is_blocked",
        },
        {"trigger": "cancel", "source": "pending", "dest": "cancelled", "unless": "is_blocked"},
        {"trigger": "cancel", "source": "pending", "dest": "cancelled", "conditions": "is_admin"},
    ]

    funded = packed = address = blocked = admin = False

    def is_funded(self) -> bool:
        return self.funded

    def is_packed(self) -> bool:
        return self.packed

    def has_address(self) -> bool:
        return self.address

    def is_blocked(self) -> bool:
        return self.blocked

    def is_admin(self) -> bool:
        return self.admin


def test_denied_signal_names_each_failed_condition(signal_recorder: SignalRecorder) -> None:
    order = Order()

    assert order.trigger("pay") is False

    assert order.state == "pending"
    assert entries(signal_recorder, marks=False) == [
        ("transition_denied", "pay", "pending", "pending", "conditions", ["is_funded"])
    ]
    assert payloads(signal_recorder)[-1]["error"] is None


def test_guards_stop_at_the_first_refusal_as_transitions_does(
    signal_recorder: SignalRecorder,
) -> None:
    order = Order()
    order.state = "paid"
    order.packed = True

    assert order.trigger("ship") is False

    # has_address refused; is_blocked was never asked, exactly as in transitions.
    assert payloads(signal_recorder)[-1]["failed_conditions"] == ["has_address"]


def test_unless_guards_are_named_with_not(signal_recorder: SignalRecorder) -> None:
    order = Order()
    order.state = "paid"
    order.packed = order.address = order.blocked = True

    order.trigger("ship")

    assert payloads(signal_recorder)[-1]["failed_conditions"] == ["not is_blocked"]


def test_each_refused_candidate_transition_contributes_its_guard(
    signal_recorder: SignalRecorder,
) -> None:
    order = Order()
    order.blocked = True

    assert order.trigger("cancel") is False

    assert payloads(signal_recorder)[-1]["reason"] == "conditions"
    assert payloads(signal_recorder)[-1]["failed_conditions"] == ["not is_blocked", "is_admin"]


def test_a_later_candidate_that_passes_means_no_denial(signal_recorder: SignalRecorder) -> None:
    order = Order()
    order.blocked = order.admin = True

    assert order.trigger("cancel") is True

    assert [entry[0] for entry in entries(signal_recorder, marks=False)] == [
        "state_exited",
        "state_entered",
        "transition_completed",
    ]


def test_invalid_trigger_is_denied_and_still_raises_machine_error(
    signal_recorder: SignalRecorder,
) -> None:
    order = Order()
    order.state = "shipped"

    with pytest.raises(MachineError) as raised:
        order.trigger("pay")

    assert "Can't trigger event pay from state shipped" in str(raised.value)
    assert "Order" in str(raised.value)
    assert entries(signal_recorder, marks=False) == [
        ("transition_denied", "pay", "shipped", "shipped", "invalid_trigger", [])
    ]
    assert payloads(signal_recorder)[-1]["error"] is raised.value


def test_invalid_trigger_raises_the_same_error_as_plain_transitions() -> None:
    plain = Machine(states=["a", "b"], initial="a", transitions=[["go", "b", "a"]])
    signaling = SignalingCoreMachine(states=["a", "b"], initial="a", transitions=[["go", "b", "a"]])

    with pytest.raises(MachineError) as plain_error:
        plain.go()
    with pytest.raises(MachineError) as signaling_error:
        signaling.go()

    assert type(signaling_error.value) is type(plain_error.value)
    assert str(signaling_error.value) == str(plain_error.value)


def test_ignored_invalid_trigger_is_denied_without_raising(signal_recorder: SignalRecorder) -> None:
    class Lenient(SignalingMachine):
        states = ["a", "b"]
        initial = "a"
        transitions = [["go", "b", "a"]]
        ignore_invalid_triggers = True

    model = Lenient()

    assert model.trigger("go") is False

    payload = payloads(signal_recorder)[-1]
    assert (payload["signal"], payload["reason"]) == ("transition_denied", "invalid_trigger")
    assert isinstance(payload["error"], MachineError)
    assert "Can't trigger event go from state a" in str(payload["error"])


def test_state_level_ignore_invalid_triggers_is_honoured(signal_recorder: SignalRecorder) -> None:
    class PerState(SignalingMachine):
        states = [{"name": "quiet", "ignore_invalid_triggers": True}, "loud", "silent"]
        initial = "quiet"
        transitions = [["go", "loud", "quiet"], ["hush", "quiet", "silent"]]

    model = PerState()
    assert model.trigger("go") is False
    model.trigger("hush")
    with pytest.raises(MachineError):
        model.trigger("go")

    denials = [
        (p["source"], p["reason"])
        for p in payloads(signal_recorder)
        if p["signal"] == "transition_denied"
    ]
    assert denials == [("quiet", "invalid_trigger"), ("silent", "invalid_trigger")]


def test_queued_machine_reports_the_denial_when_the_event_is_processed(
    signal_recorder: SignalRecorder,
) -> None:
    class Queued(SignalingMachine):
        states = ["a", "b", "c"]
        initial = "a"
        queued = True
        ignore_invalid_triggers = True
        transitions = [
            {"trigger": "go", "source": "a", "dest": "b", "after": "then_go_again"},
            {"trigger": "go", "source": "c", "dest": "a"},
        ]

        def then_go_again(self) -> None:
            signal_recorder.mark("queued go")
            # Processed after this transition finished, from state b: invalid.
            self.trigger("go")
            signal_recorder.mark("queued go returned")

    model = Queued()
    model.trigger("go")

    assert [entry[0] for entry in entries(signal_recorder)] == [
        "state_exited",
        "state_entered",
        "queued go",
        "queued go returned",
        "transition_completed",
        "transition_denied",
    ]
    assert payloads(signal_recorder)[-1]["source"] == "b"


def test_may_trigger_checks_send_no_signal(signal_recorder: SignalRecorder) -> None:
    order = Order()

    assert order.may_trigger("pay") is False
    order.funded = True
    assert order.may_trigger("pay") is True
    assert order.may_pay() is True  # type: ignore[attr-defined]
    assert order.may_trigger("ship") is False

    assert entries(signal_recorder) == []
    assert order.state == "pending"


def test_on_denied_receiver_fires_only_for_its_trigger() -> None:
    denied: list[tuple[str, str]] = []

    class Parcel(Order):
        pass

    @Parcel.on_denied("pay")
    def record(parcel: Parcel, **payload: t.Any) -> None:
        denied.append((payload["trigger"], payload["reason"]))

    parcel = Parcel()
    parcel.trigger("pay")
    parcel.state = "shipped"
    with pytest.raises(MachineError):
        parcel.trigger("cancel")
    with pytest.raises(MachineError):
        parcel.trigger("pay")

    assert denied == [("pay", "conditions"), ("pay", "invalid_trigger")]


def test_denied_is_sent_after_finalize_event(signal_recorder: SignalRecorder) -> None:
    class Finalized(SignalingMachine):
        states = ["a", "b"]
        initial = "a"
        transitions = [{"trigger": "go", "source": "a", "dest": "b", "conditions": "never"}]
        finalize_event = "finalized"

        def never(self) -> bool:
            return False

        def finalized(self) -> None:
            signal_recorder.mark("finalize_event")

    Finalized().trigger("go")

    assert [entry[0] for entry in entries(signal_recorder)] == [
        "finalize_event",
        "transition_denied",
    ]


def test_transition_denied_signal_is_exported_on_the_namespace() -> None:
    from statesignals import signals

    assert signals["transition_denied"] is transition_denied


def test_a_callable_guard_that_cannot_take_the_trigger_arguments_names_guard_and_transition() -> (
    None
):
    class Gate(SignalingMachine):
        states = ["shut", "open"]
        initial = "shut"
        transitions = [
            {"trigger": "lift", "source": "shut", "dest": "open", "conditions": lambda self: True}
        ]

    gate = Gate()
    with pytest.raises(GuardCallError) as raised:
        gate.trigger("lift")
    message = str(raised.value)
    assert "Gate" in message and "lift" in message and "shut -> open" in message
    assert "<lambda>" in message and "trigger's arguments" in message
    assert isinstance(raised.value, TypeError)
    assert gate.state == "shut"


def test_a_callable_guard_receives_the_trigger_arguments_and_its_own_errors_pass_through() -> None:
    received: list[tuple[t.Any, ...]] = []

    def enough(amount: int) -> bool:
        received.append((amount,))
        return amount > 10

    def broken(amount: int) -> bool:
        raise TypeError("inside the guard")

    class Till(SignalingMachine):
        states = ["open", "paid"]
        initial = "open"
        transitions = [
            {"trigger": "pay", "source": "open", "dest": "paid", "conditions": enough},
            {"trigger": "fail", "source": "open", "dest": "paid", "conditions": broken},
        ]

    till = Till()
    assert not till.trigger("pay", 5)
    assert till.trigger("pay", amount=20)
    assert received == [(5,), (20,)]
    with pytest.raises(TypeError, match="inside the guard") as raised:
        Till().trigger("fail", 1)
    assert not isinstance(raised.value, GuardCallError)

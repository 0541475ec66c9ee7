"""Recording signals and asserting on them: SignalRecorder and the assert_* helpers."""

from __future__ import annotations

import pytest

from statesignals import MachineError, SignalingMachine, StateSignalsError, Trigger, signals
from statesignals.testing import (
    SignalRecorder,
    assert_denied,
    assert_signals,
    assert_transitioned,
    disconnect_all,
)


class Ticket(SignalingMachine):
    states = ["open", "assigned", "closed"]
    initial = "open"
    auto_transitions = False
    transitions = [
        {"trigger": "assign", "source": "open", "dest": "assigned", "conditions": "has_owner"},
        {"trigger": "close", "source": "assigned", "dest": "closed", "unless": "is_blocked"},
        {"trigger": "note", "source": "*", "dest": None},
        {"trigger": "check", "source": "assigned", "dest": "assigned", "before": "explode"},
    ]
    assign: Trigger
    close: Trigger
    note: Trigger
    check: Trigger

    def __init__(self, owner: str = "", blocked: bool = False) -> None:
        self.owner, self.blocked = owner, blocked

    def __repr__(self) -> str:
        return f"Ticket({self.owner!r})"

    def has_owner(self) -> bool:
        return bool(self.owner)

    def is_blocked(self) -> bool:
        return self.blocked

    def explode(self) -> None:
        raise ValueError("no checker")


def test_a_recorder_sees_every_signal_in_the_order_it_was_sent():
    ticket = Ticket("ann")
    with SignalRecorder() as recorded:
        ticket.assign()
        ticket.note()

    assert [(signal.signal, signal.sender) for signal in recorded.signals] == [
        ("state_exited", ticket),
        ("state_entered", ticket),
        ("transition_completed", ticket),
        ("transition_completed", ticket),
    ]
    assert recorded.signals[2].payload["dest"] == "assigned"


def test_a_stopped_recorder_leaves_no_receiver_behind():
    before = {name: len(signal.receivers) for name, signal in signals.items()}
    with SignalRecorder():
        pass

    assert {name: len(signal.receivers) for name, signal in signals.items()} == before


def test_each_kind_of_signal_reads_as_one_line():
    ticket = Ticket("ann", blocked=True)
    with SignalRecorder() as recorded:
        Ticket().assign()
        ticket.assign()
        ticket.close()
        ticket.note()
        with pytest.raises(MachineError):
            ticket.assign()
        with pytest.raises(ValueError):
            ticket.check()

    assert [str(signal) for signal in recorded.signals] == [
        "transition_denied assign: conditions [has_owner]",
        "state_exited open",
        "state_entered assigned",
        "transition_completed assign: open -> assigned",
        "transition_denied close: conditions [not is_blocked]",
        "transition_completed note: assigned -> assigned (internal)",
        "transition_denied assign: invalid_trigger",
        "transition_failed check: ValueError: no checker",
    ]


def test_assertions_pass_on_what_happened_and_return_the_signal(signal_recorder):
    ticket = Ticket("ann", blocked=True)
    ticket.assign()
    ticket.close()

    completed = assert_transitioned(ticket, "open", "assigned", via="assign")
    denied = assert_denied(ticket, "close", reason="conditions", failed=["not is_blocked"])
    assert_signals(
        [
            "state_exited open",
            "state_entered assigned",
            "transition_completed assign: open -> assigned",
            "transition_denied close: conditions [not is_blocked]",
        ],
        model=ticket,
    )
    assert completed.payload["trigger"] == "assign"
    assert denied.payload["reason"] == "conditions"


def test_assert_transitioned_fails_with_the_recorded_signals(signal_recorder):
    ticket = Ticket("ann")
    ticket.assign()

    with pytest.raises(AssertionError) as failure:
        assert_transitioned(ticket, "open", "closed", via="close")

    assert str(failure.value) == (
        "Ticket('ann') did not transition open -> closed via 'close'\n"
        "recorded signals:\n"
        "  1. Ticket('ann'): state_exited open\n"
        "  2. Ticket('ann'): state_entered assigned\n"
        "  3. Ticket('ann'): transition_completed assign: open -> assigned"
    )


def test_assert_transitioned_looks_only_at_the_given_model(signal_recorder):
    Ticket("ann").assign()

    with pytest.raises(AssertionError, match="did not transition"):
        assert_transitioned(Ticket("bob"), "open", "assigned")


def test_assert_denied_compares_reason_and_failed_guards_exactly(signal_recorder):
    ticket = Ticket()
    ticket.assign()

    with pytest.raises(AssertionError) as failure:
        assert_denied(ticket, "assign", reason="conditions", failed=["is_open"])

    message = str(failure.value)
    assert message.startswith(
        "Ticket('') was not denied 'assign' (reason 'conditions', failed conditions ['is_open'])"
    )
    assert "1. Ticket(''): transition_denied assign: conditions [has_owner]" in message
    with pytest.raises(AssertionError):
        assert_denied(ticket, "assign", reason="invalid_trigger")


def test_assert_signals_names_the_first_difference(signal_recorder):
    Ticket("ann").assign()

    with pytest.raises(AssertionError) as failure:
        assert_signals(["state_exited open", "state_entered closed"])

    assert str(failure.value).startswith(
        "signal 2 differs: expected 'state_entered closed', recorded 'state_entered assigned'"
    )


def test_assert_signals_fails_on_missing_and_extra_signals(signal_recorder):
    Ticket("ann").assign()

    with pytest.raises(AssertionError, match="signal 4 differs: expected 'state_exited assigned'"):
        assert_signals(
            [
                "state_exited open",
                "state_entered assigned",
                "transition_completed assign: open -> assigned",
                "state_exited assigned",
            ]
        )
    with pytest.raises(AssertionError, match="expected '\\(nothing more\\)'"):
        assert_signals(["state_exited open"])


def test_clear_forgets_what_was_recorded(signal_recorder):
    Ticket("ann").assign()
    signal_recorder.clear()

    assert_signals([])


def test_the_assertions_need_an_active_recorder():
    with pytest.raises(StateSignalsError, match="signal_recorder fixture"):
        assert_signals([])


def test_assertions_use_the_innermost_recorder(signal_recorder):
    Ticket("ann").assign()
    with SignalRecorder():
        assert_signals([])
    assert len(signal_recorder.signals) == 3


def test_a_mark_shows_where_signals_fall_relative_to_the_callers_code():
    ticket = Ticket("ann")
    with SignalRecorder() as recorded:
        recorded.mark("before assign")
        ticket.assign()
        recorded.mark("after assign")

    recorded.assert_signals(
        [
            "mark before assign",
            "state_exited open",
            "state_entered assigned",
            "transition_completed assign: open -> assigned",
            "mark after assign",
        ]
    )
    assert [signal.signal for signal in recorded.of(ticket)] == [
        "state_exited",
        "state_entered",
        "transition_completed",
    ]


def test_disconnect_all_stops_recorders_and_per_class_receivers():
    heard: list[str] = []
    Ticket.on_transition("assign")(lambda sender, **payload: heard.append(payload["dest"]))
    recorder = SignalRecorder()
    recorder.start()

    disconnect_all()
    Ticket("ann").assign()

    assert heard == []
    assert recorder.signals == []
    assert all(not signal.receivers for signal in signals.values())

"""The exact sequence of signals, interleaved with transitions' callbacks (design.md §2)."""

from __future__ import annotations

import typing as t

import pytest

from statesignals import (
    SignalingCoreMachine,
    SignalingMachine,
    state_entered,
    state_exited,
    transition_completed,
)
from statesignals.testing import SignalRecorder
from tests.recording import entries, payloads

CALLBACKS = (
    "prepare_event",
    "prepare",
    "condition",
    "before_state_change",
    "before",
    "on_exit_a",
    "on_enter_b",
    "on_exit_b",
    "on_enter_a",
    "on_final",
    "after",
    "after_state_change",
    "finalize_event",
)


class Recorded:
    """A model whose callbacks mark their names in a SignalRecorder."""

    state: str

    def __init__(self, log: SignalRecorder) -> None:
        self.log = log

    def __getattr__(self, name: str) -> t.Any:
        if name not in CALLBACKS:
            raise AttributeError(name)

        def callback(*args: t.Any, **kwargs: t.Any) -> bool:
            self.log.mark(name)
            return True

        return callback


def recorded_machine(model: Recorded, **options: t.Any) -> SignalingCoreMachine:
    return SignalingCoreMachine(
        model=model,
        states=["a", "b", {"name": "z", "final": True}],
        initial="a",
        transitions=[
            {
                "trigger": "go",
                "source": "a",
                "dest": "b",
                "prepare": "prepare",
                "conditions": "condition",
                "before": "before",
                "after": "after",
            },
            {"trigger": "stay", "source": "b", "dest": None, "after": "after"},
            {"trigger": "again", "source": "b", "dest": "="},
            {"trigger": "finish", "source": "b", "dest": "z"},
        ],
        prepare_event="prepare_event",
        before_state_change="before_state_change",
        after_state_change="after_state_change",
        finalize_event="finalize_event",
        on_final="on_final",
        auto_transitions=False,
        **options,
    )


def test_successful_transition_interleaves_signals_with_callbacks(
    signal_recorder: SignalRecorder,
) -> None:
    model = Recorded(signal_recorder)
    machine = recorded_machine(model)
    machine.on_exit_a("on_exit_a")
    machine.on_enter_b("on_enter_b")

    assert model.go() is True

    assert entries(signal_recorder) == [
        ("prepare_event",),
        ("prepare",),
        ("condition",),
        ("before_state_change",),
        ("before",),
        ("on_exit_a",),
        ("state_exited", "go", "a", "b", "a"),
        ("on_enter_b",),
        ("state_entered", "go", "a", "b", "b"),
        ("after",),
        ("after_state_change",),
        ("transition_completed", "go", "a", "b"),
        ("finalize_event",),
    ]


def test_model_is_in_source_at_state_exited_and_in_dest_at_state_entered(
    signal_recorder: SignalRecorder,
) -> None:
    seen: list[str] = []

    class Door(SignalingMachine):
        states = ["closed", "open"]
        initial = "closed"
        transitions = [["open", "closed", "open"]]

    def on_exited(door: Door, **payload: t.Any) -> None:
        seen.append(door.state)

    state_exited.connect(on_exited)
    state_entered.connect(on_exited)
    Door().trigger("open")

    assert seen == ["closed", "open"]


def test_internal_transition_sends_only_transition_completed(
    signal_recorder: SignalRecorder,
) -> None:
    model = Recorded(signal_recorder)
    recorded_machine(model)
    model.state = "b"

    assert model.stay() is True

    assert entries(signal_recorder, marks=False) == [("transition_completed", "stay", "b", "b")]
    assert payloads(signal_recorder)[-1]["internal"] is True


def test_reflexive_transition_sends_exit_then_enter_of_the_same_state(
    signal_recorder: SignalRecorder,
) -> None:
    model = Recorded(signal_recorder)
    recorded_machine(model)
    model.state = "b"

    model.again()

    assert entries(signal_recorder, marks=False) == [
        ("state_exited", "again", "b", "b", "b"),
        ("state_entered", "again", "b", "b", "b"),
        ("transition_completed", "again", "b", "b"),
    ]
    assert payloads(signal_recorder)[-1]["internal"] is False


def test_final_state_callbacks_run_after_state_entered(signal_recorder: SignalRecorder) -> None:
    model = Recorded(signal_recorder)
    recorded_machine(model)
    model.state = "b"

    model.finish()

    names = [entry[0] for entry in entries(signal_recorder)]
    assert names == [
        "prepare_event",
        "before_state_change",
        "state_exited",
        "state_entered",
        "on_final",
        "after_state_change",
        "transition_completed",
        "finalize_event",
    ]


def test_payload_carries_trigger_states_machine_and_event_data(
    signal_recorder: SignalRecorder,
) -> None:
    class Ticket(SignalingMachine):
        states = ["open", "closed"]
        initial = "open"
        transitions = [["close", "open", "closed"]]

    ticket = Ticket()
    ticket.trigger("close", "duplicate", by="alice")

    completed = payloads(signal_recorder)[-1]
    assert completed["signal"] == "transition_completed"
    assert completed["sender"] is ticket
    assert "model" not in completed  # the sender is the model
    assert completed["machine"] is Ticket.machine
    assert (completed["trigger"], completed["source"], completed["dest"]) == (
        "close",
        "open",
        "closed",
    )
    assert completed["event_data"].args == ("duplicate",)
    assert completed["event_data"].kwargs == {"by": "alice"}


def test_wildcard_source_sends_the_actual_source(signal_recorder: SignalRecorder) -> None:
    class Job(SignalingMachine):
        states = ["queued", "running", "failed"]
        initial = "queued"
        transitions = [["start", "queued", "running"], ["fail", "*", "failed"]]

    job = Job()
    job.trigger("start")
    job.trigger("fail")

    assert entries(signal_recorder, marks=False)[-3:] == [
        ("state_exited", "fail", "running", "failed", "running"),
        ("state_entered", "fail", "running", "failed", "failed"),
        ("transition_completed", "fail", "running", "failed"),
    ]


@pytest.mark.parametrize("send_event", [False, True])
def test_signals_do_not_depend_on_send_event(
    signal_recorder: SignalRecorder, send_event: bool
) -> None:
    model = Recorded(signal_recorder)
    recorded_machine(model, send_event=send_event)

    model.go()

    assert entries(signal_recorder, marks=False) == [
        ("state_exited", "go", "a", "b", "a"),
        ("state_entered", "go", "a", "b", "b"),
        ("transition_completed", "go", "a", "b"),
    ]


def test_a_receiver_may_name_its_first_parameter_model() -> None:
    class Ticket(SignalingMachine):
        states = ["open", "closed"]
        initial = "open"
        transitions = [["close", "open", "closed"]]

    seen: list[object] = []

    def receiver(model: object, **payload: t.Any) -> None:
        seen.append(model)

    transition_completed.connect(receiver)
    ticket = Ticket()
    ticket.trigger("close")
    assert seen == [ticket]

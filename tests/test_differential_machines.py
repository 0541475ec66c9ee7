"""Random trigger sequences, with arguments and failing callbacks, against raw transitions.

The same workflow, callbacks and trigger sequence run on a plain ``transitions``
machine, on a :class:`~statesignals.SignalingMachine` model and on a
:class:`~statesignals.SignalingCoreMachine`; and on ``transitions``' ``AsyncMachine``
against an async declared model and a :class:`~statesignals.SignalingAsyncMachine`.
Return values, exceptions, states and the order of every callback must be
identical; the signals must appear in that order exactly where the design puts them.
"""

from __future__ import annotations

import asyncio
import typing as t

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from transitions import Machine, MachineError
from transitions.extensions.asyncio import AsyncMachine

from statesignals import (
    SignalingAsyncMachine,
    SignalingCoreMachine,
    SignalingMachine,
    state_entered,
    state_exited,
    transition_completed,
    transition_denied,
    transition_failed,
)

STATES = ["a", "b", "c"]
TRANSITIONS: list[dict[str, t.Any]] = [
    {"trigger": "advance", "source": "a", "dest": "b", "before": "log_before"},
    {"trigger": "advance", "source": "b", "dest": "c", "conditions": "allowed"},
    {"trigger": "retreat", "source": ["b", "c"], "dest": "a", "unless": "blocked"},
    {"trigger": "hold", "source": "b", "dest": None, "after": "log_after"},
    {"trigger": "again", "source": ["a", "c"], "dest": "=", "prepare": "log_prepare"},
    {"trigger": "reset", "source": "*", "dest": "a"},
    {"trigger": "explode", "source": "c", "dest": "a", "before": "raise_error"},
]
OPTIONS: dict[str, t.Any] = {
    "prepare_event": "log_prepare_event",
    "before_state_change": "log_before_state_change",
    "after_state_change": "log_after_state_change",
    "finalize_event": "log_finalize_event",
}
TRIGGERS = ["advance", "retreat", "hold", "again", "reset", "explode", "to_c"]


class Recorder:
    """Logs every callback a machine calls on it."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.permitted = True
        self.stopped = False

    def allowed(self, *args: t.Any, **kwargs: t.Any) -> bool:
        self.log.append(f"allowed {args} {kwargs}")
        return self.permitted

    def blocked(self, *args: t.Any, **kwargs: t.Any) -> bool:
        self.log.append("blocked")
        return self.stopped

    def raise_error(self, *args: t.Any, **kwargs: t.Any) -> None:
        self.log.append("raise_error")
        raise RuntimeError("before callback failed")


def logging_callback(name: str) -> t.Callable[[Recorder], None]:
    def callback(self: Recorder, *args: t.Any, **kwargs: t.Any) -> None:
        self.log.append(f"{name} {args} {kwargs}" if args or kwargs else name)

    callback.__name__ = name
    return callback


LOGGED = [f"{kind}_{state}" for kind in ("on_enter", "on_exit") for state in STATES] + [
    "log_before",
    "log_after",
    "log_prepare",
    *OPTIONS.values(),
]
for _name in LOGGED:
    setattr(Recorder, _name, logging_callback(_name))


class SignaledRecorder(Recorder, SignalingMachine):
    states = STATES
    initial = "a"
    transitions = TRANSITIONS
    prepare_event = OPTIONS["prepare_event"]
    before_state_change = OPTIONS["before_state_change"]
    after_state_change = OPTIONS["after_state_change"]
    finalize_event = OPTIONS["finalize_event"]


class SignaledAsyncRecorder(SignaledRecorder):
    machine_cls = SignalingAsyncMachine


def with_machine(machine_cls: type[Machine], named: type = SignaledRecorder) -> Recorder:
    model = Recorder()
    # SignalingMachine names its machine after the model class: messages say it.
    machine_cls(
        model=model,
        states=STATES,
        transitions=TRANSITIONS,
        initial="a",
        name=named.__qualname__,
        **OPTIONS,
    )
    return model


def record(sender: Recorder, **payload: t.Any) -> None:
    signal = payload["signal_name"]
    detail = payload.get("state") or payload.get("reason") or payload["trigger"]
    if payload.get("failed_conditions"):
        detail = f"{detail} {payload['failed_conditions']}"
    sender.log.append(f"signal {signal} {detail}")


def recorder_for(signal_name: str) -> t.Callable[..., None]:
    def receiver(sender: Recorder, **payload: t.Any) -> None:
        record(sender, signal_name=signal_name, **payload)

    return receiver


@pytest.fixture(autouse=True)
def signals_recorded() -> t.Iterator[None]:
    receivers = []
    for signal in (state_exited, state_entered, transition_completed, transition_denied):
        receiver = recorder_for(signal.name)
        signal.connect(receiver, weak=False)
        receivers.append(receiver)
    failed = recorder_for("transition_failed")
    transition_failed.connect(failed, weak=False)
    yield


Step = tuple[str, bool, bool, tuple[t.Any, ...], dict[str, t.Any]]
"""Trigger name, guard answers (allowed, blocked), and the trigger's arguments."""


def run(model: Recorder, steps: list[Step], awaited: bool = False) -> list[t.Any]:
    outcomes: list[t.Any] = []
    for trigger, permitted, stopped, args, kwargs in steps:
        model.permitted, model.stopped = permitted, stopped
        try:
            # The trigger method on the model, as users call it.
            returned = getattr(model, trigger)(*args, **kwargs)
            if awaited:
                returned = asyncio.run(returned)
            outcomes.append(("returned", returned, model.state))  # type: ignore[attr-defined]
        except (MachineError, RuntimeError) as error:
            outcomes.append(("raised", type(error).__name__, str(error), model.state))  # type: ignore[attr-defined]
        model.log.append("|")
    return outcomes


def expected_signals(log: list[str], outcomes: list[t.Any]) -> list[str]:
    """The raw log with each signal placed where the design says it is sent."""
    expected: list[str] = []
    steps = iter(outcomes)
    step_log: list[str] = []
    for entry in log:
        if entry != "|":
            step_log.append(entry)
            continue
        outcome = next(steps)
        for item in step_log:
            expected.append(item)
            callback = item.split()[0]
            if callback.startswith("on_exit_"):
                expected.append(f"signal state_exited {callback.removeprefix('on_exit_')}")
            elif callback.startswith("on_enter_"):
                expected.append(f"signal state_entered {callback.removeprefix('on_enter_')}")
            elif callback == "log_after_state_change":
                expected.append(f"signal transition_completed {outcome_trigger(step_log)}")
        if outcome[0] == "raised" and outcome[1] == "MachineError":
            expected.append("signal transition_denied invalid_trigger")
        elif outcome[0] == "raised":
            expected.append(f"signal transition_failed {outcome_trigger(step_log)}")
        elif outcome[1] is False:
            refusing = refused_guard(step_log)
            expected.append(f"signal transition_denied conditions {refusing}")
        expected.append("|")
        step_log = []
    return expected


def refused_guard(step_log: list[str]) -> list[str]:
    """The label of the guard that refused: the last one called."""
    guard = [item.split()[0] for item in step_log if item.startswith(("allowed", "blocked"))][-1]
    return ["allowed"] if guard == "allowed" else ["not blocked"]


def outcome_trigger(step_log: list[str]) -> str:
    return step_log[0].removeprefix("trigger ")


def signal_free(log: list[str]) -> list[str]:
    return [entry for entry in log if not entry.startswith("signal ")]


steps_strategy = st.lists(
    st.tuples(
        st.sampled_from(TRIGGERS),
        st.booleans(),
        st.booleans(),
        st.sampled_from([(), (7,), ("x", 2)]),
        st.sampled_from([{}, {"amount": 3}]),
    ),
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(steps=steps_strategy)
def test_signaling_models_behave_as_raw_transitions_and_signal_in_order(
    steps: list[Step],
) -> None:
    raw = with_machine(Machine)
    raw_outcomes = run_logged(raw, steps)
    for model in (SignaledRecorder(), with_machine(SignalingCoreMachine)):
        outcomes = run_logged(model, steps)
        assert outcomes == raw_outcomes
        assert signal_free(model.log) == raw.log
        assert model.log == expected_signals(raw.log, raw_outcomes)


@settings(max_examples=100, deadline=None)
@given(steps=steps_strategy)
def test_async_signaling_models_behave_as_raw_async_transitions_and_signal_in_order(
    steps: list[Step],
) -> None:
    raw = with_machine(AsyncMachine, SignaledAsyncRecorder)
    raw_outcomes = run_logged(raw, steps, awaited=True)
    signaling = with_machine(SignalingAsyncMachine, SignaledAsyncRecorder)
    for model in (SignaledAsyncRecorder(), signaling):
        outcomes = run_logged(model, steps, awaited=True)
        assert outcomes == raw_outcomes
        assert signal_free(model.log) == raw.log
        assert model.log == expected_signals(raw.log, raw_outcomes)


def run_logged(model: Recorder, steps: list[Step], awaited: bool = False) -> list[t.Any]:
    """Like :func:`run`, with each step's log opened by the trigger's name."""
    outcomes: list[t.Any] = []
    for step in steps:
        model.log.append(f"trigger {step[0]}")
        outcomes.extend(run(model, [step], awaited))
    return outcomes

"""Random trigger sequences: a SignalingMachine model behaves exactly like a plain one.

Hypothesis drives the same triggers and guard inputs through a model of a
``SignalingMachine`` class and a model of a plain ``transitions.Machine`` with the
same workflow, and checks after every step that both are in the same state,
returned the same value or raised the same error, called the same callbacks in
the same order, and that the signals sit exactly where the callbacks say they
belong.
"""

from __future__ import annotations

import typing as t

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from transitions import Machine

from statesignals import SignalingMachine, signals
from statesignals.testing import disconnect_all

STATES: list[t.Any] = [
    {"name": "idle", "on_enter": "log_enter", "on_exit": "log_exit"},
    {"name": "running", "on_enter": "log_enter", "on_exit": "log_exit"},
    {"name": "paused", "on_enter": "log_enter", "on_exit": "log_exit"},
    {"name": "done", "on_enter": "log_enter", "on_exit": "log_exit", "final": True},
]
TRANSITIONS: list[dict[str, t.Any]] = [
    {"trigger": "start", "source": "idle", "dest": "running", "conditions": "guard_a"},
    {"trigger": "pause", "source": "running", "dest": "paused", "unless": "guard_b"},
    {"trigger": "resume", "source": "paused", "dest": "running"},
    {"trigger": "tick", "source": "running", "dest": None},
    {"trigger": "refresh", "source": ["running", "paused"], "dest": "="},
    {"trigger": "finish", "source": "running", "dest": "done", "conditions": "guard_a"},
    {"trigger": "finish", "source": "running", "dest": "done", "conditions": "guard_b"},
    {"trigger": "reset", "source": "*", "dest": "idle", "unless": "guard_b"},
]
TRIGGERS = ["start", "pause", "resume", "tick", "refresh", "finish", "reset", "to_done", "to_idle"]


class Behaviour:
    """Guards and logging callbacks shared by both models."""

    def __init__(self) -> None:
        self.a = False
        self.b = False
        self.log: list[tuple[str, ...]] = []

    def guard_a(self, event: t.Any) -> bool:
        self.log.append(("guard_a",))
        return self.a

    def guard_b(self, event: t.Any) -> bool:
        self.log.append(("guard_b",))
        return self.b

    def log_enter(self, event: t.Any) -> None:
        self.log.append(("enter", event.state.name))

    def log_exit(self, event: t.Any) -> None:
        self.log.append(("exit", event.state.name))

    def log_after(self, event: t.Any) -> None:
        self.log.append(("after_state_change", event.event.name))

    def log_finalize(self, event: t.Any) -> None:
        self.log.append(("finalize_event", event.event.name))


MACHINE_OPTIONS: dict[str, t.Any] = {
    "send_event": True,
    "after_state_change": "log_after",
    "finalize_event": "log_finalize",
}


class DiffWorkflow(Behaviour, SignalingMachine):
    states = STATES
    initial = "idle"
    transitions = TRANSITIONS
    send_event = True
    after_state_change = "log_after"
    finalize_event = "log_finalize"


class PlainModel(Behaviour):
    pass


def expected_with_signals(
    callbacks: list[tuple[str, ...]], outcome: tuple[str, t.Any], trigger: str
) -> list[tuple[str, ...]]:
    """Where each signal belongs, derived from the plain model's callback log."""
    expected: list[tuple[str, ...]] = []
    for entry in callbacks:
        if entry[0] == "finalize_event" and outcome == ("returned", True):
            expected.append(("transition_completed", trigger))
        expected.append(entry)
        if entry[0] == "exit":
            expected.append(("state_exited", entry[1]))
        elif entry[0] == "enter":
            expected.append(("state_entered", entry[1]))
    if outcome == ("returned", False):
        expected.append(("transition_denied", trigger, "conditions"))
    elif outcome[0] == "raised":
        expected.append(("transition_denied", trigger, "invalid_trigger"))
    return expected


class SideBySide(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.signaling = DiffWorkflow()
        self.plain = PlainModel()
        Machine(
            model=self.plain,
            states=[dict(state) for state in STATES],
            initial="idle",
            transitions=[dict(transition) for transition in TRANSITIONS],
            name="DiffWorkflow",
            **MACHINE_OPTIONS,
        )
        for name, signal in signals.items():
            signal.connect(self.recorder(name), sender=self.signaling, weak=False)

    def recorder(self, name: str) -> t.Callable[..., None]:
        def record(sender: DiffWorkflow, **payload: t.Any) -> None:
            if name in ("state_exited", "state_entered"):
                sender.log.append((name, payload["state"]))
            elif name == "transition_denied":
                sender.log.append((name, payload["trigger"], payload["reason"]))
            else:
                sender.log.append((name, payload["trigger"]))

        return record

    def teardown(self) -> None:
        disconnect_all()

    @staticmethod
    def outcome(model: t.Any, trigger: str) -> tuple[str, t.Any]:
        try:
            return "returned", model.trigger(trigger)
        except Exception as error:
            return "raised", (type(error), str(error))

    @rule(a=st.booleans(), b=st.booleans())
    def set_guards(self, a: bool, b: bool) -> None:
        for model in (self.signaling, self.plain):
            model.a, model.b = a, b

    @rule(trigger=st.sampled_from(TRIGGERS))
    def fire(self, trigger: str) -> None:
        self.signaling.log.clear()
        self.plain.log.clear()

        signaling_outcome = self.outcome(self.signaling, trigger)
        plain_outcome = self.outcome(self.plain, trigger)

        assert signaling_outcome == plain_outcome
        assert self.signaling.log == expected_with_signals(self.plain.log, plain_outcome, trigger)

    @invariant()
    def same_state(self) -> None:
        assert self.signaling.state == self.plain.state  # type: ignore[attr-defined]


SideBySide.TestCase.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
test_signaling_model_matches_plain_transitions = SideBySide.TestCase

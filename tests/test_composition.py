"""The signaling classes compose with custom transitions classes and subclasses.

Each signaling method calls the method the wrapped class's MRO would give
``super()``, so the behaviour of a custom State, Event or Machine class runs as
it would without statesignals, before the signal.
"""

from __future__ import annotations

import typing as t

from transitions import Machine
from transitions.core import Event, EventData, State

from statesignals import SignalingCoreMachine, SignalingMixin, state_entered, state_exited
from statesignals.bridge.core import SignalingEvent, SignalingState

STATES = ["idle", "busy"]
TRANSITIONS = [{"trigger": "go", "source": "idle", "dest": "busy"}]

log: list[str] = []


class AnnouncingState(State):
    def enter(self, event_data: EventData) -> None:
        log.append(f"announced entering {self.name}")
        super().enter(event_data)

    def exit(self, event_data: EventData) -> None:
        log.append(f"announced leaving {self.name}")
        super().exit(event_data)


class CountingEvent(Event):
    def _trigger(self, event_data: EventData) -> bool:
        log.append(f"counted {self.name}")
        return bool(super()._trigger(event_data))


def log_signal(sender: object, **payload: t.Any) -> None:
    log.append(f"signal {payload['state']}")


def run_go(machine_cls: type[Machine]) -> list[str]:
    log.clear()
    model = type("Model", (), {})()
    machine_cls(model=model, states=STATES, transitions=TRANSITIONS, initial="idle")
    state_entered.connect(log_signal)
    state_exited.connect(log_signal)
    model.go()
    return list(log)


def test_custom_state_and_event_classes_run_before_the_signals() -> None:
    class AnnouncingMachine(SignalingMixin, Machine):
        state_cls = AnnouncingState
        event_cls = CountingEvent

    assert run_go(AnnouncingMachine) == [
        "counted go",
        "announced leaving idle",
        "signal idle",
        "announced entering busy",
        "signal busy",
    ]


def test_signaling_state_subclass_with_its_own_base_calls_that_base() -> None:
    class LoudState(SignalingState, AnnouncingState):
        pass

    class LoudMachine(SignalingMixin, Machine):
        state_cls = LoudState

    assert LoudMachine.state_cls is LoudState
    assert run_go(LoudMachine) == [
        "announced leaving idle",
        "signal idle",
        "announced entering busy",
        "signal busy",
    ]


def test_overriding_a_signaling_method_and_calling_super_keeps_the_signal() -> None:
    class TracingState(SignalingState):
        def enter(self, event_data: EventData) -> None:
            log.append(f"tracing {self.name}")
            super().enter(event_data)

    class TracingEvent(SignalingEvent):
        def _trigger(self, event_data: EventData) -> bool:
            log.append("tracing trigger")
            return super()._trigger(event_data)

    class TracingMachine(SignalingCoreMachine):
        state_cls = TracingState
        event_cls = TracingEvent

    assert run_go(TracingMachine) == [
        "tracing trigger",
        "signal idle",
        "tracing busy",
        "signal busy",
    ]


def test_machine_subclass_overriding_process_still_processes_through_it() -> None:
    class AuditedMachine(SignalingCoreMachine):
        def _process(self, trigger: t.Callable[[], bool]) -> bool:
            log.append("audited")
            return super()._process(trigger)

    assert run_go(AuditedMachine) == ["audited", "signal idle", "signal busy"]

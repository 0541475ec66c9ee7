"""Per-class receivers under threads and churn: no broken trigger, no missed signal, no leak.

The thread tests switch threads as often as CPython allows (``sys.setswitchinterval``)
so that the races they look for happen within a few thousand rounds; each stops at
the first failure it sees.
"""

from __future__ import annotations

import collections.abc as c
import contextlib
import gc
import sys
import threading
import typing as t
import weakref

import pytest

from statesignals import (
    SignalingCoreMachine,
    SignalingLockedMachine,
    SignalingMachine,
    Trigger,
)
from statesignals.dispatch import WorkflowSignal

MACHINES = [SignalingCoreMachine, SignalingLockedMachine]
STATES = 150


@contextlib.contextmanager
def switching_threads_constantly() -> c.Iterator[None]:
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)


class Triggering:
    """Threads that fire ``trigger`` on instances of their own until stopped."""

    def __init__(self, make: c.Callable[[], t.Any], trigger: str, threads: int = 2) -> None:
        self.make = make
        self.trigger = trigger
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.fired = 0
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(threads)]

    def run(self) -> None:
        model = self.make()
        while not self.stop.is_set():
            try:
                if not getattr(model, self.trigger)():
                    raise AssertionError(f"{self.trigger}() returned False")
            except BaseException as error:
                self.errors.append(error)
                return
            self.fired += 1

    def __enter__(self) -> Triggering:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()


def wide_workflow(machine: type) -> type[SignalingMachine]:
    """A fresh workflow class with many states, each a name to connect a route to."""

    class Wide(SignalingMachine):
        machine_cls = machine
        states = [f"s{index}" for index in range(STATES)]
        initial = "s0"
        auto_transitions = False
        transitions = [{"trigger": "stay", "source": "s0", "dest": "="}]

    return Wide


def ignore(sender: object, **payload: t.Any) -> None:
    pass


@pytest.mark.parametrize("machine_cls", MACHINES, ids=lambda cls: cls.__name__)
def test_connecting_per_class_receivers_while_threads_trigger_never_breaks_a_trigger(
    machine_cls: type,
) -> None:
    with switching_threads_constantly():
        for _ in range(10):
            workflow = wide_workflow(machine_cls)
            # A receiver on the transition the threads take: every trigger reads the routes.
            workflow.on_transition("stay")(ignore)
            with Triggering(workflow, "stay") as triggering:
                # Each new route changes the class's routes while the threads read them.
                for index in range(1, STATES):
                    workflow.on_enter(f"s{index}")(ignore)
                    workflow.on_exit(f"s{index}")(ignore)
                    if triggering.errors:
                        break
            assert triggering.errors == []
            assert triggering.fired > 0


class Door(SignalingMachine):
    # Many states with receivers: deciding whether the class listens takes a while.
    states = ["shut", *(f"s{index}" for index in range(STATES))]
    initial = "shut"
    auto_transitions = False
    transitions = [{"trigger": "knock", "source": "shut", "dest": None}]

    knock: Trigger


class LockedDoor(Door):
    machine_cls = SignalingLockedMachine


@pytest.mark.parametrize("door_class", [Door, LockedDoor], ids=lambda cls: cls.__name__)
def test_a_per_class_receiver_connected_before_a_trigger_always_hears_it(
    door_class: type[Door],
) -> None:
    for index in range(STATES):
        door_class.on_enter(f"s{index}")(ignore)
    missed = 0
    rounds = 0
    triggering = Triggering(door_class, "knock", threads=3)
    with switching_threads_constantly(), triggering:
        for rounds in range(1, 1_001):  # noqa: B007 (reported below)
            heard: list[object] = []

            def receiver(sender: object, **payload: t.Any) -> None:
                heard.append(sender)  # noqa: B023 (the receiver of this round only)

            door_class.on_transition("knock")(receiver)
            mine = door_class()
            mine.knock()
            door_class.disconnect(receiver)
            if not any(model is mine for model in heard):
                missed += 1
                break

    assert triggering.errors == []
    assert missed == 0, f"the receiver missed a trigger in round {rounds}"


def dynamic_workflow(name: str) -> type[SignalingMachine]:
    namespace = {
        "states": ["a", "b"],
        "initial": "a",
        "auto_transitions": False,
        "transitions": [["go", "a", "b"]],
    }
    return t.cast(type[SignalingMachine], type(name, (SignalingMachine,), namespace))


def test_ten_thousand_dynamic_workflow_classes_leave_nothing_behind() -> None:
    anchor = dynamic_workflow("Anchor")
    anchor.on_transition("go")(ignore)  # a per-class receiver exists somewhere
    connected_before = set(WorkflowSignal.connected)
    refs: list[weakref.ref[type]] = []
    for index in range(10_000):
        workflow = dynamic_workflow(f"Dynamic{index}")
        if index % 2:
            workflow.on_transition("go")(ignore)
            workflow.on_enter("b")(ignore)
        if index % 4 == 1:
            workflow.disconnect(ignore)
        t.cast(t.Any, workflow()).go()
        refs.append(weakref.ref(workflow))
    del workflow
    gc.collect()

    assert sum(ref() is not None for ref in refs) == 0
    assert set(WorkflowSignal.connected) == connected_before
    t.cast(t.Any, anchor()).go()  # the surviving class still routes


@pytest.mark.parametrize("door_class", [Door, LockedDoor], ids=lambda cls: cls.__name__)
def test_routes_coming_and_going_elsewhere_never_deafen_a_connected_one(
    door_class: type[Door],
) -> None:
    heard: list[object] = []

    def receiver(sender: object, **payload: t.Any) -> None:
        heard.append(sender)

    door_class.on_transition("knock")(receiver)
    elsewhere = dynamic_workflow("Elsewhere")
    stop = threading.Event()

    def churn() -> None:
        # The same signal routed on another class, its only receiver coming and going.
        while not stop.is_set():
            elsewhere.on_transition("go")(ignore)
            elsewhere.disconnect(ignore)

    churning = threading.Thread(target=churn, daemon=True)
    door = door_class()
    rounds = 0
    with switching_threads_constantly():
        churning.start()
        try:
            for rounds in range(1, 5_001):
                door.knock()
                if len(heard) < rounds:
                    break
        finally:
            stop.set()
            churning.join()
    door_class.disconnect(receiver)

    assert len(heard) == rounds, f"the receiver missed the trigger of round {rounds}"


def test_once_every_per_class_receiver_is_gone_triggers_skip_the_routes() -> None:
    from statesignals.routes import routed

    workflow = dynamic_workflow("Quiet")
    heard: list[object] = []

    def receiver(sender: object, **payload: t.Any) -> None:
        heard.append(sender)

    assert "transition_completed" not in routed
    workflow.on_transition("go")(receiver)
    workflow.on_enter("b")(receiver)
    assert {"transition_completed", "state_entered"} <= routed
    workflow.disconnect(receiver)
    # Routes were declared and stay, but no trigger anywhere asks about them.
    assert "transition_completed" not in routed and "state_entered" not in routed

    workflow.on_transition("go")(receiver)
    model = t.cast(t.Any, workflow())
    model.go()
    workflow.disconnect(receiver)
    assert heard == [model]

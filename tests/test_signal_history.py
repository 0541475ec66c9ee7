"""For each model, the state signals form a consistent history (docs/signals.md).

Random workflows with guards, triggers fired from ``on_enter`` callbacks, raising
callbacks and (for async machines) triggers cancelled while an ``on_enter`` awaits.
Whatever happens, a receiver that follows the signals of one model knows where it is:

* every ``state_exited(X)`` follows a ``state_entered(X)``, or X was the initial state;
* a parent is entered before its children and left after them;
* each trigger's outcome signal comes after the state signals it sent;
* the states entered and not left are the model's actual state.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
import typing as t
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from statesignals import (
    MachineError,
    SignalingAsyncMachine,
    SignalingCoreMachine,
    SignalingHierarchicalAsyncMachine,
    SignalingHierarchicalMachine,
    SignalingLockedMachine,
)
from statesignals.testing import SignalRecorder
from tests.recording import recording, sent

TRIGGERS = ("t0", "t1", "t2")
OUTCOMES = ("transition_completed", "transition_denied", "transition_failed")
SEPARATOR = "_"
REENTRY_BUDGET = 3


class Boom(Exception):
    """Raised by the callbacks the workflow marks as raising."""


@dataclass
class Workflow:
    states: list[t.Any]
    names: list[str]
    transitions: list[dict[str, t.Any]]
    reentry: dict[str, str]
    raising: set[tuple[str, str]]
    blocking: set[str]
    steps: list[str]


@st.composite
def workflows(draw: st.DrawFn, nested: bool = False, asynchronous: bool = False) -> Workflow:
    top = [f"s{i}" for i in range(draw(st.integers(2, 4)))]
    states: list[t.Any] = list(top)
    names = list(top)
    if nested:
        for index in range(draw(st.integers(1, len(top) - 1))):
            children = [f"c{j}" for j in range(draw(st.integers(1, 3)))]
            states[index] = {"name": top[index], "children": children, "initial": children[0]}
            names += [f"{top[index]}{SEPARATOR}{child}" for child in children]
    transition: st.SearchStrategy[dict[str, t.Any]] = st.builds(
        dict,
        trigger=st.sampled_from(TRIGGERS),
        source=st.sampled_from(names),
        dest=st.sampled_from(names),
        allowed=st.booleans(),
    )
    transitions: list[dict[str, t.Any]] = draw(st.lists(transition, min_size=1, max_size=8))
    # The declared triggers and the auto transitions (to_<state>), which have no guard.
    declared = sorted({str(spec["trigger"]) for spec in transitions})
    triggers = st.sampled_from(declared + [f"to_{name}" for name in names])
    return Workflow(
        states=states,
        names=names,
        transitions=transitions,
        reentry=draw(st.dictionaries(st.sampled_from(names), triggers, max_size=3)),
        raising=draw(st.sets(st.tuples(st.just("enter"), st.sampled_from(names)), max_size=2))
        | draw(st.sets(st.tuples(st.just("exit"), st.sampled_from(names)), max_size=1)),
        blocking=draw(st.sets(st.sampled_from(names), max_size=2)) if asynchronous else set(),
        steps=draw(st.lists(triggers, min_size=1, max_size=6)),
    )


@dataclass
class Model:
    state: t.Any = None
    budget: int = REENTRY_BUDGET
    blocked: int = 0
    """How many on_enter callbacks wait to be cancelled."""


def build(machine_cls: type[t.Any], workflow: Workflow) -> tuple[Model, t.Any]:
    model = Model()
    machine = machine_cls(
        model,
        states=workflow.states,
        initial=workflow.names[0]
        if workflow.names[0] in workflow.states
        else workflow.states[0]["name"],
        transitions=[
            {
                "trigger": spec["trigger"],
                "source": spec["source"],
                "dest": spec["dest"],
                "conditions": (lambda allowed=spec["allowed"]: allowed),
            }
            for spec in workflow.transitions
        ],
    )
    asynchronous = machine_cls in (SignalingAsyncMachine, SignalingHierarchicalAsyncMachine)
    for name in workflow.names:
        state = machine.get_state(name)
        if ("exit", name) in workflow.raising:
            state.add_callback("exit", _raise)
        if asynchronous:
            state.add_callback("enter", _async_enter(model, workflow, name))
        else:
            state.add_callback("enter", _enter(model, workflow, name))
    return model, machine


def _raise() -> None:
    raise Boom()


def _enter(model: Model, workflow: Workflow, name: str) -> t.Callable[[], None]:
    def enter() -> None:
        if ("enter", name) in workflow.raising:
            raise Boom()
        trigger = workflow.reentry.get(name)
        if trigger is not None and model.budget > 0:
            model.budget -= 1
            with contextlib.suppress(MachineError):
                getattr(model, trigger)()

    return enter


def _async_enter(model: Model, workflow: Workflow, name: str) -> t.Callable[[], t.Awaitable[None]]:
    async def enter() -> None:
        if ("enter", name) in workflow.raising:
            raise Boom()
        if name in workflow.blocking:
            model.blocked += 1
            await asyncio.Event().wait()  # until a newer trigger (or the test) cancels it
        trigger = workflow.reentry.get(name)
        if trigger is not None and model.budget > 0:
            model.budget -= 1
            with contextlib.suppress(MachineError):
                await getattr(model, trigger)()

    return enter


def drive(model: Model, workflow: Workflow) -> None:
    for trigger in workflow.steps:
        model.budget = REENTRY_BUDGET
        # Boom, MachineError, and what transitions raises for a trigger it cannot run
        # there (a nested trigger fired while a child's scope is entered, say).
        with contextlib.suppress(Exception):
            getattr(model, trigger)()


async def drive_async(model: Model, workflow: Workflow) -> None:
    tasks = []
    for trigger in workflow.steps:
        model.budget = REENTRY_BUDGET
        blocked = model.blocked
        task = asyncio.ensure_future(getattr(model, trigger)())
        tasks.append(task)
        for _ in range(1000):
            if task.done() or model.blocked > blocked:
                break
            await asyncio.sleep(0)
        else:
            raise AssertionError(f"{trigger} neither returned nor waits in a blocking on_enter")
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def configuration(value: str) -> set[str]:
    """A state and its ancestors."""
    parts = value.split(SEPARATOR)
    return {SEPARATOR.join(parts[: depth + 1]) for depth in range(len(parts))}


def assert_consistent_history(log: SignalRecorder, model: Model, initial: str) -> None:
    active = configuration(initial)
    outcome_at: dict[int, int] = {}
    state_signals: list[tuple[int, int]] = []
    own = [(name, payload) for name, sender, payload in sent(log) if sender is model]
    told = [(name, payload.get("state", payload["trigger"])) for name, payload in own]
    for index, (name, payload) in enumerate(own):
        event = id(payload["event_data"])
        if name in OUTCOMES:
            assert event not in outcome_at, f"{index}: a second outcome for one trigger"
            outcome_at[event] = index
            continue
        state = payload["state"]
        parent = state.rpartition(SEPARATOR)[0]
        state_signals.append((index, event))
        if name == "state_entered":
            assert state not in active, f"{index}: {state} entered twice in {told}"
            assert not parent or parent in active, f"{index}: {state} entered before {parent}"
            active.add(state)
        else:
            assert state in active, f"{index}: {state} left but never entered in {told}"
            children = {s for s in active if s.startswith(state + SEPARATOR)}
            assert not children, f"{index}: {state} left before {children}"
            active.discard(state)
    for index, event in state_signals:
        assert outcome_at.get(event, len(own)) > index, f"{index}: sent after its outcome"
    assert active == configuration(model.state), f"{told} ends in {active}, not {model.state}"


EXAMPLES = settings(max_examples=60, deadline=None)


def check_sync(machine_cls: type[t.Any], workflow: Workflow) -> None:
    log = recording()
    try:
        model, _ = build(machine_cls, workflow)
        initial = model.state
        drive(model, workflow)
    finally:
        log.stop()
    assert_consistent_history(log, model, initial)


def check_async(machine_cls: type[t.Any], workflow: Workflow) -> None:
    log = recording()
    try:
        model, _ = build(machine_cls, workflow)
        initial = model.state
        asyncio.run(drive_async(model, workflow))
    finally:
        log.stop()
    assert_consistent_history(log, model, initial)


@EXAMPLES
@given(workflows())
def test_core_machine_signals_a_consistent_history(workflow: Workflow) -> None:
    check_sync(SignalingCoreMachine, workflow)


@EXAMPLES
@given(workflows())
def test_locked_machine_signals_a_consistent_history(workflow: Workflow) -> None:
    check_sync(SignalingLockedMachine, workflow)


@EXAMPLES
@given(workflows(nested=True))
def test_nested_machine_signals_a_consistent_history(workflow: Workflow) -> None:
    check_sync(SignalingHierarchicalMachine, workflow)


@EXAMPLES
@given(workflows(asynchronous=True))
def test_async_machine_signals_a_consistent_history(workflow: Workflow) -> None:
    check_async(SignalingAsyncMachine, workflow)


@EXAMPLES
@given(workflows(nested=True, asynchronous=True))
def test_nested_async_machine_signals_a_consistent_history(workflow: Workflow) -> None:
    check_async(SignalingHierarchicalAsyncMachine, workflow)


def test_threads_triggering_their_own_models_keep_each_history() -> None:
    """Triggers on many threads at once, each with states entered and not yet signalled
    (slow on_enter callbacks of different lengths): no thread takes off, skips or sends
    another's pending state_entered."""

    class Worker:
        state: str
        start: t.Callable[[], bool]
        stop: t.Callable[[], bool]

        def __init__(self, work: int) -> None:
            self.work = work

        def busy(self) -> None:
            for _ in range(self.work):
                pass

    log = recording()
    workers = [Worker(work) for work in (1, 5, 20, 50, 3, 80, 10, 30) * 2]
    failures: list[BaseException] = []

    def run(worker: Worker) -> None:
        try:
            SignalingLockedMachine(
                worker,
                states=[{"name": "idle", "on_enter": "busy"}, {"name": "busy", "on_enter": "busy"}],
                initial="idle",
                transitions=[["start", "idle", "busy"], ["stop", "busy", "idle"]],
                auto_transitions=False,
            )
            for _ in range(300):
                worker.start()
                worker.stop()
        except BaseException as error:  # reported by the test thread
            failures.append(error)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=run, args=(worker,)) for worker in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
        log.stop()
    assert failures == []
    for worker in workers:
        assert_consistent_history(log, t.cast(Model, worker), "idle")
        entered = [p for n, s, p in sent(log) if s is worker and n == "state_entered"]
        assert len(entered) == 600


def test_nested_parent_raising_on_exit_sends_no_state_exited() -> None:
    """transitions keeps the model in the child when the parent's on_exit raises after the
    child's ran: neither is reported left."""
    model = Model()
    machine = SignalingHierarchicalMachine(
        model,
        states=[{"name": "s0", "children": ["c0"], "initial": "c0"}, "s1"],
        initial="s0",
        transitions=[["go", "s0", "s1"]],
    )
    machine.get_state("s0").add_callback("exit", _raise)
    log = recording()
    try:
        with contextlib.suppress(Boom):
            t.cast(t.Any, model).go()
    finally:
        log.stop()
    assert model.state == "s0_c0"
    assert [name for name, _, _ in sent(log)] == ["transition_failed"]


def test_nested_trigger_failing_in_a_parents_scope_sends_no_state_exited() -> None:
    """A trigger fired from a child's on_enter runs in the parent's scope: transitions runs
    its on_exit callbacks, then cannot set the state; the model stays where it was."""
    model = Model()
    machine = SignalingHierarchicalMachine(
        model, states=[{"name": "s0", "children": ["c0"], "initial": "c0"}, "s1"], initial="s1"
    )
    fired: list[BaseException] = []

    def refire() -> None:
        try:
            t.cast(t.Any, model).to_s0()
        except ValueError as error:  # transitions: "State 's0_s0_c0' is not a registered state."
            fired.append(error)

    machine.get_state("s0_c0").add_callback("enter", refire)
    log = recording()
    try:
        t.cast(t.Any, model).to_s0()
    finally:
        log.stop()
    assert len(fired) == 1
    assert model.state == "s0_c0"
    told = [(name, payload.get("state")) for name, _, payload in sent(log)]
    assert told == [
        ("state_exited", "s1"),
        ("state_entered", "s0"),
        ("state_entered", "s0_c0"),
        ("transition_failed", None),
        ("transition_completed", None),
    ]
    assert_consistent_history(log, model, "s1")

"""Locked machines send signals inside the machine's lock: per model, in the order of events."""

from __future__ import annotations

import copy
import itertools
import pickle
import sys
import threading
import time
import typing as t
from collections import defaultdict

import pytest

from statesignals import (
    SignalingLockedHierarchicalMachine,
    SignalingLockedMachine,
    SignalingMachine,
    StateCheck,
    Trigger,
    TriggerCheck,
    state_entered,
    state_exited,
    transition_completed,
)
from statesignals.bridge.locking import MODEL_LOCK_ATTRIBUTE

THREADS = 8
TRIGGERS_PER_THREAD = 10_000
MODELS = 4
CYCLE = ["received", "picked", "packed"]
ADVANCE = [["advance", source, CYCLE[(i + 1) % len(CYCLE)]] for i, source in enumerate(CYCLE)]


class Tote:
    """A shared model; ``moves`` is written by the machine's own callback, inside the lock."""

    def __init__(self) -> None:
        self.moves: list[tuple[str, str]] = []

    def record_move(self, event_data: t.Any) -> None:
        self.moves.append((event_data.transition.source, event_data.transition.dest))


def hammer(models: list[t.Any], fire: t.Callable[[t.Any], object]) -> None:
    """THREADS threads firing TRIGGERS_PER_THREAD triggers each, spread over ``models``."""
    barrier = threading.Barrier(THREADS)
    failures: list[BaseException] = []

    def work(offset: int) -> None:
        barrier.wait()
        try:
            for index in range(TRIGGERS_PER_THREAD):
                fire(models[(offset + index) % len(models)])
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def observed_per_model() -> dict[int, list[tuple[str, str]]]:
    observed: dict[int, list[tuple[str, str]]] = defaultdict(list)

    def receiver(sender: object, **payload: t.Any) -> None:
        observed[id(sender)].append((payload["source"], payload["dest"]))

    transition_completed.connect(receiver, weak=False)
    return observed


def assert_one_signal_per_transition_in_order(
    models: list[t.Any], observed: dict[int, list[tuple[str, str]]]
) -> None:
    total = 0
    for model in models:
        signals = observed[id(model)]
        assert signals == model.moves
        # Each transition starts where the one before it ended: none lost or doubled.
        assert all(prev[1] == nxt[0] for prev, nxt in itertools.pairwise(signals))
        total += len(signals)
    assert total == THREADS * TRIGGERS_PER_THREAD


def test_concurrent_triggers_on_shared_models_signal_each_transition_once_in_order() -> None:
    models = [Tote() for _ in range(MODELS)]
    SignalingLockedMachine(
        models,
        states=CYCLE,
        transitions=ADVANCE,
        initial="received",
        send_event=True,
        after_state_change="record_move",
    )
    observed = observed_per_model()
    hammer(models, lambda model: model.advance())
    assert_one_signal_per_transition_in_order(models, observed)


class LockedTote(SignalingMachine):
    """Declared with a locked machine: instances share it without being added to it."""

    machine_cls = SignalingLockedMachine
    states = CYCLE
    initial = "received"
    transitions = ADVANCE
    send_event = True
    after_state_change = "record_move"

    def __init__(self) -> None:
        self.moves: list[tuple[str, str]] = []

    def record_move(self, event_data: t.Any) -> None:
        self.moves.append((event_data.transition.source, event_data.transition.dest))


def test_declared_locked_workflow_locks_instances_the_machine_never_held() -> None:
    models = [LockedTote() for _ in range(MODELS)]
    observed = observed_per_model()
    hammer(models, lambda model: model.advance())
    assert_one_signal_per_transition_in_order(models, observed)
    machine: t.Any = LockedTote.machine
    assert machine.models == []
    assert dict(machine.model_context_map) == {}  # nothing kept per instance


def test_receivers_run_while_the_machine_lock_is_held() -> None:
    tote = Tote()
    machine: t.Any = SignalingLockedMachine(
        tote, states=CYCLE, transitions=ADVANCE, initial="received"
    )
    held: list[bool] = []

    def probe(sender: object, **payload: t.Any) -> None:
        lock = machine.machine_context[0].lock
        held.append(lock.locked() and machine._ident.current == threading.get_ident())

    transition_completed.connect(probe)
    tote.advance()  # type: ignore[attr-defined]
    assert held == [True]


@pytest.mark.parametrize("threads", [4])
def test_locked_nested_machine_completes_once_per_trigger_under_contention(threads: int) -> None:
    totes = [Tote() for _ in range(2)]
    SignalingLockedHierarchicalMachine(
        totes,
        states=["idle", {"name": "busy", "children": ["one", "two"], "initial": "one"}],
        transitions=[
            ["work", "idle", "busy"],
            ["work", "busy_one", "busy_two"],
            ["work", "busy_two", "idle"],
        ],
        initial="idle",
    )
    counts: dict[int, int] = defaultdict(int)

    def count(sender: object, **payload: t.Any) -> None:
        counts[id(sender)] += 1

    transition_completed.connect(count)

    def work() -> None:
        for index in range(1_000):
            totes[index % 2].work()  # type: ignore[attr-defined]

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sum(counts.values()) == threads * 1_000
    assert counts[id(totes[0])] == counts[id(totes[1])] == threads * 500


class Courier(SignalingMachine):
    """A declared locked workflow: one machine, one lock per instance."""

    machine_cls = SignalingLockedMachine
    states = CYCLE
    initial = "received"
    transitions = ADVANCE

    advance: Trigger


def run_switching_often(workers: list[threading.Thread]) -> None:
    """Run ``workers`` to their end, with threads switched every microsecond."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    finally:
        sys.setswitchinterval(previous)


def test_declared_locked_triggers_of_one_instance_stay_serialized_under_contention() -> None:
    couriers = [Courier() for _ in range(3)]
    observed: dict[int, list[tuple[str, str]]] = defaultdict(list)
    overlapping: list[object] = []
    inside: set[int] = set()

    def receiver(sender: object, **payload: t.Any) -> None:
        # Another thread inside the same instance's trigger would be a broken lock.
        if id(sender) in inside:
            overlapping.append(sender)
        inside.add(id(sender))
        observed[id(sender)].append((payload["source"], payload["dest"]))
        inside.discard(id(sender))

    transition_completed.connect(receiver)
    barrier = threading.Barrier(6)

    def work(offset: int) -> None:
        barrier.wait()
        for index in range(600):
            couriers[(offset + index) % 3].advance()

    run_switching_often([threading.Thread(target=work, args=(n,)) for n in range(6)])
    assert overlapping == []
    for courier in couriers:
        moves = observed[id(courier)]
        assert len(moves) == 1_200
        assert all(prev[1] == nxt[0] for prev, nxt in itertools.pairwise(moves))
        assert courier.state == CYCLE[len(moves) % 3]


def test_a_declared_locked_instance_pickles_and_copies_with_a_lock_of_its_own() -> None:
    courier = Courier()
    courier.advance()
    for twin in (pickle.loads(pickle.dumps(courier)), copy.deepcopy(courier)):
        assert twin.state == "picked"
        assert twin.advance()
        assert vars(twin)[MODEL_LOCK_ATTRIBUTE] is not vars(courier)[MODEL_LOCK_ATTRIBUTE]
    machine = pickle.loads(pickle.dumps(Courier.machine))
    assert machine._locks_per_model


NESTED_STATES: list[t.Any] = [
    "received",
    {"name": "picking", "children": ["aisle", "shelf"], "initial": "aisle"},
    {"name": "packing", "parallel": ["box", "label"]},
]
NESTED_ADVANCE = [
    ["advance", "received", "picking"],
    ["advance", "picking_aisle", "picking_shelf"],
    ["advance", "picking_shelf", "packing"],
    ["advance", "packing", "received"],
]
NESTED_CYCLE: list[t.Any] = [
    "received",
    "picking_aisle",
    "picking_shelf",
    ["packing_box", "packing_label"],
]
ENTERED_PER_CYCLE = [
    "picking",
    "picking_aisle",
    "picking_shelf",
    "packing",
    "packing_box",
    "packing_label",
    "received",
]


class NestedCourier(SignalingMachine):
    """A declared locked nested workflow: one machine, one lock per instance."""

    machine_cls = SignalingLockedHierarchicalMachine
    states = NESTED_STATES
    initial = "received"
    transitions = NESTED_ADVANCE

    advance: Trigger
    may_advance: TriggerCheck
    is_picking: StateCheck

    def on_exit_picking_aisle(self) -> None:
        # Callbacks that wait (for I/O, say) let other threads through the same state.
        time.sleep(0)

    def on_enter_packing_label(self) -> None:
        time.sleep(0)


def test_a_slow_receiver_of_a_nested_instance_does_not_hold_up_another_instance() -> None:
    slow, other = NestedCourier(), NestedCourier()
    receiving = threading.Event()
    release = threading.Event()
    finished_while_receiving: list[bool] = []

    def slow_receiver(sender: object, **payload: t.Any) -> None:
        if sender is slow:
            receiving.set()
            release.wait(timeout=10)

    transition_completed.connect(slow_receiver)
    slow_trigger = threading.Thread(target=slow.advance)
    slow_trigger.start()
    assert receiving.wait(timeout=10)

    def advance_other() -> None:
        other.advance()
        finished_while_receiving.append(not release.is_set())

    other_trigger = threading.Thread(target=advance_other)
    other_trigger.start()
    # With one lock per class, the other trigger waits for the slow receiver.
    other_trigger.join(timeout=10)
    release.set()
    slow_trigger.join()
    other_trigger.join()
    assert finished_while_receiving == [True]
    assert (slow.state, other.state) == ("picking_aisle", "picking_aisle")


@pytest.mark.parametrize(
    ("workflow", "reached"), [(Courier, "picked"), (NestedCourier, "picking_aisle")]
)
def test_a_receiver_waiting_for_another_instances_trigger_does_not_deadlock(
    workflow: type[Courier | NestedCourier], reached: str
) -> None:
    first, second = workflow(), workflow()
    finished = threading.Event()

    def advance_the_other() -> None:
        second.advance()
        finished.set()

    def wait_for_the_other(sender: object, **payload: t.Any) -> None:
        if sender is first:
            threading.Thread(target=advance_the_other).start()
            # With one lock per class the other trigger waits for this receiver.
            finished.wait(timeout=10)

    transition_completed.connect(wait_for_the_other)
    first.advance()
    assert finished.is_set()
    assert (first.state, second.state) == (reached, reached)


def test_concurrent_triggers_of_nested_instances_keep_states_and_signals_apart() -> None:
    # Each thread drives its own instance: the machine's scope, shared by all
    # instances, is changed by every thread at once.
    threads, cycles = 6, 150
    couriers = [NestedCourier() for _ in range(threads)]
    signals: dict[int, list[tuple[str, ...]]] = defaultdict(list)
    checks: list[str] = []

    def on_completed(sender: object, **payload: t.Any) -> None:
        signals[id(sender)].append(("completed", payload["source"], payload["dest"]))

    def on_entered(sender: object, **payload: t.Any) -> None:
        signals[id(sender)].append(("entered", payload["state"]))

    def on_exited(sender: object, **payload: t.Any) -> None:
        signals[id(sender)].append(("exited", payload["state"]))

    transition_completed.connect(on_completed)
    state_entered.connect(on_entered)
    state_exited.connect(on_exited)
    alone = NestedCourier()
    for _ in NESTED_CYCLE:
        alone.advance()
    one_cycle = signals.pop(id(alone))
    assert [signal[1] for signal in one_cycle if signal[0] == "entered"] == ENTERED_PER_CYCLE
    barrier = threading.Barrier(threads)
    failures: list[BaseException] = []

    def work(courier: NestedCourier) -> None:
        barrier.wait()
        try:
            for step in range(cycles * len(NESTED_CYCLE)):
                assert courier.may_advance()
                assert courier.advance()
                expected = NESTED_CYCLE[(step + 1) % len(NESTED_CYCLE)]
                if courier.state != expected:
                    checks.append(f"{courier.state!r} after step {step}, not {expected!r}")
                if not courier.is_picking(allow_substates=True) and "picking" in str(expected):
                    checks.append(f"not in picking at step {step}")
        except BaseException as error:
            failures.append(error)

    run_switching_often([threading.Thread(target=work, args=(courier,)) for courier in couriers])
    assert failures == []
    assert checks == []
    for courier in couriers:
        assert courier.state == "received"
        assert signals[id(courier)] == one_cycle * cycles
    machine: t.Any = NestedCourier.machine
    assert machine.scoped is machine and machine.prefix_path == [] and machine._stack == []


def test_a_declared_locked_nested_machine_pickles_and_copies_locked_per_instance() -> None:
    courier = NestedCourier()
    courier.advance()
    for twin in (pickle.loads(pickle.dumps(courier)), copy.deepcopy(courier)):
        assert twin.advance()
        assert twin.state == "picking_shelf"
    declared: t.Any = NestedCourier.machine
    for machine in (pickle.loads(pickle.dumps(declared)), copy.deepcopy(declared)):
        assert machine._locks_per_model
        assert machine.scoped is machine
        assert machine.get_nested_state_names() == declared.get_nested_state_names()

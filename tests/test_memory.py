"""Models are plain objects: nothing statesignals keeps holds on to a dropped one."""

from __future__ import annotations

import gc
import tracemalloc
import typing as t
import weakref

from statesignals import SignalingMachine, Trigger, state_entered, transition_completed
from statesignals.dispatch import WorkflowSignal

MODELS = 100_000


class Parcel(SignalingMachine):
    states = ["packed", "shipped", "delivered"]
    initial = "packed"
    transitions = [
        {"trigger": "ship", "source": "packed", "dest": "shipped"},
        {"trigger": "deliver", "source": "shipped", "dest": "delivered"},
    ]

    ship: Trigger
    deliver: Trigger

    def __init__(self, number: int) -> None:
        self.number = number


received: list[int] = []


def count_entered(sender: Parcel, **payload: t.Any) -> None:
    received.append(sender.number)


def count_shipped(sender: Parcel, **payload: t.Any) -> None:
    received.append(sender.number)


def count_completed(sender: Parcel, **payload: t.Any) -> None:
    received.append(sender.number)


def live(refs: list[weakref.ref[Parcel]]) -> int:
    gc.collect()
    return sum(ref() is not None for ref in refs)


def test_dropped_models_are_collected_while_receivers_are_connected() -> None:
    received.clear()
    Parcel.on_transition("ship")(count_shipped)
    state_entered.connect(count_entered)
    refs: list[weakref.ref[Parcel]] = []
    try:
        for number in range(MODELS):
            parcel = Parcel(number)
            if number % 100 == 0:
                transition_completed.connect(count_completed, sender=parcel)
            parcel.ship()
            parcel.deliver()
            refs.append(weakref.ref(parcel))
        del parcel
        # Every parcel: entered twice, shipped once; every hundredth also completed twice.
        assert len(received) == 3 * MODELS + 2 * (MODELS // 100)
        assert live(refs) == 0
    finally:
        Parcel.disconnect(count_shipped)
        state_entered.disconnect(count_entered)
        transition_completed.disconnect(count_completed)


def test_receiver_connected_to_one_model_does_not_keep_it_alive() -> None:
    for weak in (True, False):
        parcel = Parcel(1)
        transition_completed.connect(count_completed, sender=parcel, weak=weak)
        ref = weakref.ref(parcel)
        del parcel
        assert live([ref]) == 0
        transition_completed.disconnect(count_completed)


def test_receiver_of_a_collected_model_is_not_called_for_a_new_model_at_its_address() -> None:
    received.clear()
    parcel = Parcel(1)
    transition_completed.connect(count_completed, sender=parcel)
    try:
        parcel.ship()
        assert received == [1]
        address = id(parcel)
        del parcel
        gc.collect()
        # CPython hands the freed memory to the next object of the same size.
        newcomers = [Parcel(2) for _ in range(1_000)]
        reused = [newcomer for newcomer in newcomers if id(newcomer) == address]
        assert reused, "no new model was created at the collected model's address"
        reused[0].ship()
        assert received == [1]
    finally:
        transition_completed.disconnect(count_completed)


def test_class_keeps_no_reference_to_its_instances() -> None:
    refs = [weakref.ref(Parcel(number)) for number in range(1_000)]
    assert live(refs) == 0
    assert not any(isinstance(value, Parcel) for value in vars(Parcel).values())


def counting_receiver(count: list[int]) -> t.Callable[..., None]:
    """A closure per model, as the docs advise connecting strongly (weak=False)."""

    def receive(sender: Parcel, **payload: t.Any) -> None:
        count[0] += 1

    return receive


def test_strong_receivers_of_one_model_go_away_with_the_model() -> None:
    # Scaled down from a million models, which left a million receivers (+594 MB).
    models = 20_000
    count = [0]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for number in range(models):
            parcel = Parcel(number)
            transition_completed.connect(counting_receiver(count), sender=parcel, weak=False)
            parcel.ship()
        del parcel
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert count == [models]
    assert dict(transition_completed.receivers) == {}
    assert transition_completed not in WorkflowSignal.connected
    assert transition_completed._by_receiver == {}
    assert not any(transition_completed._by_sender.values())
    assert len(transition_completed._by_sender) <= 1  # blinker's bucket for any sender
    assert kept / models < 16  # bytes per model: nothing of theirs is left


def test_a_strong_receiver_disconnected_from_its_model_is_gone() -> None:
    parcel = Parcel(1)
    receive = counting_receiver([0])
    transition_completed.connect(receive, sender=parcel, weak=False)
    transition_completed.disconnect(receive, sender=parcel)
    assert dict(transition_completed.receivers) == {}
    assert transition_completed not in WorkflowSignal.connected
    # A receiver still connected to another sender (or to every sender) stays.
    other = Parcel(2)
    transition_completed.connect(receive, sender=parcel, weak=False)
    transition_completed.connect(receive, sender=other, weak=False)
    transition_completed.disconnect(receive, sender=parcel)
    assert list(transition_completed.receivers.values()) == [receive]
    transition_completed.disconnect(receive)

"""Models are plain objects: nothing statesignals keeps holds on to a dropped one."""

from __future__ import annotations

import gc
import typing as t
import weakref

from statesignals import SignalingMachine, Trigger, state_entered, transition_completed

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

"""Which receivers a signal calls, whoever else is connected."""

from __future__ import annotations

import gc
import typing as t

import pytest

from statesignals import MachineError, SignalingMachine, Trigger, transition_completed
from statesignals.routes import listens, routes_of

calls: list[tuple[str, int]] = []


class Ticket(SignalingMachine):
    states = ["open", "closed"]
    initial = "open"
    transitions = [
        {"trigger": "close", "source": "open", "dest": "closed"},
        {"trigger": "reopen", "source": "closed", "dest": "open"},
    ]

    close: Trigger
    reopen: Trigger

    def __init__(self, number: int) -> None:
        self.number = number


def first(sender: Ticket, **payload: t.Any) -> None:
    calls.append(("first", sender.number))


def second(sender: Ticket, **payload: t.Any) -> None:
    calls.append(("second", sender.number))


def test_receiver_connected_only_to_one_model_hears_only_that_model() -> None:
    calls.clear()
    watched, other = Ticket(1), Ticket(2)
    transition_completed.connect(first, sender=watched)
    watched.close()
    other.close()
    assert calls == [("first", 1)]


def test_receivers_for_any_model_and_for_one_model_run_in_connection_order() -> None:
    calls.clear()
    watched, other = Ticket(1), Ticket(2)
    transition_completed.connect(first, sender=watched)
    transition_completed.connect(second)
    watched.close()
    other.close()
    transition_completed.disconnect(first)
    watched.reopen()
    assert calls == [("first", 1), ("second", 1), ("second", 2), ("second", 1)]


def test_class_receiver_of_a_denial_hears_it_when_no_global_signal_has_receivers() -> None:
    denials: list[tuple[int, str]] = []

    def denied(sender: Ticket, **payload: t.Any) -> None:
        denials.append((sender.number, payload["reason"]))

    Ticket.on_denied("reopen")(denied)
    try:
        ticket = Ticket(3)
        with pytest.raises(MachineError):
            ticket.reopen()
        ticket.close()
        ticket.reopen()
    finally:
        Ticket.disconnect(denied)
    assert denials == [(3, "invalid_trigger")]


class UrgentTicket(Ticket):
    pass


def test_class_receivers_connected_after_triggers_hear_the_next_ones() -> None:
    calls.clear()
    ticket, urgent = Ticket(4), UrgentTicket(5)
    ticket.close()
    urgent.close()
    Ticket.on_enter("open")(first)
    Ticket.on_exit("closed")(second)
    try:
        ticket.reopen()
        urgent.reopen()
    finally:
        Ticket.disconnect(first)
        Ticket.disconnect(second)
    ticket.close()
    ticket.reopen()
    assert calls == [("second", 4), ("first", 4), ("second", 5), ("first", 5)]


def test_class_receiver_stops_hearing_once_garbage_collected() -> None:
    heard: list[int] = []

    def closed(sender: Ticket, **payload: t.Any) -> None:
        heard.append(sender.number)

    Ticket.on_transition("close", weak=True)(closed)
    ticket = Ticket(6)
    ticket.close()
    del closed
    gc.collect()
    ticket.reopen()
    ticket.close()
    assert heard == [6]


def test_class_receiver_of_one_transition_is_called_for_that_transition_only() -> None:
    calls.clear()
    ticket = Ticket(7)
    ticket.close()
    ticket.reopen()
    Ticket.on_transition("reopen")(first)
    try:
        ticket.close()
        ticket.reopen()
        UrgentTicket(8).close()
    finally:
        Ticket.disconnect(first)
    assert calls == [("first", 7)]


def test_disconnecting_from_a_class_creates_no_per_class_signals() -> None:
    class Untouched(SignalingMachine):
        states = ["a", "b"]
        initial = "a"
        transitions = [["go", "a", "b"]]

    Untouched.disconnect(first)

    # With no per-class signal anywhere for the class, its triggers skip the per-class lookup.
    assert routes_of(Untouched) == {}
    assert not listens(Untouched, transition_completed.name, "go")

"""Receivers that misbehave: interrupts, stray cancellations, lost state, hidden coroutines."""

from __future__ import annotations

import asyncio
import gc
import typing as t
import warnings

import pytest

from statesignals import (
    AsyncReceiverError,
    ReceiverError,
    SignalingAsyncMachine,
    SignalingHierarchicalMachine,
    SignalingMachine,
    StateAttributeError,
    StateSignalsError,
    Trigger,
    state_entered,
    state_exited,
    transition_completed,
)


class Door(SignalingMachine):
    states = ["shut", "open"]
    initial = "shut"
    transitions = [["swing", "shut", "open"], ["close", "open", "shut"]]

    swing: Trigger
    close: Trigger

    def __init__(self) -> None:
        self.calls: list[str] = []

    def on_exit_shut(self) -> None:
        self.calls.append("on_exit_shut")

    def on_enter_open(self) -> None:
        self.calls.append("on_enter_open")


class Mail(SignalingMachine):
    machine_cls = SignalingAsyncMachine
    states = ["draft", "sent"]
    initial = "draft"
    transitions = [["post", "draft", "sent"]]


def calls_into(calls: list[str], name: str) -> t.Callable[..., None]:
    def receiver(sender: object, **payload: t.Any) -> None:
        calls.append(name)

    return receiver


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, SystemExit, GeneratorExit])
def test_an_interrupt_in_a_receiver_propagates_once_the_model_is_in_its_new_state(
    interrupt: type[BaseException],
) -> None:
    door = Door()
    calls: list[str] = []

    def stop(sender: object, **payload: t.Any) -> None:
        raise interrupt("stop")

    state_exited.connect(stop)
    state_exited.connect(calls_into(calls, "next exit receiver"), weak=False)
    transition_completed.connect(calls_into(calls, "completed"), weak=False)

    with pytest.raises(interrupt):
        door.swing()

    # Never between states: the model's callbacks and the other receivers all ran.
    assert door.state == "open"
    assert door.calls == ["on_exit_shut", "on_enter_open"]
    assert calls == ["next exit receiver", "completed"]
    state_exited.disconnect(stop)
    assert door.close()


def test_an_interrupt_wins_over_receiver_errors_of_the_same_trigger(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def fail(sender: object, **payload: t.Any) -> None:
        raise ValueError("ordinary")

    def stop(sender: object, **payload: t.Any) -> None:
        raise KeyboardInterrupt

    state_exited.connect(fail)
    state_entered.connect(stop)
    door = Door()
    with pytest.raises(KeyboardInterrupt):
        door.swing()
    assert door.state == "open"
    assert [record.exc_info[0] for record in caplog.records if record.exc_info] == [ValueError]


def test_a_receiver_raising_cancelled_error_is_a_receiver_error_and_the_others_still_run() -> None:
    calls: list[str] = []

    async def awaits_a_cancelled_task(sender: object, **payload: t.Any) -> None:
        elsewhere = asyncio.ensure_future(asyncio.sleep(10))
        elsewhere.cancel()
        await elsewhere

    async def later(sender: object, **payload: t.Any) -> None:
        calls.append("later")

    transition_completed.connect(awaits_a_cancelled_task)
    transition_completed.connect(later)

    async def post() -> tuple[Mail, ReceiverError]:
        mail = Mail()
        with pytest.raises(ReceiverError) as raised:
            await t.cast(t.Any, mail).post()
        return mail, raised.value

    mail, error = asyncio.run(post())
    assert mail.state == "sent"
    assert calls == ["later"]
    (cancelled,) = error.exceptions
    assert isinstance(cancelled, StateSignalsError)
    assert "awaits_a_cancelled_task" in str(cancelled)
    assert isinstance(cancelled.__cause__, asyncio.CancelledError)


def test_a_receiver_deleting_the_state_attribute_fails_loudly_and_the_state_is_kept() -> None:
    def forget(sender: object, **payload: t.Any) -> None:
        del t.cast(t.Any, sender).state

    state_entered.connect(forget)
    door = Door()
    with pytest.raises(StateSignalsError) as raised:
        door.swing()
    message = str(raised.value)
    assert "Door" in message and "swing" in message and "'state'" in message
    assert door.state == "open"


class AsyncCallable:
    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    async def __call__(self, sender: object, **payload: t.Any) -> None:
        self.calls.append("awaited")


def coroutine_receivers(calls: list[str]) -> list[t.Callable[..., t.Any]]:
    """Receivers whose call returns a coroutine without being coroutine functions."""

    async def notify(sender: object, **payload: t.Any) -> None:
        calls.append("awaited")

    return [AsyncCallable(calls), lambda sender, **payload: notify(sender, **payload)]


@pytest.mark.parametrize("kind", ["async __call__", "lambda returning a coroutine"])
def test_a_receiver_returning_a_coroutine_on_a_sync_machine_is_an_error_not_dropped(
    kind: str,
) -> None:
    calls: list[str] = []
    receiver = coroutine_receivers(calls)[0 if kind == "async __call__" else 1]
    transition_completed.connect(receiver, weak=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "coroutine was never awaited" would fail here
        with pytest.raises(ReceiverError) as raised:
            Door().swing()
        gc.collect()
    (error,) = raised.value.exceptions
    assert isinstance(error, AsyncReceiverError)
    assert "transition_completed" in str(error)


@pytest.mark.parametrize("kind", ["async __call__", "lambda returning a coroutine"])
def test_a_receiver_returning_a_coroutine_is_awaited_by_an_async_machine(kind: str) -> None:
    calls: list[str] = []
    receiver = coroutine_receivers(calls)[0 if kind == "async __call__" else 1]
    transition_completed.connect(receiver, weak=False)

    async def post() -> None:
        await t.cast(t.Any, Mail()).post()

    asyncio.run(post())
    assert calls == ["awaited"]


def test_an_interrupt_in_an_async_receiver_propagates_once_the_model_is_in_its_new_state() -> None:
    calls: list[str] = []

    async def stop(sender: object, **payload: t.Any) -> None:
        raise KeyboardInterrupt

    state_exited.connect(stop)
    transition_completed.connect(calls_into(calls, "completed"), weak=False)

    async def post() -> Mail:
        mail = Mail()
        with pytest.raises(KeyboardInterrupt):
            await t.cast(t.Any, mail).post()
        return mail

    assert asyncio.run(post()).state == "sent"
    assert calls == ["completed"]


TRIP_STATES: list[t.Any] = [
    "home",
    {
        "name": "away",
        "children": ["hotel", "beach"],
        "initial": "hotel",
        "transitions": [["swim", "hotel", "beach"]],
    },
    {
        "name": "trip",
        "parallel": ["plane", {"name": "bags", "children": ["packed"], "initial": "packed"}],
    },
]
TRIP_TRANSITIONS = [["leave", "home", "away"], ["fly", "home", "trip"]]


class Trip(SignalingMachine):
    machine_cls = SignalingHierarchicalMachine
    states = TRIP_STATES
    initial = "home"
    transitions = TRIP_TRANSITIONS


def forget_the_state(sender: object, **payload: t.Any) -> None:
    del t.cast(t.Any, sender).state


@pytest.mark.parametrize(
    ("triggers", "reached"),
    [
        # The dest is a compound state: the model reached its initial child.
        (["leave"], "away_hotel"),
        # The dest is local to the region the transition ran in.
        (["leave", "swim"], "away_beach"),
        # The dest is parallel: the model is in every region's state.
        (["fly"], ["trip_plane", "trip_bags_packed"]),
    ],
)
def test_a_receiver_deleting_the_state_of_a_declared_nested_model_gets_it_set_back(
    triggers: list[str], reached: t.Any
) -> None:
    trip = Trip()
    for trigger in triggers[:-1]:
        trip.trigger(trigger)
    transition_completed.connect(forget_the_state)
    with pytest.raises(StateAttributeError, match=r"Trip\.\w+ .*'state' attribute was deleted"):
        trip.trigger(triggers[-1])
    assert vars(trip)["state"] == reached


def test_a_receiver_deleting_the_state_of_a_nested_machines_model_gets_it_set_back() -> None:
    class Traveller:
        pass

    traveller = Traveller()
    SignalingHierarchicalMachine(
        traveller, states=TRIP_STATES, transitions=TRIP_TRANSITIONS, initial="home"
    )
    transition_completed.connect(forget_the_state)
    with pytest.raises(StateAttributeError, match=r"set back to 'away_hotel'"):
        t.cast(t.Any, traveller).leave()
    assert t.cast(t.Any, traveller).state == "away_hotel"
    transition_completed.disconnect(forget_the_state)
    assert t.cast(t.Any, traveller).swim()


def test_an_interrupt_in_a_receiver_wins_over_a_callback_error_of_the_same_trigger() -> None:
    class Hatch(Door):
        transitions = [["pop", "shut", "open"]]
        after_state_change = "jam"

        def jam(self) -> None:
            raise ValueError("jammed")

    def stop(sender: object, **payload: t.Any) -> None:
        raise KeyboardInterrupt

    state_exited.connect(stop)
    hatch = Hatch()
    with pytest.raises(KeyboardInterrupt) as raised:
        hatch.trigger("pop")
    assert isinstance(raised.value.__cause__, ValueError)
    assert hatch.state == "open"

"""Receivers: connection order, no veto, gathered errors, per-transition and per-state helpers."""

from __future__ import annotations

import gc
import logging
import sys
import threading
import typing as t
import warnings

import pytest

from statesignals import (
    AsyncReceiverError,
    ReceiverError,
    SignalingMachine,
    Trigger,
    WorkflowLookupError,
    state_entered,
    state_exited,
    transition_completed,
)
from statesignals.dispatch import WorkflowSignal
from statesignals.routes import targets


class Order(SignalingMachine):
    states = ["pending", "paid", "shipped"]
    initial = "pending"
    transitions = [
        {"trigger": "pay", "source": "pending", "dest": "paid", "after": "note_after"},
        {"trigger": "ship", "source": "paid", "dest": "shipped"},
        {"trigger": "pay_and_ship", "source": "pending", "dest": "paid", "after": "ship"},
    ]
    finalize_event = "note_finalized"

    pay: Trigger
    ship: Trigger

    def __init__(self) -> None:
        self.notes: list[str] = []

    def note_after(self) -> None:
        self.notes.append("after")

    def note_finalized(self) -> None:
        self.notes.append("finalized")


class RushOrder(Order):
    pass


class Quote(SignalingMachine):
    states = ["pending", "paid"]
    initial = "pending"
    transitions = [["pay", "pending", "paid"]]


def recorder(calls: list[str], name: str) -> t.Callable[..., None]:
    def receiver(sender: object, **payload: t.Any) -> None:
        calls.append(name)

    receiver.__qualname__ = name
    return receiver


def test_receivers_run_in_the_order_they_were_connected() -> None:
    calls: list[str] = []
    receivers = [recorder(calls, f"r{index}") for index in range(30)]
    for receiver in receivers:
        transition_completed.connect(receiver)

    Order().pay()

    assert calls == [f"r{index}" for index in range(30)]


def test_sender_specific_and_any_sender_receivers_keep_one_connection_order() -> None:
    calls: list[str] = []
    order, other = Order(), Order()
    first, second, third = (recorder(calls, name) for name in ("first", "second", "third"))
    transition_completed.connect(first, sender=order)
    transition_completed.connect(second)
    transition_completed.connect(third, sender=order)

    order.pay()
    other.pay()

    assert calls == ["first", "second", "third", "second"]


def test_reconnecting_keeps_the_place_and_reconnecting_after_disconnect_moves_to_the_end() -> None:
    calls: list[str] = []
    first, second = recorder(calls, "first"), recorder(calls, "second")
    transition_completed.connect(first)
    transition_completed.connect(second)
    transition_completed.connect(first)
    Order().pay()
    transition_completed.disconnect(first)
    transition_completed.connect(first)
    Order().pay()

    assert calls == ["first", "second", "second", "first"]


def test_a_receiver_cannot_veto_a_transition() -> None:
    def refuse(sender: object, **payload: t.Any) -> bool:
        return False

    state_exited.connect(refuse)
    order = Order()

    assert order.pay() is True
    assert order.state == "paid"


def test_a_raising_receiver_does_not_stop_the_others_or_the_transition() -> None:
    calls: list[str] = []

    def broken(sender: object, **payload: t.Any) -> None:
        raise ValueError(f"broken on {payload['state']}")

    state_exited.connect(broken)
    state_exited.connect(recorder(calls, "exit"), weak=False)
    state_entered.connect(recorder(calls, "enter"), weak=False)
    transition_completed.connect(recorder(calls, "completed"), weak=False)
    order = Order()

    with pytest.raises(ReceiverError) as raised:
        order.pay()

    assert order.state == "paid"
    assert calls == ["exit", "enter", "completed"]
    assert order.notes == ["after", "finalized"]
    (error,) = raised.value.exceptions
    assert isinstance(error, ValueError)
    assert "raised by a receiver of state_exited for Order pay (pending -> paid)" in (
        error.__notes__
    )


def test_errors_of_every_receiver_are_raised_together_once_the_trigger_finished() -> None:
    def broken_exit(sender: object, **payload: t.Any) -> None:
        raise ValueError("exit")

    def broken_completed(sender: object, **payload: t.Any) -> None:
        raise KeyError("completed")

    state_exited.connect(broken_exit)
    transition_completed.connect(broken_completed)

    with pytest.raises(ReceiverError) as raised:
        Order().pay()

    assert [type(error) for error in raised.value.exceptions] == [ValueError, KeyError]
    with pytest.raises(ExceptionGroup) as grouped:
        raise raised.value
    assert grouped.group_contains(KeyError)


def test_errors_from_triggers_fired_inside_callbacks_wait_for_the_outermost_trigger() -> None:
    calls: list[str] = []

    def broken(sender: object, **payload: t.Any) -> None:
        calls.append(payload["trigger"])
        raise ValueError(payload["trigger"])

    transition_completed.connect(broken)
    order = Order()

    with pytest.raises(ReceiverError) as raised:
        order.trigger("pay_and_ship")

    assert order.state == "shipped"
    assert calls == ["ship", "pay_and_ship"]
    assert [str(error) for error in raised.value.exceptions] == ["ship", "pay_and_ship"]


def test_callback_exception_wins_and_receiver_errors_are_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Fragile(SignalingMachine):
        states = ["a", "b"]
        initial = "a"
        transitions = [{"trigger": "go", "source": "a", "dest": "b", "after": "explode"}]

        def explode(self) -> None:
            raise RuntimeError("callback")

    def broken(sender: object, **payload: t.Any) -> None:
        raise ValueError("receiver")

    state_entered.connect(broken)

    with pytest.raises(RuntimeError, match="callback") as raised:
        Fragile().trigger("go")

    assert "1 receiver error(s) of the same trigger were logged" in raised.value.__notes__[0]
    assert any(record.exc_info and record.exc_info[0] is ValueError for record in caplog.records)


def test_log_policy_logs_receiver_errors_instead_of_raising(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Tolerant(SignalingMachine):
        states = ["a", "b"]
        initial = "a"
        transitions = [["go", "a", "b"]]
        receiver_errors = "log"

    def broken(sender: object, **payload: t.Any) -> None:
        raise ValueError("receiver")

    transition_completed.connect(broken)
    model = Tolerant()

    with caplog.at_level(logging.ERROR, logger="statesignals"):
        assert model.trigger("go") is True

    assert model.state == "b"
    assert [record.exc_info[0] for record in caplog.records if record.exc_info] == [ValueError]


def test_async_receiver_on_a_sync_machine_fails_clearly_without_dropping_a_coroutine() -> None:
    calls: list[str] = []

    async def notify(sender: object, **payload: t.Any) -> None:
        calls.append("awaited")

    transition_completed.connect(notify)
    transition_completed.connect(recorder(calls, "sync"), weak=False)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "coroutine was never awaited" would fail here
        with pytest.raises(ReceiverError) as raised:
            Order().pay()
        gc.collect()

    (error,) = raised.value.exceptions
    assert isinstance(error, AsyncReceiverError)
    assert "notify" in str(error) and "transition_completed" in str(error)
    assert calls == ["sync"]


def test_sender_filter_limits_a_receiver_to_one_model() -> None:
    calls: list[object] = []
    watched, other = Order(), Order()

    def record(sender: object, **payload: t.Any) -> None:
        calls.append(sender)

    transition_completed.connect(record, sender=watched)
    other.pay()
    watched.pay()

    assert calls == [watched]


def test_on_transition_fires_for_the_class_and_its_subclasses_only() -> None:
    calls: list[tuple[str, str]] = []

    @Order.on_transition("pay")
    def paid(order: Order, **payload: t.Any) -> None:
        calls.append((type(order).__name__, payload["dest"]))

    Order().pay()
    RushOrder().pay()
    Quote().trigger("pay")
    Order.disconnect(paid)
    Order().pay()

    assert calls == [("Order", "paid"), ("RushOrder", "paid")]


def test_on_enter_and_on_exit_fire_for_one_state() -> None:
    calls: list[str] = []

    @Order.on_exit("pending")
    def left(order: Order, **payload: t.Any) -> None:
        calls.append(f"left {payload['state']}")

    @RushOrder.on_enter("shipped")
    def arrived(order: Order, **payload: t.Any) -> None:
        calls.append(f"entered {payload['state']}")

    order, rush = Order(), RushOrder()
    order.pay()
    order.ship()
    rush.pay()
    rush.ship()
    Order.disconnect(left)
    RushOrder.disconnect(arrived)

    assert calls == ["left pending", "left pending", "entered shipped"]


def test_parent_class_receivers_run_before_subclass_receivers() -> None:
    calls: list[str] = []
    RushOrder.on_transition("pay")(recorder(calls, "rush"))
    Order.on_transition("pay")(recorder(calls, "order"))
    transition_completed.connect(recorder(calls, "global"), weak=False)

    RushOrder().pay()

    assert calls == ["global", "order", "rush"]


def test_unknown_trigger_or_state_is_an_error_at_connect_time() -> None:
    with pytest.raises(WorkflowLookupError, match="Order has no trigger 'refund'"):
        Order.on_transition("refund")
    with pytest.raises(WorkflowLookupError, match="Order has no state 'lost'"):
        Order.on_enter("lost")
    with pytest.raises(WorkflowLookupError, match="no trigger 'refund'"):
        Order.on_denied("refund")
    with pytest.raises(WorkflowLookupError, match="SignalingMachine declares no workflow"):
        SignalingMachine.on_exit("pending")


def test_helpers_hold_receivers_strongly_by_default() -> None:
    calls: list[str] = []

    def connect_local() -> None:
        def local(order: Order, **payload: t.Any) -> None:
            calls.append("strong")

        Order.on_transition("ship")(local)

        def weak_local(order: Order, **payload: t.Any) -> None:
            calls.append("weak")

        Order.on_transition("ship", weak=True)(weak_local)

    connect_local()
    gc.collect()
    order = Order()
    order.pay()
    order.ship()

    assert calls == ["strong"]


def test_receivers_of_other_transitions_are_not_consulted() -> None:
    for index in range(100):
        Order.on_transition("pay")(recorder([], f"pay{index}"))
    calls: list[str] = []
    Order.on_transition("ship")(recorder(calls, "ship"))

    (ship_signal,) = targets(Order, "transition_completed", "ship")
    (pay_signal,) = targets(Order, "transition_completed", "pay")
    order = Order()
    order.pay()
    order.ship()

    assert (len(ship_signal.receivers), len(pay_signal.receivers)) == (1, 100)
    assert calls == ["ship"]


def test_workflow_signal_send_gathers_errors_outside_a_machine_too() -> None:
    signal = WorkflowSignal("custom")
    calls: list[str] = []

    def broken(sender: object) -> None:
        raise ValueError("x")

    signal.connect(broken)
    signal.connect(recorder(calls, "after broken"), weak=False)

    with pytest.raises(ReceiverError, match="1 receiver of signal 'custom' raised"):
        signal.send(None)

    assert calls == ["after broken"]


def test_sending_while_other_threads_connect_never_loses_a_receiver() -> None:
    signal = WorkflowSignal("threaded")
    calls: list[str] = []
    errors: list[BaseException] = []
    receivers = [recorder(calls, f"r{index}") for index in range(200)]

    def connect_all(chunk: list[t.Callable[..., None]]) -> None:
        for receiver in chunk:
            signal.connect(receiver, weak=False)

    def keep_sending() -> None:
        try:
            for _ in range(2_000):
                signal.send(None)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=keep_sending) for _ in range(2)]
    threads += [threading.Thread(target=connect_all, args=(receivers[i::4],)) for i in range(4)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    calls.clear()
    signal.send(None)

    assert errors == []
    assert sorted(calls) == sorted(f"r{index}" for index in range(200))


def test_a_class_sender_receives_from_every_instance_of_the_class_and_its_subclasses() -> None:
    calls: list[tuple[str, str]] = []

    def heard(order: Order, **payload: t.Any) -> None:
        calls.append((type(order).__name__, payload["trigger"]))

    transition_completed.connect(heard, sender=Order)
    Order().pay()
    RushOrder().pay()
    Quote().trigger("pay")
    transition_completed.disconnect(heard, sender=Order)
    Order().pay()
    transition_completed.connect(heard, sender=RushOrder)
    RushOrder().pay()
    transition_completed.disconnect(heard)
    RushOrder().pay()

    assert calls == [("Order", "pay"), ("RushOrder", "pay"), ("RushOrder", "pay")]


def test_on_transition_takes_several_triggers_or_none_for_all() -> None:
    calls: list[str] = []

    @Order.on_transition("pay", "ship")
    def either(order: Order, trigger: str, **payload: t.Any) -> None:
        calls.append(f"either {trigger}")

    @Order.on_transition()
    def every(order: Order, trigger: str, **payload: t.Any) -> None:
        calls.append(f"every {trigger}")

    order = Order()
    order.pay()
    order.ship()
    order.trigger("to_pending")

    assert calls == ["either pay", "every pay", "either ship", "every ship", "every to_pending"]
    with pytest.raises(WorkflowLookupError, match="Order has no trigger 'refund'"):
        Order.on_transition("pay", "refund")


def test_on_enter_without_a_state_listens_to_every_state() -> None:
    calls: list[str] = []

    @Order.on_enter()
    def entered(order: Order, state: str, **payload: t.Any) -> None:
        calls.append(state)

    order = Order()
    order.pay()
    order.ship()
    assert calls == ["paid", "shipped"]


@pytest.mark.parametrize("helper", ["on_transition", "on_denied", "on_enter", "on_exit"])
def test_a_helper_used_without_parentheses_says_what_was_meant(helper: str) -> None:
    def receiver(order: Order, **payload: t.Any) -> None:
        pass

    with pytest.raises(WorkflowLookupError) as raised:
        getattr(Order, helper)(receiver)
    message = str(raised.value)
    assert f"@Order.{helper}(" in message and "without parentheses" in message
    assert "0x" not in message


def test_an_async_receiver_per_class_on_a_sync_workflow_fails_when_connected() -> None:
    async def notify(order: Order, **payload: t.Any) -> None:
        pass

    with pytest.raises(AsyncReceiverError, match=r"notify.*Order.*synchronous"):
        Order.on_enter("paid")(notify)
    with pytest.raises(AsyncReceiverError, match=r"notify.*Order.*synchronous"):
        transition_completed.connect(notify, sender=Order)
    Order().pay()  # nothing was connected

"""transition_committed: sent once the outermost transaction holding a transition commits."""

from __future__ import annotations

import logging
import typing as t
import uuid

import pytest
from sqlalchemy.orm import Session, sessionmaker

from statesignals import (
    ReceiverError,
    SignalingMachine,
    TransitionRecord,
    Trigger,
    transition_committed,
)

from .persisted_models import Order
from .persistence_fixtures import (
    committed,
    engine,
    load_order,
    postgres_engine,
    sessions,
    steps,
    stored_order,
)

__all__ = ["committed", "engine", "postgres_engine", "sessions"]

Sessions = sessionmaker[Session]


def test_transition_is_committed_after_the_commit_not_before(
    sessions: Sessions, committed: list[TransitionRecord]
) -> None:
    key = stored_order(sessions)
    with sessions() as session, session.begin():
        order = load_order(session, key)
        order.pay()
        assert committed == []
    assert steps(committed) == [("pay", 2)]
    assert committed[0].primary_key == (key,)


def test_rolled_back_transaction_sends_nothing_and_the_model_reloads_its_old_state(
    sessions: Sessions, committed: list[TransitionRecord]
) -> None:
    key = stored_order(sessions)
    with sessions() as session:
        order = load_order(session, key)
        order.pay()
        session.rollback()
        assert (order.state, order.version) == ("pending", 1)
    assert committed == []


def test_exception_inside_begin_sends_nothing(
    sessions: Sessions, committed: list[TransitionRecord]
) -> None:
    key = stored_order(sessions)
    with pytest.raises(RuntimeError), sessions() as session, session.begin():
        order = load_order(session, key)
        order.pay()
        raise RuntimeError("the unit of work failed")
    assert committed == []


def test_closing_without_commit_sends_nothing(
    sessions: Sessions, committed: list[TransitionRecord]
) -> None:
    key = stored_order(sessions)
    session = sessions()
    order = load_order(session, key)
    order.pay()
    session.close()
    assert committed == []
    with sessions() as session:
        assert load_order(session, key).state == "pending"


def test_released_savepoint_is_sent_with_the_outer_commit(
    sessions: Sessions, committed: list[TransitionRecord]
) -> None:
    key = stored_order(sessions)
    with sessions() as session, session.begin():
        order = load_order(session, key)
        with session.begin_nested():
            order.pay()
        assert committed == []  # SQLAlchemy's after_commit fired here, for the release
    assert steps(committed) == [("pay", 2)]


def test_released_savepoint_then_outer_rollback_sends_nothing(
    sessions: Sessions, committed: list[TransitionRecord]
) -> None:
    key = stored_order(sessions)
    with sessions() as session:
        session.begin()
        order = load_order(session, key)
        with session.begin_nested():
            order.pay()
        session.rollback()
    assert committed == []


def test_rolled_back_savepoint_drops_only_its_transitions(
    sessions: Sessions, committed: list[TransitionRecord]
) -> None:
    key = stored_order(sessions)
    with sessions() as session, session.begin():
        order = load_order(session, key)
        order.pay()
        savepoint = session.begin_nested()
        order.ship()
        savepoint.rollback()
        assert order.state == "paid"
        order.cancel()
    assert steps(committed) == [("pay", 2), ("cancel", 3)]


@pytest.mark.parametrize(
    ("inner", "middle", "expected"),
    [
        ("commit", "commit", [("pay", 2), ("ship", 3)]),
        ("commit", "rollback", []),
        ("rollback", "commit", [("pay", 2)]),
        ("rollback", "rollback", []),
    ],
)
def test_savepoints_at_depth_two(
    sessions: Sessions,
    committed: list[TransitionRecord],
    inner: str,
    middle: str,
    expected: list[tuple[str, int]],
) -> None:
    key = stored_order(sessions)
    with sessions() as session, session.begin():
        order = load_order(session, key)
        outer_savepoint = session.begin_nested()
        order.pay()
        inner_savepoint = session.begin_nested()
        order.ship()
        getattr(inner_savepoint, inner)()
        getattr(outer_savepoint, middle)()
        assert committed == []
    assert steps(committed) == expected
    with sessions() as session:
        assert load_order(session, key).version == 1 + len(expected)


def test_interleaved_sessions_each_send_their_own_on_their_own_commit(
    sessions: Sessions, committed: list[TransitionRecord]
) -> None:
    first_key, second_key = stored_order(sessions), stored_order(sessions)
    with sessions() as first, sessions() as second:
        load_order(first, first_key).pay()
        # The second session does not see the first one's uncommitted transition.
        assert load_order(second, first_key).state == "pending"
        if second.get_bind().dialect.name == "sqlite":
            # SQLite has one writer at a time: the second writes once the first is done.
            first.commit()
            second.rollback()
            load_order(second, second_key).cancel()
            second.commit()
            expected = [("pay", (first_key,)), ("cancel", (second_key,))]
        else:
            load_order(second, second_key).cancel()
            second.commit()
            assert [(r.trigger, r.primary_key) for r in committed] == [("cancel", (second_key,))]
            first.commit()
            expected = [("cancel", (second_key,)), ("pay", (first_key,))]
    assert [(r.trigger, r.primary_key) for r in committed] == expected


def test_transitions_of_one_transaction_are_sent_in_order(
    sessions: Sessions, committed: list[TransitionRecord]
) -> None:
    with sessions() as session, session.begin():
        order = Order()
        session.add(order)
        order.pay()
        order.ship()
    assert steps(committed) == [("pay", 2), ("ship", 3)]


def test_payload_is_usable_after_the_session_closed(
    sessions: Sessions, committed: list[TransitionRecord]
) -> None:
    received: list[dict[str, t.Any]] = []

    @transition_committed.connect
    def keep(sender: object, **payload: t.Any) -> None:
        received.append({"sender": sender, **payload})

    key = stored_order(sessions)
    with sessions() as session, session.begin():
        load_order(session, key).pay()
    record = committed[0]
    assert (record.model_class, record.primary_key, record.version) == (Order, (key,), 2)
    assert (record.trigger, record.source, record.dest) == ("pay", "pending", "paid")
    assert isinstance(record.event_id, uuid.UUID)
    assert record.occurred_at.tzinfo is not None
    assert isinstance(record.instance, Order)
    assert record.key == str(key)
    payload = received[0]
    assert payload["sender"] is record.instance
    assert (payload["trigger"], payload["source"], payload["dest"]) == ("pay", "pending", "paid")


def test_raising_committed_receivers_all_run_and_never_undo_the_commit(
    sessions: Sessions,
) -> None:
    ran: list[str] = []

    @Order.on_commit("pay")
    def fails(order: Order, **payload: t.Any) -> None:
        ran.append("fails")
        raise LookupError("mail server down")

    @Order.on_commit("pay")
    def also_runs(order: Order, **payload: t.Any) -> None:
        ran.append("also_runs")

    try:
        key = stored_order(sessions)
        with pytest.raises(ReceiverError) as raised, sessions() as session, session.begin():
            load_order(session, key).pay()
        assert ran == ["fails", "also_runs"]
        assert [type(error) for error in raised.value.exceptions] == [LookupError]
        assert "commit (which stands)" in str(raised.value)
        with sessions() as session:
            assert load_order(session, key).state == "paid"
    finally:
        Order.disconnect(fails)
        Order.disconnect(also_runs)


def test_committed_receiver_errors_are_logged_under_the_log_policy(
    sessions: Sessions, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Order, "receiver_errors", "log")

    @transition_committed.connect
    def fails(order: Order, **payload: t.Any) -> None:
        raise LookupError("mail server down")

    key = stored_order(sessions)
    with (
        caplog.at_level(logging.ERROR, logger="statesignals"),
        sessions() as session,
        session.begin(),
    ):
        load_order(session, key).pay()
    assert "mail server down" in caplog.text


def test_on_commit_fires_only_for_its_trigger(
    sessions: Sessions,
) -> None:
    shipped: list[int | None] = []

    @Order.on_commit("ship")
    def on_ship(order: Order, transition: TransitionRecord, **payload: t.Any) -> None:
        shipped.append(transition.version)

    try:
        with sessions() as session, session.begin():
            order = Order()
            session.add(order)
            order.pay()
            order.ship()
        assert shipped == [3]
    finally:
        Order.disconnect(on_ship)


def test_transient_persisted_model_commits_when_its_trigger_returns(
    sessions: Sessions, committed: list[TransitionRecord]
) -> None:
    order = Order()
    order.pay()
    assert steps(committed) == [("pay", 2)]
    with sessions() as session, session.begin():
        session.add(order)
        session.flush()
        key = order.id
    assert len(committed) == 1  # not sent again when the row is written
    with sessions() as session:
        rows = session.execute(Order.history_select(key)).all()
    assert [(row.sequence, row.trigger) for row in rows] == [(1, None), (2, "pay")]


class Lamp(SignalingMachine):
    states = ["off", "on"]
    initial = "off"
    transitions = [["switch", "off", "on"], ["switch", "on", "off"]]

    switch: Trigger


def test_in_memory_models_are_committed_when_the_trigger_returns(
    committed: list[TransitionRecord],
) -> None:
    per_class: list[str] = []

    @Lamp.on_commit("switch")
    def lamp_switched(lamp: Lamp, transition: TransitionRecord, **payload: t.Any) -> None:
        per_class.append(transition.dest)

    try:
        lamp = Lamp()
        lamp.switch()
        lamp.switch()
        assert [(r.source, r.dest) for r in committed] == [("off", "on"), ("on", "off")]
        assert all(r.primary_key is None and r.version is None for r in committed)
        assert per_class == ["on", "off"]
    finally:
        Lamp.disconnect(lamp_switched)


def test_in_memory_committed_receiver_errors_surface_after_the_trigger() -> None:
    @transition_committed.connect
    def fails(lamp: Lamp, **payload: t.Any) -> None:
        raise LookupError("no bulb")

    lamp = Lamp()
    with pytest.raises(ReceiverError) as raised:
        lamp.switch()
    assert [type(error) for error in raised.value.exceptions] == [LookupError]
    assert lamp.state == "on"


def test_no_committed_receiver_means_no_bridge_on_transition_completed() -> None:
    from statesignals import transition_completed

    @transition_committed.connect
    def listen(sender: object, **payload: t.Any) -> None:
        pass

    assert transition_completed.receivers
    transition_committed.disconnect(listen)
    assert not transition_completed.receivers

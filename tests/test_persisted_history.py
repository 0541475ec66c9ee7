"""History: every transition and the creation, written in the flush of the state change."""

from __future__ import annotations

import typing as t
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from statesignals import ReceiverError, TransitionRecord, transition_committed, transition_flushed

from .persisted_models import Order
from .persistence_fixtures import engine, load_order, postgres_engine, sessions, stored_order

__all__ = ["engine", "postgres_engine", "sessions"]

Sessions = sessionmaker[Session]


def history(session: Session, key: int) -> list[tuple[t.Any, ...]]:
    rows = session.execute(Order.history_select(key)).all()
    return [(row.sequence, row.trigger, row.source, row.dest) for row in rows]


def test_history_holds_the_creation_and_every_transition(sessions: Sessions) -> None:
    with sessions() as session, session.begin():
        order = Order()
        session.add(order)
        order.pay()
        order.ship()
        session.flush()
        key = order.id
    with sessions() as session:
        assert history(session, key) == [
            (1, None, None, "pending"),
            (2, "pay", "pending", "paid"),
            (3, "ship", "paid", "shipped"),
        ]
        assert load_order(session, key).version == 3


def test_history_is_written_in_the_flush_and_undone_with_it(sessions: Sessions) -> None:
    key = stored_order(sessions)
    with sessions() as session:
        load_order(session, key).pay()
        assert [row[1] for row in history(session, key)] == [None, "pay"]
        savepoint = session.begin_nested()
        load_order(session, key).ship()
        savepoint.rollback()
        assert [row[1] for row in history(session, key)] == [None, "pay"]
        session.rollback()
        assert [row[1] for row in history(session, key)] == [None]


def test_history_rows_carry_the_committed_event_id(sessions: Sessions) -> None:
    records: list[TransitionRecord] = []

    @transition_committed.connect
    def keep(sender: object, transition: TransitionRecord, **payload: t.Any) -> None:
        records.append(transition)

    key = stored_order(sessions)
    with sessions() as session, session.begin():
        load_order(session, key).pay()
    with sessions() as session:
        row = session.execute(Order.history_select(key)).all()[-1]
    assert row.event_id == records[0].event_id
    assert (row.model_type, row.model_key, row.sequence) == ("Order", str(key), 2)


def test_history_is_unique_per_model_key_and_sequence(sessions: Sessions) -> None:
    key = stored_order(sessions)
    table = Order.history_table
    assert table is not None
    with sessions() as session, pytest.raises(IntegrityError):
        session.execute(
            insert(table).values(
                model_type="Order",
                model_key=str(key),
                sequence=1,
                dest="pending",
                event_id=uuid.uuid4(),
                occurred_at=datetime.now(UTC),
            )
        )


def test_transition_flushed_runs_inside_the_flush_on_its_connection(sessions: Sessions) -> None:
    outbox = Table(
        "test_outbox",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("event", String(100)),
    )
    seen: list[tuple[str, int | None, bool]] = []

    @transition_flushed.connect
    def write_outbox(
        order: Order, transition: TransitionRecord, session: Session, **payload: t.Any
    ) -> None:
        connection = payload["connection"]
        seen.append((transition.trigger, transition.version, connection is session.connection()))
        connection.execute(insert(outbox).values(event=f"{transition.describe()}"))

    with sessions() as session:
        outbox.create(session.connection())
        session.commit()
    try:
        key = stored_order(sessions)
        with sessions() as session:
            load_order(session, key).pay()
            assert seen == [("pay", 2, True)]
            session.rollback()  # the outbox row goes with the state change
            assert session.execute(select(outbox.c.event)).all() == []
            load_order(session, key).cancel()
            session.commit()
            assert session.execute(select(outbox.c.event)).scalars().all() == [
                f"Order {key} cancel (pending -> cancelled)"
            ]
    finally:
        with sessions() as session:
            outbox.drop(session.connection())
            session.commit()


def test_a_raising_flush_hook_fails_the_flush_and_nothing_is_committed(
    sessions: Sessions,
) -> None:
    @transition_flushed.connect
    def refuse(order: Order, **payload: t.Any) -> None:
        raise OSError("outbox full")

    key = stored_order(sessions)
    with sessions() as session:
        order = load_order(session, key)
        with pytest.raises(ReceiverError) as raised:
            order.pay()
        assert [type(error) for error in raised.value.exceptions] == [OSError]
        session.rollback()
        assert (order.state, order.version) == ("pending", 1)
    with sessions() as session:
        assert (
            session.execute(text("SELECT state FROM orders WHERE id = :id"), {"id": key}).scalar()
            == "pending"
        )


def test_transitions_of_several_models_reach_the_hook_in_the_order_they_happened(
    sessions: Sessions,
) -> None:
    seen: list[tuple[str, str]] = []

    @transition_flushed.connect
    def note(order: Order, transition: TransitionRecord, **payload: t.Any) -> None:
        seen.append((order.customer, transition.trigger))

    first, second = Order(customer="first"), Order(customer="second")
    first.pay()
    second.pay()
    first.ship()
    with sessions() as session, session.begin():
        session.add_all([second, first])
    assert seen == [("first", "pay"), ("second", "pay"), ("first", "ship")]

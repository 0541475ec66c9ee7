"""Optimistic locking: a stale row fails at the trigger, clearly, with nothing half-applied."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy import Engine, delete, func, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from statesignals import (
    DatabaseLockedError,
    DetachedWorkflowError,
    MissingVersionColumnError,
    StaleTransitionError,
    StateSignalsError,
    TransitionRecord,
    Trigger,
)
from statesignals.sqlalchemy import PersistedWorkflow, retry_on_conflict, state_column

from .databases import sqlite_file
from .persisted_models import Order
from .persistence_fixtures import (
    committed,
    engine,
    load_order,
    postgres_engine,
    sessions,
    stored_order,
)

__all__ = ["committed", "engine", "postgres_engine", "sessions"]

Sessions = sessionmaker[Session]


def history_count(session: Session, key: int) -> int:
    return len(session.execute(Order.history_select(key)).all())


def chained_errors(error: BaseException) -> list[BaseException]:
    chain = []
    while error.__cause__ is not None:
        error = error.__cause__
        chain.append(error)
    return chain


def test_stale_row_fails_at_the_trigger_naming_class_key_trigger_and_versions(
    sessions: Sessions, committed: list[TransitionRecord]
) -> None:
    key = stored_order(sessions)
    with sessions() as late:
        order = load_order(late, key)
        order.pay()  # version 2, uncommitted
        late.commit()
    with sessions() as loser, sessions() as winner:
        stale = load_order(loser, key)
        with winner.begin():
            load_order(winner, key).ship()
        with pytest.raises(StaleTransitionError) as raised:
            stale.cancel()
        error = raised.value
        assert isinstance(error, StateSignalsError)
        assert (error.model_class, error.primary_key, error.trigger) == (Order, (key,), "cancel")
        assert (error.expected_version, error.found_version) == (2, 3)
        assert f"Order {key}: 'cancel'" in str(error)
        assert "version 2" in str(error) and "version 3" in str(error)
        # The database's own error is chained: StaleDataError, or SQLite's refusal.
        causes = chained_errors(error)
        assert any(
            isinstance(cause, (sqlalchemy.exc.SQLAlchemyError, sqlite3.Error)) for cause in causes
        )
        loser.rollback()
        assert (stale.state, stale.version) == ("shipped", 3)
        assert history_count(loser, key) == 3
    assert [record.trigger for record in committed] == ["pay", "ship"]


def test_a_row_deleted_underneath_is_a_stale_transition(sessions: Sessions) -> None:
    key = stored_order(sessions)
    with sessions() as session:
        order = load_order(session, key)
        with sessions() as other, other.begin():
            other.execute(delete(Order).where(Order.id == key))
        with pytest.raises(StaleTransitionError, match="deleted by another transaction") as raised:
            order.pay()
        assert raised.value.found_version is None
        session.rollback()
        assert (
            session.execute(select(func.count()).select_from(Order).where(Order.id == key)).scalar()
            == 0
        )
        assert history_count(session, key) == 1  # the creation, committed before


def test_trigger_on_a_detached_instance_is_refused(sessions: Sessions) -> None:
    key = stored_order(sessions)
    with sessions() as session:
        order = load_order(session, key)
    with pytest.raises(DetachedWorkflowError, match=f"Order {key}: cannot fire 'pay'"):
        order.pay()
    assert order.state == "pending"  # not expired: closing does not expire


def test_trigger_on_an_expired_detached_instance_is_refused(sessions: Sessions) -> None:
    with sessions() as session, session.begin():
        order = Order()
        session.add(order)
    # committed (every attribute expired), then the session closed
    with pytest.raises(DetachedWorkflowError, match="no session holds"):
        order.pay()


def test_expired_attached_instance_reloads_and_works(sessions: Sessions) -> None:
    key = stored_order(sessions)
    with sessions() as session:
        order = load_order(session, key)
        session.expire(order)
        order.pay()
        session.commit()
        assert order.version == 2


class LegacyBase(DeclarativeBase):
    pass


class LegacyOrder(PersistedWorkflow, LegacyBase):
    __tablename__ = "legacy_orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = state_column()
    states = ["pending", "paid"]
    initial = "pending"
    transitions = [["pay", "pending", "paid"]]

    pay: Trigger


def test_an_existing_table_without_the_version_column_is_named(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS legacy_orders"))
        connection.execute(
            text("CREATE TABLE legacy_orders (id INTEGER PRIMARY KEY, state VARCHAR(64) NOT NULL)")
        )
        connection.execute(text("INSERT INTO legacy_orders (id, state) VALUES (1, 'pending')"))
    try:
        with Session(engine) as session:
            with pytest.raises(MissingVersionColumnError, match="'legacy_orders' of LegacyOrder"):
                session.get(LegacyOrder, 1)
            session.rollback()
            session.add(LegacyOrder(id=2))
            with pytest.raises(MissingVersionColumnError, match="no 'version' column"):
                session.flush()
            session.rollback()
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT id, state FROM legacy_orders")).all()
        assert [tuple(row) for row in rows] == [(1, "pending")]
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE legacy_orders"))


def test_retry_on_conflict_reruns_the_work_with_fresh_rows(sessions: Sessions) -> None:
    key = stored_order(sessions)
    attempts: list[int] = []

    def ship_it(session: Session) -> str:
        order = load_order(session, key)
        if not attempts:
            # Someone else wins the race during the first attempt.
            with sessions() as other, other.begin():
                load_order(other, key).pay()
        attempts.append(order.version)
        if order.is_pending():
            order.pay()
        order.ship()
        return order.state

    assert retry_on_conflict(sessions, ship_it) == "shipped"
    assert attempts == [1, 2]
    with sessions() as session:
        assert load_order(session, key).version == 3


def test_retry_on_conflict_gives_up_after_its_attempts(sessions: Sessions) -> None:
    key = stored_order(sessions)
    calls = []

    def always_loses(session: Session) -> None:
        order = load_order(session, key)
        with sessions() as other, other.begin():
            load_order(other, key).note()
        calls.append(1)
        order.note()

    with pytest.raises(StaleTransitionError):
        retry_on_conflict(sessions, always_loses, attempts=3, backoff=0)
    assert len(calls) == 3


def test_retry_on_conflict_does_not_rerun_other_errors(sessions: Sessions) -> None:
    calls = []

    def fails(session: Session) -> None:
        calls.append(1)
        raise KeyError("not a conflict")

    with pytest.raises(KeyError):
        retry_on_conflict(sessions, fails)
    assert calls == [1]


def test_sqlite_lock_timeout_is_a_clear_error_naming_the_file(tmp_path: Path) -> None:
    from .persisted_models import Base

    path = tmp_path / "locked.db"
    engine = sqlite_file(tmp_path, "locked.db", busy_timeout=0.05)
    Base.metadata.create_all(engine)
    key = stored_order(sessionmaker(engine))
    holder = sqlite_file(tmp_path, "locked.db", begin="IMMEDIATE")
    try:
        with holder.connect() as connection:
            connection.begin()  # holds the write lock until rolled back
            with Session(engine) as session:
                order = load_order(session, key)
                with pytest.raises(
                    DatabaseLockedError, match=f"{path}: database is locked"
                ) as raised:
                    order.pay()
                assert any("wrote 'pay'" in note for note in raised.value.__notes__)
                session.rollback()
            connection.rollback()
        with Session(engine) as session:
            assert load_order(session, key).state == "pending"
    finally:
        holder.dispose()
        engine.dispose()


def test_other_column_changes_are_checked_against_the_version(sessions: Sessions) -> None:
    key = stored_order(sessions)
    with sessions() as loser, sessions() as winner:
        order = load_order(loser, key)
        with winner.begin():
            load_order(winner, key).pay()
        order.customer = "mallory"
        with pytest.raises((sqlalchemy.orm.exc.StaleDataError, DatabaseLockedError)):
            loser.flush()
        loser.rollback()
        assert (order.customer, order.state) == ("ada", "paid")


class UnlockedBase(DeclarativeBase):
    pass


class Note(PersistedWorkflow, UnlockedBase):
    """Optimistic locking turned off: the version still counts transitions."""

    __tablename__ = "unlocked_notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = state_column()
    optimistic_locking = False
    states = ["draft", "final"]
    initial = "draft"
    transitions = [["finish", "draft", "final"], ["reopen", "final", "draft"]]

    finish: Trigger
    reopen: Trigger


def test_optimistic_locking_can_be_turned_off(postgres_engine: Engine) -> None:
    # On PostgreSQL: SQLite would refuse the second writer itself.
    engine = postgres_engine
    UnlockedBase.metadata.create_all(engine)
    sessions = sessionmaker(engine)
    try:
        with sessions() as session, session.begin():
            session.add(Note(id=1))
        assert Note.__mapper__.version_id_col is None
        with sessions() as first:
            note = first.get(Note, 1)
            assert note is not None
            with sessions() as second, second.begin():
                other = second.get(Note, 1)
                assert other is not None
                other.finish()
            note.finish()  # no version check: the last writer wins
            first.commit()
            assert note.version == 2
    finally:
        UnlockedBase.metadata.drop_all(engine)

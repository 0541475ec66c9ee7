"""Fixtures of the persistence tests: each test runs on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import collections.abc as c
import typing as t
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from statesignals import TransitionRecord, transition_committed

from .databases import fresh_tables, postgres_database, sqlite_file
from .persisted_models import Base, Order


@pytest.fixture(scope="module")
def postgres_engine(request: pytest.FixtureRequest) -> c.Iterator[Engine]:
    """An engine on a PostgreSQL database of this test module's own."""
    name = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    with postgres_database(name) as url:
        engine = create_engine(url)
        Base.metadata.create_all(engine)
        try:
            yield engine
        finally:
            engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> c.Iterator[Engine]:
    """The test's database: a new SQLite file, or this module's PostgreSQL database."""
    if request.param == "postgresql":
        yield request.getfixturevalue("postgres_engine")
        return
    engine = fresh_tables(sqlite_file(tmp_path), Base)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine)


@pytest.fixture
def committed() -> list[TransitionRecord]:
    """Every transition_committed sent during the test, as records."""
    records: list[TransitionRecord] = []

    def record(sender: object, transition: TransitionRecord, **payload: t.Any) -> None:
        records.append(transition)

    transition_committed.connect(record, weak=False)
    return records


def stored_order(sessions: sessionmaker[Session], **columns: t.Any) -> int:
    """The id of a new order row, committed."""
    with sessions() as session, session.begin():
        order = Order(**columns)
        session.add(order)
        session.flush()
        key = order.id
    return key


def load_order(session: Session, key: int) -> Order:
    """The order with id ``key``, loaded in ``session``."""
    order = session.get(Order, key)
    assert order is not None, f"no order {key}"
    return order


def steps(records: c.Iterable[TransitionRecord]) -> list[tuple[str, int | None]]:
    """(trigger, version) of each record, in order."""
    return [(record.trigger, record.version) for record in records]


__all__ = [
    "committed",
    "engine",
    "load_order",
    "postgres_engine",
    "sessions",
    "steps",
    "stored_order",
]

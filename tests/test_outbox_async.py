"""Durable receivers of asynchronous workflows committed through ``AsyncSession``.

The outbox row is written by the flush that ``AsyncSession`` runs underneath, on
aiosqlite and asyncpg; a relay on a synchronous engine publishes it.
"""

from __future__ import annotations

import asyncio
import collections.abc as c
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from statesignals import OutboxPayloadError
from statesignals.outbox import (
    InProcessPublisher,
    OutboxRelay,
    outbox_table,
    publish_after_commit,
)
from statesignals.outbox.durable import disconnect_durable
from statesignals.sqlalchemy import sqlite_async_engine

from .databases import driver_url
from .outbox_models import AsyncBase, Shipment
from .outbox_support import effect_counts, postgres_database, record_effect, sqlite_database


class Databases(t.NamedTuple):
    engine: sa.Engine
    """Where the relay runs."""
    make_async: c.Callable[[], AsyncEngine]
    """Where the application commits."""


@pytest.fixture(params=["aiosqlite", "asyncpg"])
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> c.Iterator[Databases]:
    Shipment.on_commit("ship", durable=True)(record_effect)
    try:
        if request.param == "aiosqlite":
            _, engine = sqlite_database(tmp_path)
            AsyncBase.metadata.create_all(engine)
            yield Databases(engine, lambda: sqlite_async_engine(tmp_path / "outbox.db"))
            return
        with postgres_database() as (url, engine):
            AsyncBase.metadata.create_all(engine)
            yield Databases(engine, lambda: create_async_engine(driver_url(url, "asyncpg")))
    finally:
        disconnect_durable(record_effect)


def run(databases: Databases, body: c.Callable[[async_sessionmaker[t.Any]], t.Awaitable[None]]):
    async def main() -> None:
        engine = databases.make_async()
        try:
            await body(async_sessionmaker(engine, expire_on_commit=False))
        finally:
            await engine.dispose()

    asyncio.run(main())


def outbox_rows(engine: sa.Engine) -> list[sa.Row[t.Any]]:
    with engine.connect() as connection:
        return list(connection.execute(sa.select(outbox_table).order_by(outbox_table.c.id)))


async def new_shipment(session: t.Any) -> Shipment:
    shipment = Shipment()
    session.add(shipment)
    await session.flush()
    return shipment


async def ship_a_new_shipment(sessions: async_sessionmaker[t.Any]) -> None:
    async with sessions() as session, session.begin():
        shipment = await new_shipment(session)
        assert await shipment.ship(carrier="DHL")


def test_a_committed_async_trigger_writes_its_row_and_the_relay_runs_it(
    databases: Databases,
) -> None:
    run(databases, ship_a_new_shipment)

    (row,) = outbox_rows(databases.engine)
    assert (row.trigger, row.source, row.dest) == ("ship", "packed", "shipped")
    assert row.receiver == "tests.outbox_support:record_effect"
    relay = OutboxRelay(databases.engine, InProcessPublisher(), poll_interval=0.01)
    assert relay.drain(timeout=30) == 1
    assert effect_counts(databases.engine) == {row.event_id: 1}


def test_a_rolled_back_or_refused_async_trigger_writes_nothing(databases: Databases) -> None:
    async def body(sessions: async_sessionmaker[t.Any]) -> None:
        async with sessions() as session, session.begin():
            key = (await new_shipment(session)).id
        async with sessions() as session, session.begin():
            shipment = await session.get_one(Shipment, key)
            assert await shipment.ship()
            await session.flush()
            await session.rollback()
        async with sessions() as session, session.begin():
            shipment = await session.get_one(Shipment, key)
            assert shipment.state == "packed"
            with pytest.raises(OutboxPayloadError, match=r"Shipment\.ship\(\)"):
                await shipment.ship(when=object())
            assert shipment.state == "packed"

    run(databases, body)

    assert outbox_rows(databases.engine) == []


def test_an_async_commit_publishes_its_events_after_the_commit(databases: Databases) -> None:
    with publish_after_commit(InProcessPublisher()) as publishing:
        run(databases, ship_a_new_shipment)

    (row,) = outbox_rows(databases.engine)
    assert row.published_at is not None
    assert publishing.metrics.published == 1
    assert effect_counts(databases.engine) == {row.event_id: 1}

"""Asynchronous workflows with AsyncSession, on aiosqlite and asyncpg."""

from __future__ import annotations

import asyncio
import collections.abc as c
import typing as t
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from statesignals import (
    StaleTransitionError,
    TransitionRecord,
    transition_committed,
    transition_flushed,
)
from statesignals.sqlalchemy import retry_on_conflict_async, sqlite_async_engine

from .databases import driver_url, postgres_database
from .persisted_models import AsyncBase, Claim

Run = c.Callable[[c.Callable[[AsyncEngine], c.Awaitable[None]]], None]


@pytest.fixture(params=["aiosqlite", "asyncpg"])
def run_on(request: pytest.FixtureRequest, tmp_path: Path) -> c.Iterator[Run]:
    """Run an async test body on a fresh database of the parametrized driver."""

    def run_with(engine_factory: c.Callable[[], AsyncEngine]) -> Run:
        def run(body: c.Callable[[AsyncEngine], c.Awaitable[None]]) -> None:
            async def main() -> None:
                engine = engine_factory()
                try:
                    async with engine.begin() as connection:
                        await connection.run_sync(AsyncBase.metadata.create_all)
                    await body(engine)
                finally:
                    await engine.dispose()

            asyncio.run(main())

        return run

    if request.param == "aiosqlite":
        yield run_with(lambda: sqlite_async_engine(tmp_path / "async.db"))
        return
    with postgres_database("async") as url:
        yield run_with(lambda: create_async_engine(driver_url(url, "asyncpg")))


def test_async_trigger_flushes_and_commits_with_async_session(run_on: Run) -> None:
    committed: list[tuple[str, int | None]] = []

    async def notify(claim: Claim, transition: TransitionRecord, **payload: t.Any) -> None:
        await asyncio.sleep(0)
        committed.append((transition.trigger, transition.version))

    transition_committed.connect(notify)

    async def body(engine: AsyncEngine) -> None:
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        async with sessions() as session, session.begin():
            claim = Claim()
            session.add(claim)
            await session.flush()
            assert await claim.approve()
            assert committed == []
        assert committed == [("approve", 2)]
        async with sessions() as session:
            rows = (await session.execute(Claim.history_select(claim.id))).all()
            assert [(row.sequence, row.trigger) for row in rows] == [(1, None), (2, "approve")]
            loaded = await session.get(Claim, claim.id)
            assert loaded is not None
            assert (loaded.state, loaded.version) == ("approved", 2)

    run_on(body)


def test_async_callback_raising_after_the_state_changed_writes_nothing(run_on: Run) -> None:
    async def body(engine: AsyncEngine) -> None:
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        async with sessions() as session, session.begin():
            claim = Claim()
            session.add(claim)
            with pytest.raises(RuntimeError, match="pager"):
                await claim.escalate()
            assert (claim.state, claim.version) == ("filed", 1)
        async with sessions() as session:
            stored = await session.get(Claim, claim.id)
            assert stored is not None
            assert (stored.state, stored.version) == ("filed", 1)
            rows = (await session.execute(Claim.history_select(claim.id))).all()
            assert [row.trigger for row in rows] == [None]

    run_on(body)


def test_async_rollback_sends_nothing(run_on: Run) -> None:
    committed: list[str] = []
    transition_committed.connect(
        lambda claim, **payload: committed.append(payload["trigger"]), weak=False
    )

    async def body(engine: AsyncEngine) -> None:
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        async with sessions() as session:
            claim = Claim()
            session.add(claim)
            await claim.approve()
            await session.rollback()
        assert committed == []

    run_on(body)


def test_async_stale_row_is_a_stale_transition_and_retry_reruns(run_on: Run) -> None:
    async def body(engine: AsyncEngine) -> None:
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        async with sessions() as session, session.begin():
            claim = Claim()
            session.add(claim)
        async with sessions() as loser, sessions() as winner:
            stale = await loser.get(Claim, claim.id)
            assert stale is not None
            async with winner.begin():
                fresh = await winner.get(Claim, claim.id)
                assert fresh is not None
                await fresh.approve()
            with pytest.raises(StaleTransitionError) as raised:
                await stale.approve()
            assert (raised.value.expected_version, raised.value.found_version) == (1, 2)
            await loser.rollback()

        async def pay_out(session: AsyncSession) -> str:
            loaded = await session.get(Claim, claim.id)
            assert loaded is not None
            await loaded.pay_out()
            return loaded.state

        assert await retry_on_conflict_async(sessions, pay_out) == "paid_out"

    run_on(body)


def test_flush_hook_writes_in_the_async_sessions_transaction(run_on: Run) -> None:
    outbox = Table(
        "async_outbox",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("event", String(100)),
    )

    @transition_flushed.connect
    def write_outbox(claim: Claim, transition: TransitionRecord, **payload: t.Any) -> None:
        payload["connection"].execute(insert(outbox).values(event=transition.describe()))

    async def body(engine: AsyncEngine) -> None:
        async with engine.begin() as connection:
            await connection.run_sync(outbox.create)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        async with sessions() as session:
            claim = Claim()
            session.add(claim)
            await session.flush()
            await claim.approve()
            await session.rollback()
            assert (await session.execute(select(outbox.c.event))).all() == []
            claim = Claim()
            session.add(claim)
            await session.flush()
            await claim.approve()
            await session.commit()
            events = (await session.execute(select(outbox.c.event))).scalars().all()
            assert events == [f"Claim {claim.id} approve (filed -> approved)"]

    run_on(body)

"""Persisted workflows: a trigger and its commit against the same writes by hand, and
writers racing on PostgreSQL.

The hand-written anchor is what an application writes without statesignals: load the
row, set the state, let SQLAlchemy's ``version_id_col`` check and bump the version on
flush, INSERT the history row, commit. The persisted workflow does exactly these writes
(plus its bookkeeping), so the ratio is the library's cost on a real unit of work. Both
are timed in wall time on PostgreSQL, where the server's work is part of what a user
waits for, and in this thread's CPU time on SQLite, which does all its work here.
"""

from __future__ import annotations

import collections.abc as c
import concurrent.futures
import contextlib
import multiprocessing
import tempfile
import time
import typing as t
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    String,
    Table,
    UniqueConstraint,
    Uuid,
    create_engine,
    insert,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from statesignals.sqlalchemy import sqlite_engine
from tests.databases import postgres_database
from tests.persisted_models import Base, Counter
from tests.persistence_race import Tally, create_rows, race_in_process
from tests.services import POSTGRES_URL, host_port, reachable

from .suite import Row, Target, missing_row, timed_row
from .timing import Statement, compare

RACE_TRIGGERS = 300
"""Triggers each racing process fires."""
RACE_ROWS = 50


class HandBase(DeclarativeBase):
    pass


class HandCounter(HandBase):
    """The same row, versioned by SQLAlchemy itself, its history written by hand."""

    __tablename__ = "hand_counters"
    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}


hand_history = Table(
    "hand_counters_transitions",
    HandBase.metadata,
    Column("id", Integer, primary_key=True),
    Column("model_type", String(200), nullable=False),
    Column("model_key", String(200), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("trigger", String(200)),
    Column("source", String(200)),
    Column("dest", String(200), nullable=False),
    Column("event_id", Uuid, nullable=False, unique=True),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("model_type", "model_key", "sequence"),
)


def persisted_flip(sessions: sessionmaker[Session], key: int) -> None:
    with sessions() as session, session.begin():
        counter = session.get(Counter, key)
        assert counter is not None
        counter.flip()


def hand_flip(sessions: sessionmaker[Session], key: int) -> None:
    with sessions() as session, session.begin():
        counter = session.get(HandCounter, key)
        assert counter is not None
        source = counter.state
        counter.state = "odd" if source == "even" else "even"
        session.flush()
        session.execute(
            insert(hand_history),
            {
                "model_type": "HandCounter",
                "model_key": str(key),
                "sequence": counter.version,
                "trigger": "flip",
                "source": source,
                "dest": counter.state,
                "event_id": uuid.uuid4(),
                "occurred_at": datetime.now(UTC),
            },
        )


def _setup(engine: Engine) -> tuple[sessionmaker[Session], int, int]:
    Base.metadata.create_all(engine)
    HandBase.metadata.create_all(engine)
    sessions = sessionmaker(engine)
    with sessions() as session, session.begin():
        counter, hand = Counter(), HandCounter(state="even", version=1)
        session.add_all([counter, hand])
        session.flush()
        return sessions, counter.id, hand.id


def _commit_row(
    measure: str, engine: Engine, rounds: int, clock: t.Callable[[], float] = time.perf_counter
) -> Row:
    sessions, key, hand_key = _setup(engine)
    code = "unit(sessions, key)"
    subject = Statement(
        code, {"unit": persisted_flip, "sessions": sessions, "key": key}, clock=clock
    )
    anchor = Statement(
        code, {"unit": hand_flip, "sessions": sessions, "key": hand_key}, clock=clock
    )
    comparison = compare(subject, anchor, rounds)
    return timed_row(
        measure,
        "PersistedWorkflow trigger",
        "same writes by hand",
        comparison,
        Target(max_ratio=1.25),
    )


def commit_sqlite(rounds: int) -> Row:
    with tempfile.TemporaryDirectory() as directory:
        engine = sqlite_engine(Path(directory) / "bench.db")
        try:
            # SQLite works in this thread (WAL, no fsync per commit): its CPU time is the
            # whole cost, and the clock other processes cannot disturb.
            return _commit_row(
                "persisted trigger + commit (SQLite file)", engine, rounds, time.thread_time
            )
        finally:
            engine.dispose()


def _postgres_missing(measure: str) -> Row | None:
    if reachable(*host_port(POSTGRES_URL, 5432)):
        return None
    return missing_row(measure, "-", "-", f"PostgreSQL not reachable at {POSTGRES_URL}")


@contextlib.contextmanager
def _postgres(name: str) -> c.Iterator[tuple[Engine, str]]:
    """An engine on a new PostgreSQL database, and the database's URL."""
    with postgres_database(name) as url:
        engine = create_engine(url)
        try:
            yield engine, url.render_as_string(hide_password=False)
        finally:
            engine.dispose()


def commit_postgres(rounds: int) -> Row:
    measure = "persisted trigger + commit (PostgreSQL)"
    missing = _postgres_missing(measure)
    if missing is not None:
        return missing
    with _postgres("bench_commit") as (engine, _):
        return _commit_row(measure, engine, rounds)


def _race(url: str, processes: int, keys: list[int]) -> tuple[float, Tally]:
    context = multiprocessing.get_context("spawn")
    tally = Tally()
    with concurrent.futures.ProcessPoolExecutor(processes, mp_context=context) as pool:
        # Start the processes (and their imports) before the clock does.
        list(pool.map(abs, range(processes)))
        started = time.perf_counter()
        runs = [
            pool.submit(race_in_process, url, keys, RACE_TRIGGERS, seed)
            for seed in range(processes)
        ]
        for run in runs:
            tally.add(run.result())
        elapsed = time.perf_counter() - started
    return elapsed, tally


def racing_postgres(rounds: int) -> Row:
    """1 and 4 processes firing triggers on the same 50 rows: throughput and conflicts."""
    measure = f"4 vs 1 processes racing on {RACE_ROWS} rows (PostgreSQL)"
    missing = _postgres_missing(measure)
    if missing is not None:
        return missing
    with _postgres("bench_race") as (engine, text_url):
        Base.metadata.create_all(engine)
        keys = create_rows(engine, RACE_ROWS)
        alone, alone_tally = _race(text_url, 1, keys)
        racing, racing_tally = _race(text_url, 4, keys)

    def describe(elapsed: float, tally: Tally) -> str:
        conflicts = sum(tally.conflicts.values())
        return (
            f"{tally.commits / elapsed:,.0f} commits/s, "
            f"{conflicts / tally.attempts:.1%} of attempts conflicted, "
            f"{conflicts / tally.commits:.3f} retries per commit"
        )

    subject_ns = racing * 1e9 / racing_tally.commits
    anchor_ns = alone * 1e9 / alone_tally.commits
    return Row(
        measure=measure,
        subject=f"4 processes: {describe(racing, racing_tally)}",
        anchor=f"1 process: {describe(alone, alone_tally)}",
        unit="ns",
        subject_value=subject_ns,
        anchor_value=anchor_ns,
        ratio=subject_ns / anchor_ns,
        target="report",
        met=None,
        note="time per commit",
    )


__all__ = ["commit_postgres", "commit_sqlite", "racing_postgres"]

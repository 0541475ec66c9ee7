"""Writers racing on the same rows, each firing triggers through retry_on_conflict.

Used by the concurrency tests (processes on PostgreSQL, threads on SQLite) and by the
racing benchmark.
"""

from __future__ import annotations

import collections
import random
from dataclasses import dataclass, field

from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from statesignals.sqlalchemy import retry_on_conflict

from .persisted_models import Counter


@dataclass
class Tally:
    """What one writer saw: every attempt either committed or failed with a conflict."""

    attempts: int = 0
    commits: int = 0
    conflicts: collections.Counter[str] = field(default_factory=collections.Counter)
    gave_up: int = 0

    def add(self, other: Tally) -> None:
        self.attempts += other.attempts
        self.commits += other.commits
        self.conflicts.update(other.conflicts)
        self.gave_up += other.gave_up


def create_rows(engine: Engine, rows: int) -> list[int]:
    """``rows`` new counters, committed; their ids."""
    with Session(engine) as session, session.begin():
        counters = [Counter() for _ in range(rows)]
        session.add_all(counters)
        session.flush()
        return [counter.id for counter in counters]


def race(engine: Engine, keys: list[int], triggers: int, seed: int, attempts: int = 100) -> Tally:
    """Fire ``triggers`` flips, each on a random row of ``keys``, retrying conflicts."""
    sessions = sessionmaker(engine)
    chooser = random.Random(seed)
    tally = Tally()

    def conflicted(error: Exception, attempt: int) -> None:
        tally.conflicts[type(error).__name__] += 1

    for _ in range(triggers):
        key = chooser.choice(keys)

        def flip(session: Session, key: int = key) -> None:
            tally.attempts += 1
            counter = session.get(Counter, key)
            assert counter is not None
            counter.flip()

        try:
            retry_on_conflict(sessions, flip, attempts=attempts, on_conflict=conflicted)
        except Exception:
            tally.gave_up += 1
            raise
        tally.commits += 1
    return tally


def race_in_process(url: str, keys: list[int], triggers: int, seed: int) -> Tally:
    """:func:`race` in a process of its own, on its own engine."""
    engine = create_engine(url)
    try:
        return race(engine, keys, triggers, seed)
    finally:
        engine.dispose()


def final_counts(engine: Engine, keys: list[int]) -> dict[str, int]:
    """Transitions the rows' versions count, and the history rows (creations apart)."""
    table = Counter.history_table
    assert table is not None
    with Session(engine) as session:
        versions = session.scalars(select(Counter.version).where(Counter.id.in_(keys))).all()
        history = session.execute(
            select(func.count())
            .select_from(table)
            .where(table.c.model_key.in_([str(key) for key in keys]), table.c.trigger.is_not(None))
        ).scalar_one()
        creations = session.execute(
            select(func.count())
            .select_from(table)
            .where(table.c.model_key.in_([str(key) for key in keys]), table.c.trigger.is_(None))
        ).scalar_one()
    return {
        "version_transitions": sum(version - 1 for version in versions),
        "history_transitions": int(history),
        "history_creations": int(creations),
    }


__all__ = ["Tally", "create_rows", "final_counts", "race", "race_in_process"]

"""Purging the outbox: events done with long ago go, everything still owed stays.

Run on a real SQLite file and a real PostgreSQL database. The ages are set in
the rows themselves (a week cannot be waited for); everything else is the
relay and the inbox doing their work.
"""

from __future__ import annotations

import collections.abc as c
import contextlib
import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from statesignals.cli import main
from statesignals.errors import OutboxError
from statesignals.outbox import (
    InProcessPublisher,
    OutboxRelay,
    RetryPolicy,
    inbox_table,
    outbox_table,
    purge,
    status,
)
from statesignals.outbox.events import utcnow

from .outbox_support import FAILS, commit_events, postgres_database, sqlite_database

WEEK = dt.timedelta(days=7)
ONCE = RetryPolicy(max_attempts=1)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> c.Iterator[tuple[str, sa.Engine]]:
    if request.param == "sqlite":
        yield sqlite_database(tmp_path)
        return
    with postgres_database() as found:
        yield found


def relay_everything(engine: sa.Engine) -> None:
    OutboxRelay(engine, InProcessPublisher(ONCE), policy=ONCE, poll_interval=0.01).drain(timeout=30)


def age(engine: sa.Engine, event_ids: c.Iterable[str], days: float, *columns: str) -> None:
    """Make the given times of ``event_ids`` (outbox and inbox rows) ``days`` old."""
    when = utcnow() - dt.timedelta(days=days)
    ids = list(event_ids)
    with engine.begin() as connection:
        outbox_columns = {name: when for name in columns if name != "processed_at"}
        if outbox_columns:
            connection.execute(
                outbox_table.update().where(outbox_table.c.event_id.in_(ids)).values(outbox_columns)
            )
        if "processed_at" in columns:
            connection.execute(
                inbox_table.update()
                .where(inbox_table.c.event_id.in_(ids))
                .values(processed_at=when)
            )


def remaining(engine: sa.Engine) -> tuple[set[str], set[str]]:
    with engine.connect() as connection:
        outbox = set(connection.execute(sa.select(outbox_table.c.event_id)).scalars())
        inbox = set(connection.execute(sa.select(inbox_table.c.event_id)).scalars())
    return outbox, inbox


def test_only_events_done_with_before_the_cut_off_go(database: tuple[str, sa.Engine]) -> None:
    _, engine = database
    done_long_ago = commit_events(engine, range(5))
    effect_recent = commit_events(engine, [10])
    in_flight = commit_events(engine, [11])
    dead = commit_events(engine, [12], receiver=FAILS)
    relay_everything(engine)
    # Published, but the effect was never recorded (a message the broker lost).
    with engine.begin() as connection:
        connection.execute(inbox_table.delete().where(inbox_table.c.event_id.in_(in_flight)))
    pending = commit_events(engine, [13])
    age(engine, done_long_ago, 10, "occurred_at", "published_at", "processed_at")
    age(engine, effect_recent, 10, "occurred_at", "published_at")
    age(engine, in_flight, 10, "occurred_at", "published_at")
    age(engine, dead, 10, "occurred_at", "dead_at")
    age(engine, pending, 10, "occurred_at", "available_at")

    purged = purge(engine, WEEK, batch_size=2)

    assert (purged.outbox, purged.inbox) == (5, 5)
    outbox, inbox = remaining(engine)
    assert outbox == {*effect_recent, *in_flight, *dead, *pending}
    assert inbox == set(effect_recent)
    # What stays is still owed: the pending and dead events are counted as before.
    with engine.connect() as connection:
        counts = status(connection)
    assert (counts.pending, counts.dead, counts.in_flight) == (1, 1, 1)


def test_dead_events_go_only_when_asked(database: tuple[str, sa.Engine]) -> None:
    _, engine = database
    dead_long_ago = commit_events(engine, [1, 2], receiver=FAILS)
    dead_lately = commit_events(engine, [3], receiver=FAILS)
    relay_everything(engine)
    age(engine, dead_long_ago, 30, "occurred_at", "dead_at")

    assert purge(engine, WEEK).outbox == 0
    assert purge(engine, WEEK, dead=True).outbox == 2
    outbox, _ = remaining(engine)
    assert outbox == set(dead_lately)


def test_inbox_rows_whose_event_is_gone_go_once_old(database: tuple[str, sa.Engine]) -> None:
    _, engine = database
    old, recent = commit_events(engine, [1]), commit_events(engine, [2])
    relay_everything(engine)
    with engine.begin() as connection:
        connection.execute(outbox_table.delete())
    age(engine, old, 10, "processed_at")

    purged = purge(engine, WEEK)

    assert (purged.outbox, purged.inbox) == (0, 1)
    assert remaining(engine) == (set(), set(recent))


def test_bad_ages_are_refused(tmp_path: Path) -> None:
    _, engine = sqlite_database(tmp_path)
    with pytest.raises(OutboxError, match="positive age"):
        purge(engine, dt.timedelta(0))
    with pytest.raises(OutboxError, match="batch size"):
        purge(engine, WEEK, batch_size=0)


def test_the_command_purges_and_says_how_much(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, engine = sqlite_database(tmp_path)
    done = commit_events(engine, range(3))
    kept = commit_events(engine, [9])
    relay_everything(engine)
    age(engine, done, 8, "occurred_at", "published_at", "processed_at")

    assert main(["outbox", "purge", "--older-than", "7", "--database", url]) == 0
    assert capsys.readouterr().out == ("deleted 3 outbox rows and 3 inbox rows older than 7 days\n")
    assert remaining(engine) == (set(kept), set(kept))

    assert main(["outbox", "purge", "--older-than", "0", "--database", url]) == 2
    assert "--older-than must be a positive number of days, not 0" in capsys.readouterr().err
    with contextlib.suppress(SystemExit):
        main(["outbox", "purge", "--database", url])
    assert "--older-than" in capsys.readouterr().err

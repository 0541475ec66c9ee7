"""The relay on PostgreSQL: FOR UPDATE SKIP LOCKED claims, LISTEN/NOTIFY wake-ups,
durable rows written in the flush, and relays racing on one outbox."""

from __future__ import annotations

import collections.abc as c
import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from statesignals.databases import engine_for
from statesignals.outbox import (
    DurableEvent,
    InProcessPublisher,
    OutboxRelay,
    RetryPolicy,
    outbox_table,
    status,
)

from .outbox_models import Base, Parcel, count_shipment
from .outbox_support import commit_events, postgres_database, tally, wait_for

FAST = RetryPolicy(max_attempts=3, initial=0.01, maximum=0.05)


@pytest.fixture(scope="module")
def database() -> c.Iterator[tuple[str, sa.Engine]]:
    with postgres_database() as (url, engine):
        Base.metadata.create_all(engine)
        yield url, engine


@pytest.fixture
def engine(database: tuple[str, sa.Engine]) -> c.Iterator[sa.Engine]:
    _, engine = database
    yield engine
    with engine.begin() as connection:
        for table in ("statesignals_outbox", "statesignals_inbox", "test_effects", "parcels"):
            connection.exec_driver_sql(f"DELETE FROM {table}")


class CountingPublisher(InProcessPublisher):
    """Runs receivers in-process and counts every event it was handed."""

    def __init__(self) -> None:
        super().__init__(FAST)
        self.handed: list[str] = []
        self._lock = threading.Lock()

    def publish(self, event: DurableEvent, engine: sa.Engine) -> None:
        with self._lock:
            self.handed.append(event.event_id)
        super().publish(event, engine)


def test_durable_rows_are_written_in_the_flush_on_postgresql(engine):
    Parcel.on_commit("ship", durable=True)(count_shipment)
    with Session(engine) as session, session.begin():
        parcels = [Parcel() for _ in range(5)]
        session.add_all(parcels)
        session.flush()
        for parcel in parcels:
            parcel.ship()
        first = parcels[0].id
    with Session(engine) as session:
        session.begin()
        session.get_one(Parcel, first).deliver()  # not durable: no row either way
        session.rollback()
    OutboxRelay(engine, InProcessPublisher(FAST)).drain(timeout=30)
    with engine.connect() as connection:
        ids = list(connection.execute(sa.select(outbox_table.c.event_id)).scalars())
    assert len(ids) == 5
    assert tally("durable rows on PostgreSQL", ids, engine) == (5, 0, 0)


def test_relays_racing_on_postgresql_publish_each_event_once(database, engine):
    url, _ = database
    ids = commit_events(engine, range(300))
    publishers = [CountingPublisher() for _ in range(2)]
    # Each relay on its own engine: separate connections, as separate processes have.
    engines = [engine_for(url) for _ in publishers]
    relays = [
        OutboxRelay(own, publisher, batch_size=10, poll_interval=0.05)
        for own, publisher in zip(engines, publishers, strict=True)
    ]
    threads = [threading.Thread(target=r.drain, kwargs={"timeout": 60}) for r in relays]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for own in engines:
        own.dispose()
    handed = [event_id for publisher in publishers for event_id in publisher.handed]
    print(f"\nrelay shares: {[len(p.handed) for p in publishers]}")
    assert sorted(handed) == sorted(ids)  # no row was handed to two relays
    assert tally("two relays racing (PostgreSQL, SKIP LOCKED)", ids, engine) == (300, 0, 0)


def test_a_commit_in_another_connection_wakes_the_relay_by_notify(database, engine):
    url, _ = database
    relay = OutboxRelay(engine, InProcessPublisher(FAST), poll_interval=3600)
    thread = threading.Thread(target=relay.run)
    thread.start()
    writer = engine_for(url)
    try:
        wait_for(lambda: any(t.name == "outbox-listen" for t in threading.enumerate()), "LISTEN")
        ids = commit_events(writer, range(3))
        # An hour between polls, and no in-process wake-up from commit_events: only
        # the NOTIFY sent on commit can have woken the relay.
        wait_for(lambda: relay.metrics.published == 3, "the notified relay to publish")
    finally:
        relay.stop()
        thread.join()
        writer.dispose()
    assert tally("wake by NOTIFY (PostgreSQL)", ids, engine) == (3, 0, 0)


def test_status_counts_rows_by_state_on_postgresql(engine):
    commit_events(engine, range(4))
    with engine.connect() as connection:
        counts = status(connection)
    assert (counts.pending, counts.published, counts.dead) == (4, 0, 0)
    assert counts.oldest_pending_age is not None

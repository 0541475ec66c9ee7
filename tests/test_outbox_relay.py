"""The relay and the inbox on an SQLite file, with receivers run in-process."""

from __future__ import annotations

import threading
import typing as t

import pytest
import sqlalchemy as sa

from statesignals.outbox import (
    InProcessPublisher,
    OutboxRelay,
    RetryPolicy,
    outbox_table,
    retry,
    retry_dead,
    status,
)
from statesignals.outbox.delivery import Outcome, deliver
from statesignals.outbox.events import DurableEvent

from .outbox_support import (
    FAILS,
    IN_ORDER,
    RECORD,
    commit_events,
    effect_counts,
    effect_sequences_by_model,
    effects,
    sqlite_database,
    tally,
    wait_for,
)

FAST = RetryPolicy(max_attempts=3, initial=0.01, maximum=0.05)


@pytest.fixture
def engine(tmp_path):
    _, engine = sqlite_database(tmp_path)
    yield engine
    engine.dispose()


def relay(engine: sa.Engine, **options: t.Any) -> OutboxRelay:
    return OutboxRelay(engine, InProcessPublisher(FAST), policy=FAST, poll_interval=0.05, **options)


def test_drain_runs_every_committed_event_once(engine):
    ids = commit_events(engine, range(20))
    published = relay(engine).drain(timeout=30)
    assert published == 20
    assert tally("drain", ids, engine) == (20, 0, 0)
    with engine.connect() as connection:
        counts = status(connection)
    assert (counts.published, counts.pending, counts.in_flight) == (20, 0, 0)


def test_redelivered_event_has_its_effect_once(engine):
    (event_id,) = commit_events(engine, [1])
    with engine.connect() as connection:
        row = connection.execute(sa.select(outbox_table)).one()
    event = DurableEvent.from_row(row)
    assert deliver(engine, event, FAST) is Outcome.DONE
    assert deliver(engine, event, FAST) is Outcome.DUPLICATE
    assert tally("redelivery", [event_id], engine) == (1, 0, 0)


def test_receiver_gets_the_committed_payload(engine):
    commit_events(engine, [7])
    with engine.connect() as connection:
        event = DurableEvent.from_row(connection.execute(sa.select(outbox_table)).one())
    assert event.primary_key == 7
    assert event.sequence == 1
    assert (event.trigger, event.source, event.dest) == ("advance", "s0", "s1")
    assert event.kwargs == {"step": 0}
    assert event.receiver == RECORD
    assert DurableEvent.from_message(event.to_message()) == event


def test_events_of_one_model_are_run_in_sequence_order(engine):
    ids = commit_events(engine, range(100), transitions=10)
    relay(engine, batch_size=64).drain(timeout=120)
    seen = effect_sequences_by_model(engine)
    assert len(seen) == 100
    assert all(sequences == list(range(1, 11)) for sequences in seen.values())
    assert tally("ordering, 100 models x 10 transitions", ids, engine) == (1000, 0, 0)


def test_a_receiver_that_always_raises_is_dead_lettered_and_others_run(engine):
    failing = commit_events(engine, [1, 2], receiver=FAILS)
    working = commit_events(engine, range(3, 13))
    relay(engine).drain(timeout=30)
    with engine.connect() as connection:
        counts = status(connection)
        dead = connection.execute(
            sa.select(outbox_table.c.attempts, outbox_table.c.last_error).where(
                outbox_table.c.dead_at.is_not(None)
            )
        ).all()
    assert counts.dead == 2
    assert counts.published == 10
    assert [attempts for attempts, _ in dead] == [3, 3]
    assert all("RuntimeError: cannot ship" in error for _, error in dead)
    assert tally("receiver that always raises: the others", working, engine) == (10, 0, 0)
    assert not set(failing) & set(effect_counts(engine))
    print(f"receiver that always raises: {len(dead)} events dead-lettered after 3 attempts")


def test_a_message_naming_something_else_than_a_function_is_not_run(engine):
    commit_events(engine, [1], receiver="os:system")
    relay(engine).drain(timeout=30)
    with engine.connect() as connection:
        error = connection.execute(sa.select(outbox_table.c.last_error)).scalar_one()
    assert "durable receiver 'os:system' is not a function" in error


def test_retry_makes_a_dead_event_due_again(engine):
    (event_id,) = commit_events(engine, [1], receiver=FAILS)
    relay(engine).drain(timeout=30)
    with engine.begin() as connection:
        assert status(connection).dead == 1
        retry(connection, event_id)
        assert status(connection).pending == 1
    relay(engine).drain(timeout=30)
    with engine.begin() as connection:
        assert status(connection).dead == 1
        assert retry_dead(connection) == 1
        assert status(connection).dead == 0


def test_retry_refuses_an_event_that_already_had_its_effect(engine):
    (event_id,) = commit_events(engine, [1])
    relay(engine).drain(timeout=30)
    from statesignals import OutboxError

    with engine.begin() as connection, pytest.raises(OutboxError, match="already had its effect"):
        retry(connection, event_id)


def test_relays_racing_on_one_file_run_each_event_once(engine):
    ids = commit_events(engine, range(200))
    relays = [relay(engine, batch_size=10) for _ in range(3)]
    threads = [threading.Thread(target=r.drain, kwargs={"timeout": 60}) for r in relays]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.metrics.published for r in relays) == 200
    assert tally("two+ relays racing (SQLite)", ids, engine) == (200, 0, 0)


class LosingPublisher(InProcessPublisher):
    """Loses the first message of every event, as a broker that crashed might."""

    def __init__(self) -> None:
        super().__init__(FAST)
        self.lost: set[str] = set()

    def publish(self, event: DurableEvent, engine: sa.Engine) -> None:
        if event.event_id not in self.lost:
            self.lost.add(event.event_id)
            return
        super().publish(event, engine)


def test_events_whose_messages_were_lost_are_published_again(engine):
    ids = commit_events(engine, range(5))
    losing = OutboxRelay(engine, LosingPublisher(), poll_interval=0.05, republish_after=0.3)
    thread = threading.Thread(target=losing.run)
    thread.start()
    try:
        wait_for(lambda: sum(effect_counts(engine).values()) >= 5, "every effect")
    finally:
        losing.stop()
        thread.join()
    assert losing.metrics.republished == 5
    assert tally("messages lost after publishing, published again", ids, engine) == (5, 0, 0)


def test_a_commit_wakes_a_relay_in_the_same_process(engine):
    from statesignals.outbox.wakeup import announce, database_key

    sleeper = OutboxRelay(engine, InProcessPublisher(FAST), poll_interval=3600)
    thread = threading.Thread(target=sleeper.run)
    thread.start()
    try:
        wait_for(lambda: sleeper.metrics.batches == 0, "the relay to start")
        ids = commit_events(engine, [1])
        announce(database_key(engine.url))
        # With an hour between polls, only the wake-up can have published it.
        wait_for(lambda: sleeper.metrics.published == 1, "the woken relay to publish")
    finally:
        sleeper.stop()
        thread.join()
    assert tally("wake on commit", ids, engine) == (1, 0, 0)


def _events_by_sequence(engine: sa.Engine) -> dict[int, DurableEvent]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(outbox_table).order_by(outbox_table.c.sequence))
        return {row.sequence: DurableEvent.from_row(row) for row in rows}


def test_a_receiver_that_checks_order_waits_for_the_earlier_effect(engine):
    commit_events(engine, [7], transitions=3, receiver=IN_ORDER)
    first, second, third = _events_by_sequence(engine).values()
    # A second worker process takes the later events while the first has not finished:
    assert deliver(engine, second, FAST) is Outcome.FAILED
    assert deliver(engine, third, FAST) is Outcome.FAILED
    assert effect_counts(engine) == {}
    assert deliver(engine, first, FAST) is Outcome.DONE
    assert deliver(engine, second, FAST) is Outcome.DONE
    assert deliver(engine, third, FAST) is Outcome.DONE
    with engine.connect() as connection:
        sequences = list(connection.scalars(sa.select(effects.c.sequence).order_by(effects.c.id)))
        (error,) = connection.scalars(
            sa.select(outbox_table.c.last_error).where(outbox_table.c.sequence == 3)
        )
    assert sequences == [1, 2, 3]
    assert "EarlierEventPendingError" in error
    assert "waits for the effect of an earlier event of its model" in error


def test_a_dead_earlier_event_does_not_hold_the_later_ones_back(engine):
    commit_events(engine, [7], transitions=2, receiver=IN_ORDER)
    first, second = _events_by_sequence(engine).values()
    with engine.begin() as connection:
        connection.execute(
            outbox_table.update()
            .where(outbox_table.c.event_id == first.event_id)
            .values(dead_at=sa.func.now())
        )
    assert deliver(engine, second, FAST) is Outcome.DONE


def test_relays_run_events_that_check_order_in_their_order(engine):
    ids = commit_events(engine, range(10), transitions=5, receiver=IN_ORDER)
    relay(engine, batch_size=64).drain(timeout=120)
    assert tally("checking order (SQLite)", ids, engine) == (50, 0, 0)

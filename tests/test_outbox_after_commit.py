"""Publishing after commit: the committing process publishes its own durable events,
relays publish what it does not (order, failures, a process that died)."""

from __future__ import annotations

import collections.abc as c
import contextlib
import json
import re
import subprocess
import sys
import threading
import time
import typing as t
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from celery import Celery
from sqlalchemy.orm import Session, sessionmaker

from statesignals import OutboxError
from statesignals.celery import CeleryPublisher
from statesignals.databases import engine_for
from statesignals.outbox import (
    DurableEvent,
    InProcessPublisher,
    OutboxRelay,
    Publisher,
    RetryPolicy,
    create_tables,
    outbox_table,
    publish_after_commit,
    status,
)
from statesignals.outbox.delivery import deliver
from statesignals.outbox.tables import NOTIFY_CHANNEL
from statesignals.testing import disconnect_all

from .outbox_models import Base, Parcel, count_shipment, new_parcel, notify_carrier
from .outbox_support import (
    PREFIX,
    ROOT,
    child_environment,
    drop_redis_queue,
    effect_counts,
    effects,
    postgres_database,
    redis_url,
    sqlite_database,
    tally,
    wait_for,
)
from .services import require_redis

NOTIFY_CARRIER = "tests.outbox_models:notify_carrier"
COUNT_SHIPMENT = "tests.outbox_models:count_shipment"
FAST = RetryPolicy(max_attempts=3, initial=0.01, maximum=0.05)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> c.Iterator[tuple[str, sa.Engine]]:
    if request.param == "sqlite":
        url, engine = sqlite_database(tmp_path)
        Base.metadata.create_all(engine)
        yield url, engine
        engine.dispose()
        return
    with postgres_database() as (url, engine):
        Base.metadata.create_all(engine)
        yield url, engine


@pytest.fixture
def engine(database: tuple[str, sa.Engine]) -> sa.Engine:
    return database[1]


@pytest.fixture
def sessions(engine: sa.Engine) -> sessionmaker[Session]:
    Parcel.on_commit("ship", durable=True)(notify_carrier)
    Parcel.on_commit("deliver", durable=True)(notify_carrier)
    return sessionmaker(engine)


def rows(engine: sa.Engine) -> list[sa.Row[t.Any]]:
    with engine.connect() as connection:
        return list(connection.execute(sa.select(outbox_table).order_by(outbox_table.c.id)))


def effect_sequences(engine: sa.Engine) -> list[int]:
    with engine.connect() as connection:
        return list(connection.scalars(sa.select(effects.c.sequence).order_by(effects.c.id)))


def relay(engine: sa.Engine) -> OutboxRelay:
    return OutboxRelay(engine, InProcessPublisher(FAST), policy=FAST, poll_interval=0.05)


def unreachable_broker() -> CeleryPublisher:
    """A Celery publisher whose broker refuses every connection (nothing listens there)."""
    app = Celery("statesignals_unreachable", broker="redis://127.0.0.1:1/0", set_as_current=False)
    app.conf.broker_connection_retry_on_startup = False
    return CeleryPublisher(app)


def test_the_committing_process_publishes_its_events_without_a_relay(sessions, engine):
    key = new_parcel(sessions)
    with publish_after_commit(InProcessPublisher(FAST)) as publishing:
        with sessions() as session, session.begin():
            session.get_one(Parcel, key).ship(carrier="DHL")
        (row,) = rows(engine)
        assert row.published_at is not None
        assert row.claimed_by == publishing.name
        assert publishing.metrics.snapshot() == {"published": 1, "given_back": 0}
    assert tally("published after commit", [row.event_id], engine) == (1, 0, 0)
    with engine.connect() as connection:
        (aggregate,) = connection.scalars(sa.select(effects.c.aggregate))
    assert json.loads(aggregate) == {"state": "shipped", "carrier": "DHL"}


def test_each_durable_receiver_of_a_transition_gets_its_event(sessions, engine):
    Parcel.on_commit("ship", durable=True)(count_shipment)
    key = new_parcel(sessions)
    with (
        publish_after_commit(InProcessPublisher(FAST)) as publishing,
        sessions() as session,
        session.begin(),
    ):
        session.get_one(Parcel, key).ship()
    ids = [row.event_id for row in rows(engine)]
    assert [row.receiver for row in rows(engine)] == [NOTIFY_CARRIER, COUNT_SHIPMENT]
    assert publishing.metrics.published == 2
    assert tally("two receivers, published after commit", ids, engine) == (2, 0, 0)


def test_nothing_is_published_for_a_rolled_back_savepoint_or_transaction(sessions, engine):
    first, second = new_parcel(sessions), new_parcel(sessions)
    with publish_after_commit(InProcessPublisher(FAST)) as publishing:
        with sessions() as session, session.begin():
            savepoint = session.begin_nested()
            session.get_one(Parcel, first).ship()
            savepoint.rollback()
            session.get_one(Parcel, second).ship()
        with sessions() as session:
            session.begin()
            session.get_one(Parcel, first).ship()
            session.rollback()
    (row,) = rows(engine)
    assert json.loads(row.aggregate_id) == second
    assert publishing.metrics.published == 1
    assert tally("savepoint rolled back", [row.event_id], engine) == (1, 0, 0)


def test_an_event_behind_an_unpublished_one_of_its_model_is_left_to_relays(sessions, engine):
    key = new_parcel(sessions)
    with sessions() as session, session.begin():
        session.get_one(Parcel, key).ship()  # publishing after commit is off: a relay's
    with publish_after_commit(InProcessPublisher(FAST)) as publishing:
        with sessions() as session, session.begin():
            session.get_one(Parcel, key).deliver()
        earlier, later = rows(engine)
        assert (later.claim_token, later.published_at) == (None, None)
        assert publishing.metrics.published == 0
        assert effect_counts(engine) == {}
        assert relay(engine).drain(timeout=30) == 2
    assert effect_sequences(engine) == [earlier.sequence, later.sequence]
    assert tally("behind an unpublished event", [earlier.event_id, later.event_id], engine) == (
        2,
        0,
        0,
    )


class Gated(Publisher):
    """Runs receivers in-process once ``gate`` opens: a publication that takes a while."""

    def __init__(self) -> None:
        self.gate = threading.Event()

    def publish(self, event: DurableEvent, engine: sa.Engine) -> None:
        assert self.gate.wait(30)
        deliver(engine, event, FAST)


@pytest.fixture
def postgres() -> c.Iterator[tuple[str, sa.Engine]]:
    with postgres_database() as (url, engine):
        Base.metadata.create_all(engine)
        yield url, engine


def test_the_event_behind_one_published_after_commit_wakes_the_relays_when_due(postgres, tmp_path):
    url, engine = postgres
    sessions = sessionmaker(engine)
    Parcel.on_commit("ship", durable=True)(notify_carrier)
    Parcel.on_commit("deliver", durable=True)(notify_carrier)
    key = new_parcel(sessions)
    # A relay in a process of its own, which polls only once a minute: it hears the
    # commits' NOTIFY, and nothing else.
    log = tmp_path / "relay.log"
    with log.open("w") as output:
        relay_process = subprocess.Popen(
            [
                *(sys.executable, "-m", "statesignals", "relay", "--database", url),
                *("--in-process", "--poll-interval", "60", "--log-level", "INFO"),
            ],
            cwd=ROOT,
            env=child_environment(),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    publisher = Gated()
    try:
        wait_for(lambda: "started" in log.read_text(), "the relay to start")
        with publish_after_commit(publisher):

            def ship() -> None:
                with sessions() as session, session.begin():
                    session.get_one(Parcel, key).ship()

            shipping = threading.Thread(target=ship)
            shipping.start()  # committed, then held in its publication
            wait_for(lambda: len(rows(engine)) == 1, "the first event")
            with sessions() as session, session.begin():
                session.get_one(Parcel, key).deliver()  # behind it: left to the relay
            earlier, later = rows(engine)
            assert later.claim_token is None
            publisher.gate.set()
            shipping.join()
            # Long before the relay's next poll: marking the first one woke it.
            wait_for(lambda: len(effect_counts(engine)) == 2, "the later event", timeout=30)
    finally:
        publisher.gate.set()
        relay_process.terminate()
        relay_process.wait(timeout=30)
    assert effect_sequences(engine) == [earlier.sequence, later.sequence]
    ids = [earlier.event_id, later.event_id]
    assert tally("behind one published after commit", ids, engine) == (2, 0, 0)


def test_a_failed_publication_leaves_the_events_to_relays_and_pauses(sessions, engine):
    first, second = new_parcel(sessions), new_parcel(sessions)
    with publish_after_commit(unreachable_broker(), pause=60) as publishing:
        with sessions() as session, session.begin():
            session.get_one(Parcel, first).ship()
        (row,) = rows(engine)
        assert (row.claim_token, row.published_at) == (None, None)
        assert publishing.metrics.snapshot() == {"published": 0, "given_back": 1}
        assert publishing.paused
        # While paused, the next commit does not try the broker: its row is a relay's.
        with sessions() as session, session.begin():
            session.get_one(Parcel, second).ship()
        assert rows(engine)[1].claimed_by is None
        assert publishing.metrics.given_back == 1
    assert relay(engine).drain(timeout=30) == 2
    ids = [row.event_id for row in rows(engine)]
    assert tally("broker away after commit", ids, engine) == (2, 0, 0)


def test_a_transaction_that_outlasts_the_lease_leaves_its_events_to_relays(sessions, engine):
    key = new_parcel(sessions)
    with publish_after_commit(InProcessPublisher(FAST), lease=0.05) as publishing:
        with sessions() as session, session.begin():
            session.get_one(Parcel, key).ship()
            time.sleep(0.1)
        assert publishing.metrics.published == 0
        assert effect_counts(engine) == {}
    assert relay(engine).drain(timeout=30) == 1
    assert tally("transaction outlasted its lease", [rows(engine)[0].event_id], engine) == (1, 0, 0)


_DIES_AFTER_COMMIT = """
import os, signal, sys
from sqlalchemy.orm import sessionmaker
from statesignals.databases import engine_for
from statesignals.outbox import Publisher, publish_after_commit
from tests.outbox_models import Parcel, notify_carrier

class DiesBeforePublishing(Publisher):
    def publish(self, event, engine):
        os.kill(os.getpid(), signal.SIGKILL)

Parcel.on_commit("ship", durable=True)(notify_carrier)
sessions = sessionmaker(engine_for(sys.argv[1]))
publish_after_commit(DiesBeforePublishing(), lease=float(sys.argv[3]))
with sessions() as session, session.begin():
    session.get_one(Parcel, int(sys.argv[2])).ship()
"""


def test_events_of_a_process_killed_after_its_commit_are_published_by_a_relay(database, sessions):
    url, engine = database
    key = new_parcel(sessions)
    lease = 1.0
    died = subprocess.run(
        [sys.executable, "-c", _DIES_AFTER_COMMIT, url, str(key), str(lease)],
        cwd=ROOT,
        env=child_environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert died.returncode == -9, died.stderr
    (row,) = rows(engine)
    assert row.claim_token is not None and row.published_at is None
    assert relay(engine).drain(timeout=30) == 1
    assert tally("killed between commit and publish", [row.event_id], engine) == (1, 0, 0)


def test_publishing_after_commit_is_on_once_per_process(sessions, engine):
    with (
        publish_after_commit(InProcessPublisher(FAST)) as publishing,
        pytest.raises(OutboxError, match="publishing after commit is on already"),
    ):
        publish_after_commit(InProcessPublisher(FAST))
    with publish_after_commit(InProcessPublisher(FAST)) as again:
        assert again is not publishing


NOT_A_PUBLISHER = "publish_after_commit needs a statesignals.outbox.Publisher"


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        (
            {"publisher": Celery("shop", set_as_current=False)},
            "needs a statesignals.outbox.Publisher",
        ),
        ({"publisher": InProcessPublisher}, "needs a statesignals.outbox.Publisher"),
        ({"publisher": None}, "needs a statesignals.outbox.Publisher"),
        ({"lease": 0}, "lease must be a positive number of seconds, not 0"),
        ({"lease": float("inf")}, "lease must be a positive number of seconds, not inf"),
        ({"lease": float("nan")}, "lease must be a positive number of seconds, not nan"),
        ({"lease": "10"}, "lease must be a positive number of seconds, not '10'"),
        ({"pause": -1}, "pause must be a number of seconds, 0 or more, not -1"),
        ({"pause": None}, "pause must be a number of seconds, 0 or more, not None"),
    ],
)
def test_publish_after_commit_refuses_what_it_cannot_use(arguments, problem):
    options = {"publisher": InProcessPublisher(FAST), **arguments}
    with pytest.raises(OutboxError, match=re.escape(problem)):
        publish_after_commit(**options)
    with publish_after_commit(InProcessPublisher(FAST)):  # and nothing was left on
        pass


def _forget_example_modules() -> None:
    package = sys.modules.get("examples.outbox")
    for name in [name for name in sys.modules if name.startswith("examples.outbox.")]:
        del sys.modules[name]
        if package is not None and hasattr(package, name.rsplit(".", 1)[1]):
            delattr(package, name.rsplit(".", 1)[1])


@pytest.fixture
def example_modules() -> c.Iterator[None]:
    """The shop example imported afresh for this test, and forgotten after it: its
    durable receiver is connected when its module is imported, and the suite
    disconnects every receiver after each test (the docs' doctest imports it too)."""
    _forget_example_modules()
    yield
    _forget_example_modules()


@pytest.mark.usefixtures("example_modules")
def test_the_shop_example_publishes_its_events_to_a_worker_without_a_relay(tmp_path):
    broker = redis_url(require_redis())
    queue = f"{PREFIX}_{uuid.uuid4().hex[:8]}"
    database = f"sqlite:///{tmp_path / 'shop.db'}"
    from examples.outbox import publishing, shop, tasks

    tasks.app.conf.update(broker_url=broker, task_default_queue=queue)
    engine = engine_for(database)
    shop.Base.metadata.create_all(engine)
    create_tables(engine)
    sessions = sessionmaker(engine)
    with sessions.begin() as session:
        order = shop.Order()
        session.add(order)
        session.flush()
        order.pay()
        key = order.id
    log = tmp_path / "worker.log"
    with log.open("w") as output:
        worker = subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "examples.outbox.tasks", "worker"),
                *("-Q", queue, "--concurrency=1", "--loglevel=INFO"),
                *("--without-gossip", "--without-mingle", "--without-heartbeat"),
            ],
            cwd=ROOT,
            env=child_environment(SHOP_BROKER=broker, SHOP_DATABASE=database, SHOP_QUEUE=queue),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        with publishing.start_publishing() as publishing_now:
            publishing.ship(sessions, key, "DHL")
            assert publishing_now.metrics.published == 1

        def parcels() -> list[tuple[int, str]]:
            with engine.connect() as connection:
                query = sa.select(shop.Parcel.order_id, shop.Parcel.carrier)
                return [(row.order_id, row.carrier) for row in connection.execute(query)]

        wait_for(lambda: parcels() != [], f"the worker's parcel (log: {log})")
        assert parcels() == [(key, "DHL")]
        with engine.connect() as connection:
            assert status(connection).published == 1
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        drop_redis_queue(broker, queue)
        engine.dispose()


class Recording(Publisher):
    """Keeps what it was given to publish."""

    def __init__(self) -> None:
        self.events: list[DurableEvent] = []

    def publish(self, event: DurableEvent, engine: sa.Engine) -> None:
        self.events.append(event)


def test_a_session_joined_to_an_outer_transaction_leaves_its_events_to_relays(sessions, engine):
    key = new_parcel(sessions)
    recording = Recording()
    with publish_after_commit(recording), engine.connect() as connection:
        outer = connection.begin()
        with Session(bind=connection) as session:
            session.get_one(Parcel, key).ship()
            session.commit()  # the session's commit: the database's is the outer one's
            (row,) = rows_in(connection)
            assert row.claim_token is None
        outer.rollback()
    assert recording.events == []
    assert rows(engine) == []


def rows_in(connection: sa.Connection) -> list[sa.Row[t.Any]]:
    return list(connection.execute(sa.select(outbox_table).order_by(outbox_table.c.id)))


def test_a_model_moved_before_it_was_in_a_session_leaves_its_event_to_relays(sessions, engine):
    with publish_after_commit(InProcessPublisher(FAST)) as publishing:
        with sessions() as session, session.begin():
            parcel = Parcel()
            parcel.ship(carrier="DHL")  # not in a session yet: committed as it returns
            session.add(parcel)
        (row,) = rows(engine)
        assert row.claim_token is None  # due at once, not leased to nobody
        assert publishing.metrics.published == 0
    assert relay(engine).drain(timeout=30) == 1
    assert tally("moved before it was in a session", [row.event_id], engine) == (1, 0, 0)


def test_events_claimed_before_stop_are_published_when_they_commit(sessions, engine):
    key = new_parcel(sessions)
    publishing = publish_after_commit(InProcessPublisher(FAST))
    with sessions() as session, session.begin():
        session.get_one(Parcel, key).ship()
        publishing.stop()
    (row,) = rows(engine)
    assert row.published_at is not None
    assert tally("claimed before stop", [row.event_id], engine) == (1, 0, 0)


def test_a_stopped_publishing_claims_nothing_more(sessions, engine):
    first, second = new_parcel(sessions), new_parcel(sessions)
    old = Recording()
    publishing = publish_after_commit(old)

    def stop_during_the_claiming_insert(*arguments: t.Any) -> None:
        statement, parameters = arguments[2], arguments[3]
        if "INSERT INTO statesignals_outbox" in statement and publishing.name in str(parameters):
            publishing.stop()  # from another thread, say, while the flush writes

    sa.event.listen(engine, "before_cursor_execute", stop_during_the_claiming_insert)
    with sessions() as session, session.begin():
        session.get_one(Parcel, first).ship()
    sa.event.remove(engine, "before_cursor_execute", stop_during_the_claiming_insert)
    assert len(old.events) == 1  # claimed as it stopped: published by it
    new = Recording()
    with publish_after_commit(new), sessions() as session, session.begin():
        session.get_one(Parcel, second).ship()
    assert (len(old.events), len(new.events)) == (1, 1)


def test_publishing_goes_on_after_every_receiver_was_disconnected(engine):
    sessions = sessionmaker(engine)
    first, second = new_parcel(sessions), new_parcel(sessions)
    with publish_after_commit(InProcessPublisher(FAST)) as publishing:
        Parcel.on_commit("ship", durable=True)(notify_carrier)
        with sessions() as session, session.begin():
            session.get_one(Parcel, first).ship()
        disconnect_all()  # between two tests of an application's suite
        Parcel.on_commit("ship", durable=True)(notify_carrier)
        with sessions() as session, session.begin():
            session.get_one(Parcel, second).ship()
        assert publishing.metrics.published == 2
    assert all(row.published_at is not None for row in rows(engine))


@contextlib.contextmanager
def notifications(url: str) -> c.Iterator[c.Callable[[], int]]:
    """A connection listening to the relays' channel; the callable counts what arrived."""
    import psycopg

    listener = psycopg.connect(
        sa.make_url(url).set(drivername="postgresql").render_as_string(False), autocommit=True
    )
    listener.execute(f"LISTEN {NOTIFY_CHANNEL}")

    def arrived() -> int:
        return sum(1 for _ in listener.notifies(timeout=0.5))

    try:
        yield arrived
    finally:
        listener.close()


def test_rows_claimed_as_they_are_written_do_not_wake_the_relays(postgres):
    url, engine = postgres
    sessions = sessionmaker(engine)
    Parcel.on_commit("ship", durable=True)(notify_carrier)
    first, second = new_parcel(sessions), new_parcel(sessions)
    with notifications(url) as arrived:
        with publish_after_commit(InProcessPublisher(FAST)) as publishing:
            with sessions() as session, session.begin():
                session.get_one(Parcel, first).ship()
            assert publishing.metrics.published == 1
        assert arrived() == 0
        with sessions() as session, session.begin():
            session.get_one(Parcel, second).ship()  # for the relays: it wakes them
        assert arrived() == 1


def _outlasting_its_lease(sessions: sessionmaker[Session], key: int, lease: float) -> None:
    with (
        publish_after_commit(InProcessPublisher(FAST), lease=lease),
        sessions() as session,
        session.begin(),
    ):
        session.get_one(Parcel, key).ship()
        time.sleep(lease + 0.3)  # a slow query after the flush, say


def test_a_claim_whose_lease_ran_out_before_the_commit_wakes_the_relays(sessions, engine):
    key = new_parcel(sessions)
    waiting = OutboxRelay(engine, InProcessPublisher(FAST), policy=FAST, poll_interval=60)
    relay_thread = threading.Thread(target=waiting.run)
    relay_thread.start()
    try:
        _outlasting_its_lease(sessions, key, lease=0.3)
        # Long before the relay's next poll: its INSERT (claimed) woke nobody, the
        # commit that could not publish it did.
        wait_for(lambda: effect_counts(engine) != {}, "the relay to publish it", timeout=20)
    finally:
        waiting.stop()
        relay_thread.join()
    assert tally("lease ran out before the commit", [rows(engine)[0].event_id], engine) == (
        1,
        0,
        0,
    )


def test_a_claim_whose_lease_ran_out_before_the_commit_notifies_other_processes(postgres):
    url, engine = postgres
    sessions = sessionmaker(engine)
    Parcel.on_commit("ship", durable=True)(notify_carrier)
    key = new_parcel(sessions)
    with notifications(url) as arrived:
        _outlasting_its_lease(sessions, key, lease=0.3)
        (row,) = rows(engine)
        assert row.published_at is None  # the relays' to publish
        assert arrived() == 1

"""Durable receivers on real Celery workers: Redis, RabbitMQ, and Kombu's SQLAlchemy
transport (no broker server at all), with the faults the outbox is there to survive.

Each fault test ends by printing its count: N events in, N effects out, 0 lost,
0 doubled.
"""

from __future__ import annotations

import collections.abc as c
import os
import signal
import socket
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
from sqlalchemy.orm import sessionmaker

from statesignals.celery import TASK_NAME, CeleryPublisher
from statesignals.outbox import (
    OutboxRelay,
    RetryPolicy,
    outbox_table,
    publish_after_commit,
    status,
)

from .outbox_models import Base, Parcel, count_shipment
from .outbox_support import (
    FAILS,
    PREFIX,
    REDIS_DB,
    ROOT,
    Worker,
    child_environment,
    commit_events,
    drop_redis_queue,
    effect_counts,
    effect_sequences_by_model,
    redis_client,
    redis_url,
    sqlite_database,
    tally,
    wait_for,
)
from .services import require_rabbitmq, require_redis


def publisher_app(broker: str) -> Celery:
    app = Celery(f"{PREFIX}_publisher", broker=broker, set_as_current=False)
    app.conf.broker_connection_retry_on_startup = False
    return app


@pytest.fixture
def queue() -> str:
    return f"{PREFIX}_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def database(tmp_path: Path) -> c.Iterator[tuple[str, sa.Engine]]:
    url, engine = sqlite_database(tmp_path)
    yield url, engine
    engine.dispose()


def redis_idle(url: str, queue: str) -> bool:
    """Nothing waiting in the queue and nothing delivered but unacknowledged."""
    client = redis_client(url)
    try:
        return bool(client.llen(queue) == 0 and client.hlen("unacked") == 0)
    finally:
        client.close()


@pytest.fixture
def redis_broker(queue: str) -> c.Iterator[str]:
    url = redis_url(require_redis())
    yield url
    drop_redis_queue(url, queue)


def relay_for(engine: sa.Engine, broker: str, queue: str, **options: t.Any) -> OutboxRelay:
    options.setdefault("poll_interval", 0.05)
    return OutboxRelay(engine, CeleryPublisher(publisher_app(broker), queue=queue), **options)


def run_through_worker(
    broker: str,
    queue: str,
    tmp_path: Path,
    url: str,
    engine: sa.Engine,
    label: str,
    models: int = 25,
    command_line: bool = False,
) -> None:
    ids = commit_events(engine, range(models), transitions=2)
    with Worker(broker, url, queue, tmp_path):
        if command_line:
            relay = subprocess.run(
                [
                    *(sys.executable, "-m", "statesignals", "relay", "--database", url),
                    "--drain",
                    *("--celery", "tests.outbox_worker_app:app", "--queue", queue),
                    *("--poll-interval", "0.05"),
                ],
                cwd=ROOT,
                env=child_environment(STATESIGNALS_TEST_BROKER=broker),
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert relay.returncode == 0, relay.stderr
            published = int(relay.stdout.split("'published': ")[1].split(",")[0])
        else:
            published = relay_for(engine, broker, queue).drain(timeout=60)
        wait_for(lambda: sum(effect_counts(engine).values()) >= len(ids), "every effect")
    assert published == len(ids)
    assert tally(label, ids, engine) == (len(ids), 0, 0)


def test_worker_on_redis_runs_every_event_once(redis_broker, queue, tmp_path, database):
    url, engine = database
    run_through_worker(redis_broker, queue, tmp_path, url, engine, "Redis worker")


def test_worker_on_rabbitmq_runs_every_event_once(queue, tmp_path, database):
    broker = require_rabbitmq()
    url, engine = database
    try:
        # Relayed by the command, as operators run it.
        run_through_worker(
            broker, queue, tmp_path, url, engine, "RabbitMQ worker", command_line=True
        )
    finally:
        with publisher_app(broker).connection_for_write() as connection:
            channel = connection.default_channel
            channel.queue_delete(queue)
            channel.exchange_delete(queue)


def test_worker_on_kombu_sqlalchemy_transport_needs_no_broker_server(queue, tmp_path, database):
    url, engine = database
    broker = f"sqla+sqlite:///{tmp_path / 'broker.db'}"
    # The transport polls a table: a few events show it works end to end.
    run_through_worker(broker, queue, tmp_path, url, engine, "Kombu SQLAlchemy transport", models=5)


def test_tasks_carry_the_event_id_as_task_id_and_json_bodies(redis_broker, queue, database):
    _, engine = database
    (event_id,) = commit_events(engine, [1])
    relay_for(engine, redis_broker, queue).drain(timeout=30)
    client = redis_client(redis_broker)
    try:
        import json

        (raw,) = client.lrange(queue, 0, -1)
    finally:
        client.close()
    message = json.loads(raw)
    assert message["headers"]["id"] == event_id
    assert message["headers"]["task"] == TASK_NAME
    assert message["content-type"] == "application/json"


def test_events_of_each_model_take_effect_in_sequence_order(redis_broker, queue, tmp_path):
    from sqlalchemy.orm import Session

    from statesignals import transition_committed

    from .outbox_models import Base, Parcel, count_shipment

    url, engine = sqlite_database(tmp_path)
    Base.metadata.create_all(engine)
    transition_committed.connect_durable(Parcel)(count_shipment)
    with Session(engine) as session, session.begin():
        parcels = [Parcel() for _ in range(100)]
        session.add_all(parcels)
        session.flush()
        keys = [parcel.id for parcel in parcels]
    relay = relay_for(engine, redis_broker, queue)
    relaying = threading.Thread(target=relay.run)
    with Worker(redis_broker, url, queue, tmp_path):
        relaying.start()
        try:
            # Commits and publication interleave: the relay runs all along.
            for _ in range(10):
                for key in keys:
                    with Session(engine) as session, session.begin():
                        session.get_one(Parcel, key).advance()
            wait_for(lambda: sum(effect_counts(engine).values()) >= 1000, "every effect", 120)
        finally:
            relay.stop()
            relaying.join()
    observed = effect_sequences_by_model(engine)
    with engine.connect() as connection:
        ids = list(connection.execute(sa.select(outbox_table.c.event_id)).scalars())
    assert len(observed) == 100
    out_of_order = [key for key, seen in observed.items() if seen != list(range(2, 12))]
    print(f"\nordering: {len(observed)} models, {len(out_of_order)} with effects out of order")
    assert out_of_order == []
    assert tally("ordering, 100 models x 10 transitions (Redis worker)", ids, engine) == (
        1000,
        0,
        0,
    )
    engine.dispose()


def test_a_receiver_that_always_raises_on_a_worker_is_dead_lettered(
    redis_broker, queue, tmp_path, database
):
    url, engine = database
    failing = commit_events(engine, [1, 2], receiver=FAILS)
    working = commit_events(engine, range(3, 23))
    with Worker(redis_broker, url, queue, tmp_path):
        relay = relay_for(engine, redis_broker, queue)
        relaying = threading.Thread(target=relay.run)
        relaying.start()
        try:
            # The worker records each failure on the row; the relay publishes it again
            # until the worker's policy (3 attempts) dead-letters it.
            wait_for(lambda: dead_count(engine) == 2, "both failing events to be dead")
            wait_for(lambda: sum(effect_counts(engine).values()) >= 20, "the other effects")
        finally:
            relay.stop()
            relaying.join()
    with engine.connect() as connection:
        attempts = connection.execute(
            sa.select(outbox_table.c.attempts).where(outbox_table.c.dead_at.is_not(None))
        ).scalars()
        assert list(attempts) == [3, 3]
    print(f"\nreceiver that always raises (worker): {len(failing)} dead-lettered after 3 attempts")
    assert tally("receiver that always raises (worker): the others", working, engine) == (
        20,
        0,
        0,
    )


def dead_count(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return status(connection).dead


# Faults.


KILL_RELAY = """
import os, signal, sys
from statesignals.celery import CeleryPublisher
from statesignals.databases import engine_for
from statesignals.outbox import OutboxRelay
from celery import Celery

class KilledAfterPublishing(CeleryPublisher):
    def publish_all(self, events, engine):
        super().publish_all(events, engine)
        # Between publishing and marking published: the worst moment to die.
        os.kill(os.getpid(), signal.SIGKILL)

database, broker, queue = sys.argv[1:4]
app = Celery("killed_relay", broker=broker)
OutboxRelay(engine_for(database), KilledAfterPublishing(app, queue=queue), lease=1.0).drain()
"""


def test_relay_killed_between_publish_and_mark(redis_broker, queue, tmp_path, database):
    url, engine = database
    ids = commit_events(engine, range(40))
    killed = subprocess.run(
        [sys.executable, "-c", KILL_RELAY, url, redis_broker, queue],
        cwd=ROOT,
        env=child_environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    with engine.connect() as connection:
        assert status(connection).published == 0  # published, never marked
    with Worker(redis_broker, url, queue, tmp_path):
        # Once the dead relay's lease runs out, another publishes the rows again.
        relay_for(engine, redis_broker, queue, lease=1.0).drain(timeout=60)
        wait_for(lambda: sum(effect_counts(engine).values()) >= len(ids), "every effect")
        wait_for(lambda: redis_idle(redis_broker, queue), "the second copies to be consumed")
    assert tally("relay SIGKILLed between publish and mark", ids, engine) == (len(ids), 0, 0)


def test_worker_killed_during_a_task(redis_broker, queue, tmp_path, database):
    url, engine = database
    ids = commit_events(engine, range(10))
    hold = tmp_path / "hold"
    hold.touch()
    with Worker(redis_broker, url, queue, tmp_path):
        relay_for(engine, redis_broker, queue).drain(timeout=60)
        wait_for(lambda: any(tmp_path.glob("started-*")), "a task to start")
        (started,) = tmp_path.glob("started-*")
        pid = int(started.name.removeprefix("started-"))
        os.kill(pid, signal.SIGKILL)  # the pool process running the receiver
        hold.unlink()
        wait_for(lambda: sum(effect_counts(engine).values()) >= len(ids), "every effect")
        wait_for(lambda: redis_idle(redis_broker, queue), "the queue to empty")
    counts = effect_counts(engine)
    assert counts[started.read_text()] == 1  # the killed task ran again, to completion
    assert tally("worker SIGKILLed during a task", ids, engine) == (len(ids), 0, 0)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class OwnRedis:
    """A redis-server of the test's own (on a free port), to stop and start at will."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_for(self._up, "the test's redis-server to accept connections", timeout=20)

    def _up(self) -> bool:
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None


@pytest.fixture
def own_redis(tmp_path: Path) -> c.Iterator[tuple[OwnRedis, str]]:
    """A redis-server of the test's own, started, and the broker URL into it."""
    require_redis()
    broker_dir = tmp_path / "redis"
    broker_dir.mkdir()
    broker = OwnRedis(broker_dir)
    broker.start()
    try:
        yield broker, f"redis://127.0.0.1:{broker.port}/{REDIS_DB}"
    finally:
        broker.stop()


def test_broker_stopped_while_events_keep_committing(queue, tmp_path, database, own_redis):
    url, engine = database
    broker, broker_url = own_redis
    ids: list[str] = []
    # A broker that stops can lose what it had handed out: published again after 8 s.
    relay = relay_for(
        engine,
        broker_url,
        queue,
        policy=RetryPolicy(initial=0.2, maximum=2.0),
        republish_after=8.0,
    )
    relaying = threading.Thread(target=relay.run)
    try:
        with Worker(broker_url, url, queue, tmp_path):
            relaying.start()
            for batch in range(12):
                ids += commit_events(engine, range(batch * 5, batch * 5 + 5))
                if batch == 3:
                    broker.stop()
                    outage = time.monotonic()
                if batch == 9:
                    time.sleep(max(0.0, 4.0 - (time.monotonic() - outage)))
                    broker.start()  # same port, same append-only file
                time.sleep(0.2)
            wait_for(lambda: sum(effect_counts(engine).values()) >= len(ids), "every effect", 90)
            wait_for(lambda: redis_idle(broker_url, queue), "the queue to empty")
    finally:
        relay.stop()
        if relaying.is_alive():
            relaying.join()
    assert relay.metrics.failed > 0  # the outage was seen, and backed off from
    assert tally("broker stopped for 4 s while committing", ids, engine) == (len(ids), 0, 0)


def test_broker_away_when_a_task_acknowledges(queue, tmp_path, database, own_redis):
    """A worker whose whole prefetch is one task finishing while Redis is down."""
    url, engine = database
    broker, broker_url = own_redis
    ids = commit_events(engine, range(1))
    hold = tmp_path / "hold"
    hold.touch()
    with Worker(broker_url, url, queue, tmp_path) as worker:
        relay_for(engine, broker_url, queue).drain(timeout=60)
        wait_for(lambda: any(tmp_path.glob("started-*")), "the task to start")
        broker.stop()
        hold.unlink()  # the receiver commits; its acknowledgement finds no broker
        wait_for(
            lambda: any(
                failure in worker.log_file.read_text()
                for failure in ("Couldn't ack", "could not acknowledge")
            ),
            "the acknowledgement to fail",
        )
        broker.start()  # same port, same append-only file
        ids += commit_events(engine, range(1, 6))
        relay_for(engine, broker_url, queue).drain(timeout=60)
        wait_for(lambda: sum(effect_counts(engine).values()) >= len(ids), "every effect")
        wait_for(lambda: redis_idle(broker_url, queue), "the queue to empty")
    assert tally("broker away when a task acknowledged", ids, engine) == (len(ids), 0, 0)


def test_worker_whose_database_is_away_retries_until_it_is_back(redis_broker, queue, tmp_path):
    from .outbox_support import postgres_database

    with postgres_database() as (url, engine):
        name = sa.make_url(url).database
        ids = commit_events(engine, range(10))
        relay_for(engine, redis_broker, queue).drain(timeout=60)  # all on the broker now
        engine.dispose()
        admin = sa.create_engine(
            sa.make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as connection:
            connection.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        try:
            with Worker(redis_broker, url, queue, tmp_path) as worker:
                # Neither effect nor failure can be recorded: the tasks must come back.
                wait_for(
                    lambda: "Retry in" in worker.log_file.read_text(), "the tasks to be retried"
                )
                with admin.connect() as connection:
                    connection.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
                wait_for(lambda: sum(effect_counts(engine).values()) >= len(ids), "every effect")
                wait_for(lambda: redis_idle(redis_broker, queue), "the queue to empty")
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            admin.dispose()
        assert tally("worker's database away, then back", ids, engine) == (len(ids), 0, 0)


def test_events_published_after_commit_run_once_on_a_redis_worker(
    redis_broker, queue, tmp_path, database
):
    url, engine = database
    Base.metadata.create_all(engine)
    Parcel.on_commit("ship", durable=True)(count_shipment)
    sessions = sessionmaker(engine)
    with sessions() as session, session.begin():
        parcels = [Parcel() for _ in range(20)]
        session.add_all(parcels)
        session.flush()
        keys = [parcel.id for parcel in parcels]
    publisher = CeleryPublisher(publisher_app(redis_broker), queue=queue)
    with Worker(redis_broker, url, queue, tmp_path), publish_after_commit(publisher) as publishing:
        for key in keys:
            with sessions() as session, session.begin():
                session.get_one(Parcel, key).ship()
        with engine.connect() as connection:
            ids = list(connection.scalars(sa.select(outbox_table.c.event_id)))
        wait_for(lambda: sum(effect_counts(engine).values()) >= len(ids), "every effect")
    assert publishing.metrics.published == len(ids) == len(keys)
    with engine.connect() as connection:
        assert status(connection).published == len(ids)
    assert tally("Redis worker, published after commit", ids, engine) == (len(ids), 0, 0)


def test_effects_that_check_order_follow_it_on_four_worker_processes(redis_broker, queue, tmp_path):
    from statesignals import transition_committed

    from .outbox_support import postgres_database, record_in_order

    transition_committed.connect_durable(Parcel)(record_in_order)
    with postgres_database() as (url, engine):
        Base.metadata.create_all(engine)
        sessions = sessionmaker(engine)
        with sessions.begin() as session:
            parcels = [Parcel() for _ in range(30)]
            session.add_all(parcels)
            session.flush()
            keys = [parcel.id for parcel in parcels]
        relay = relay_for(engine, redis_broker, queue)
        relaying = threading.Thread(target=relay.run)
        publisher = CeleryPublisher(publisher_app(redis_broker), queue=queue)
        with (
            Worker(redis_broker, url, queue, tmp_path, concurrency=4, max_attempts=50),
            publish_after_commit(publisher),
        ):
            relaying.start()
            try:
                # Each model's events follow each other closely, and four processes
                # take them: without check_order two of them would run at once.
                for key in keys:
                    for _ in range(5):
                        with sessions.begin() as session:
                            session.get_one(Parcel, key).advance()
                wait_for(lambda: sum(effect_counts(engine).values()) >= 150, "every effect", 120)
            finally:
                relay.stop()
                relaying.join()
        observed = effect_sequences_by_model(engine)
        with engine.connect() as connection:
            ids = list(connection.scalars(sa.select(outbox_table.c.event_id)))
        assert [key for key, seen in observed.items() if seen != [2, 3, 4, 5, 6]] == []
        label = "checking order, 30 models x 5 transitions (4 worker processes)"
        assert tally(label, ids, engine) == (150, 0, 0)

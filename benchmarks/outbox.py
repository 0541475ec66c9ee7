"""Lines for durable receivers: what the outbox row costs a trigger, how fast a relay
publishes, how long from commit to the receiver starting on a worker.

Each is measured against what one would write by hand, in the same run: the same
trigger with a hand-written outbox INSERT, a plain ``send_task`` loop to the same
broker, a plain Celery task on the same worker. The broker lines need Redis (DB 5 and
queues of their own, deleted afterwards) and are reported as missing without it.
"""

from __future__ import annotations

import collections.abc as c
import contextlib
import datetime as dt
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import typing as t
import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from statesignals import Trigger
from statesignals.databases import engine_for
from statesignals.outbox import (
    DurableEvent,
    OutboxRelay,
    create_tables,
    outbox_table,
    publish_after_commit,
)
from statesignals.outbox.durable import DurableRoute, disconnect_durable, outbox_rows
from statesignals.sqlalchemy import PersistedWorkflow, state_column

from .timing import Statement, compare

if t.TYPE_CHECKING:
    from .suite import Row

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("STATESIGNALS_BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
QUEUE_PREFIX = "statesignals_outbox_bench"


class Base(DeclarativeBase):
    pass


TOGGLE_TRANSITIONS = [
    {"trigger": "flip", "source": "off", "dest": "on"},
    {"trigger": "flip", "source": "on", "dest": "off"},
]


class DurableToggle(PersistedWorkflow, Base):
    """A persisted workflow with one durable receiver (connected while a line runs)."""

    __tablename__ = "bench_durable_toggles"
    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = state_column()
    states = ["off", "on"]
    initial = "off"
    transitions = TOGGLE_TRANSITIONS
    flip: Trigger


class PlainToggle(PersistedWorkflow, Base):
    """The same workflow without durable receivers: the anchor writes its row by hand."""

    __tablename__ = "bench_plain_toggles"
    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = state_column()
    states = DurableToggle.states
    initial = "off"
    transitions = TOGGLE_TRANSITIONS
    flip: Trigger


started = sa.Table(
    "bench_started",
    Base.metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("started_at", sa.Float, nullable=False),
)
"""When each receiver or task started (wall clock), by what it was about."""


def record_start(event: DurableEvent, session: Session) -> None:
    """The durable receiver of the latency line: notes when it started."""
    now = time.time()
    session.execute(started.insert().values(key=f"durable-{event.primary_key}", started_at=now))


RECEIVER = "benchmarks.outbox:record_start"


def _database() -> tuple[str, sa.Engine]:
    url = f"sqlite:///{tempfile.mkdtemp(prefix='statesignals-bench-')}/outbox.db"
    engine = engine_for(url)
    Base.metadata.create_all(engine)
    create_tables(engine)
    return url, engine


POSTGRES_URL = os.environ.get(
    "STATESIGNALS_BENCH_POSTGRES_URL", "postgresql+psycopg://127.0.0.1:5432/postgres"
)


@contextlib.contextmanager
def _server_database() -> c.Iterator[tuple[str, sa.Engine]]:
    """A PostgreSQL database of the benchmark's own (dropped afterwards), else SQLite.

    Workers and relays in other processes write the outbox beside the application:
    that is PostgreSQL's case (row locks, NOTIFY), where SQLite's single write lock
    would measure its own queueing instead.
    """
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            name = f"{QUEUE_PREFIX}_{uuid.uuid4().hex[:8]}"
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError:
        admin.dispose()
        yield _database()
        return
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    engine = engine_for(url)
    try:
        Base.metadata.create_all(engine)
        create_tables(engine)
        yield url, engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _hand_written_row(model: t.Any) -> dict[str, t.Any]:
    """The outbox row a developer would INSERT by hand for one transition."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return {
        "event_id": str(uuid.uuid4()),
        "transition_id": str(uuid.uuid4()),
        "aggregate_type": "benchmarks.outbox:PlainToggle",
        "aggregate_id": json.dumps(model.id),
        "sequence": model.version,
        "trigger": "flip",
        "source": "off",
        "dest": "on",
        "payload": json.dumps({"args": [], "kwargs": {"by": "bench"}}),
        "receiver": RECEIVER,
        "attempts": 0,
        "occurred_at": now,
        "available_at": now,
    }


def durable_trigger_commit(rounds: int) -> Row:
    """Trigger + commit with one durable receiver vs a hand-written outbox INSERT."""
    from .suite import Target, timed_row

    _, engine = _database()
    sessions = sessionmaker(engine)
    with sessions() as session, session.begin():
        durable, plain = DurableToggle(), PlainToggle()
        session.add_all([durable, plain])
        session.flush()
        keys = {"durable": durable.id, "plain": plain.id}
    DurableToggle.on_commit("flip", durable=True)(record_start)
    subject = Statement(
        "with S() as s, s.begin():\n    s.get(M, k).flip(by='bench')",
        {"S": sessions, "M": DurableToggle, "k": keys["durable"]},
    )
    anchor = Statement(
        "with S() as s, s.begin():\n"
        "    m = s.get(M, k)\n"
        "    m.flip(by='bench')\n"
        "    s.execute(insert, row(m))",
        {
            "S": sessions,
            "M": PlainToggle,
            "k": keys["plain"],
            "insert": outbox_table.insert(),
            "row": _hand_written_row,
        },
    )
    try:
        comparison = compare(subject, anchor, min(rounds, 21))
    finally:
        disconnect_durable(record_start)
        engine.dispose()
    return timed_row(
        "trigger + commit, one durable receiver (SQLite)",
        "outbox row written by statesignals",
        "hand-written outbox INSERT",
        comparison,
        Target(max_ratio=1.15),
    )


# Broker lines.


def _redis_reachable() -> bool:
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        client.ping()
        client.close()
    except redis.RedisError:
        return False
    return True


@contextlib.contextmanager
def _queue() -> c.Iterator[str]:
    import redis

    name = f"{QUEUE_PREFIX}_{uuid.uuid4().hex[:8]}"
    try:
        yield name
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        client.delete(name, f"_kombu.binding.{name}", f"_kombu.binding_permanent.{name}")
        client.close()


def _celery_app() -> t.Any:
    from celery import Celery

    app = Celery("statesignals_bench", broker=REDIS_URL, set_as_current=False)
    app.conf.broker_connection_retry_on_startup = False
    return app


def _commit_rows(engine: sa.Engine, count: int) -> list[dict[str, t.Any]]:
    """``count`` committed outbox rows (one per model, as many models commit at once)."""
    routes = [DurableRoute(DurableToggle, None, RECEIVER)]
    rows: list[dict[str, t.Any]] = []
    for number in range(count):
        rows += outbox_rows(
            routes,
            model_class=DurableToggle,
            primary_key=number,
            sequence=2,
            trigger="flip",
            source="off",
            dest="on",
            transition_id=uuid.uuid4(),
            occurred_at=dt.datetime.now(dt.UTC),
            payload=json.dumps({"args": [], "kwargs": {}}),
        )
    with engine.begin() as connection:
        connection.execute(outbox_table.insert(), rows)
    return rows


def relay_throughput(rounds: int) -> Row:
    """The relay publishing to Redis-backed Celery vs a plain ``send_task`` loop."""
    from celery import Celery  # noqa: F401  (the celery extra must be there)

    from statesignals.celery import TASK_NAME, CeleryPublisher

    from .suite import Row, missing_row

    measure = "relay throughput to Redis Celery (time per event)"
    if not _redis_reachable():
        return missing_row(measure, "OutboxRelay", "send_task loop", f"no Redis at {REDIS_URL}")
    count = 1000
    _, engine = _database()
    app = _celery_app()
    relay_times: list[float] = []
    plain_times: list[float] = []
    with _queue() as queue:
        publisher = CeleryPublisher(app, queue=queue)
        for round_number in range(min(rounds, 7)):
            ids = [row["event_id"] for row in _commit_rows(engine, count)]
            with engine.connect() as connection:
                committed = connection.execute(
                    sa.select(outbox_table).where(outbox_table.c.event_id.in_(ids))
                )
                # The same messages the relay sends, for the loop to send by hand.
                messages = [{"event": DurableEvent.from_row(row).to_message()} for row in committed]

            def by_relay() -> float:
                began = time.perf_counter()
                OutboxRelay(engine, publisher, batch_size=100, poll_interval=0.01).drain()
                return time.perf_counter() - began

            def by_hand(messages: list[dict[str, t.Any]] = messages) -> float:
                began = time.perf_counter()
                for message in messages:
                    app.send_task(
                        TASK_NAME,
                        kwargs=message,
                        task_id=message["event"]["event_id"],
                        queue=queue,
                        serializer="json",
                    )
                return time.perf_counter() - began

            # Turn about, so a slow moment of the shared machine hits both alike.
            if round_number % 2:
                plain_times.append(by_hand())
                relay_times.append(by_relay())
            else:
                relay_times.append(by_relay())
                plain_times.append(by_hand())
            import redis

            client = redis.Redis.from_url(REDIS_URL)
            client.delete(queue)
            client.close()
    engine.dispose()
    subject = statistics.median(relay_times) / count * 1e9
    anchor = statistics.median(plain_times) / count * 1e9
    ratio = statistics.median(r / p for r, p in zip(relay_times, plain_times, strict=True))
    return Row(
        measure=measure,
        subject="OutboxRelay + CeleryPublisher, SQLite outbox",
        anchor="plain send_task loop, same broker",
        unit="ns",
        subject_value=subject,
        anchor_value=anchor,
        ratio=ratio,
        target="<= 1.25x (throughput >= 0.8x)",
        met=ratio <= 1.25,
    )


class _Process:
    """A process of the benchmark's (a worker, a relay), logging to ``directory``."""

    def __init__(self, name: str, command: list[str], database: str, queue: str, directory: Path):
        self._log = (directory / f"{name}.log").open("w")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
        env.update(
            STATESIGNALS_BENCH_BROKER=REDIS_URL,
            STATESIGNALS_BENCH_DATABASE=database,
            STATESIGNALS_BENCH_QUEUE=queue,
            STATESIGNALS_BENCH_READY=str(directory / f"{name}-ready"),
        )
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


class _Worker(_Process):
    """A Celery worker process running ``benchmarks.outbox_worker``."""

    def __init__(self, database: str, queue: str, directory: Path) -> None:
        command = [
            *(sys.executable, "-m", "celery", "-A", "benchmarks.outbox_worker", "worker"),
            *("-Q", queue, "--concurrency=1", "--pool=prefork", "--loglevel=WARNING"),
            *("--without-gossip", "--without-mingle", "--without-heartbeat"),
        ]
        super().__init__("worker", command, database, queue, directory)
        ready = directory / "worker-ready"
        deadline = time.monotonic() + 60
        while not ready.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the benchmark worker did not start; see {self._log.name}")
            time.sleep(0.05)


class _Relay(_Process):
    """``statesignals relay`` in a process of its own, as it is run beside Celery workers."""

    def __init__(self, database: str, queue: str, directory: Path) -> None:
        command = [
            *(sys.executable, "-m", "statesignals", "relay", "--database", database),
            *("--celery", "benchmarks.outbox_worker:app", "--queue", queue),
            *("--log-level", "WARNING"),
        ]
        super().__init__("relay", command, database, queue, directory)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _wait_started(engine: sa.Engine, prefix: str, count: int) -> dict[str, float]:
    deadline = time.monotonic() + 120
    while True:
        with engine.connect() as connection:
            found = dict(
                connection.execute(
                    sa.select(started.c.key, started.c.started_at).where(
                        started.c.key.startswith(prefix)
                    )
                ).all()
            )
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def _latencies(rounds: int, after_commit: bool) -> tuple[list[float], list[float]] | str:
    """Seconds from commit to the durable receiver's start, and from send_task to a plain
    task's start, on one worker process; or why they could not be measured.

    With ``after_commit`` the committing process publishes its events itself
    (:func:`~statesignals.outbox.publish_after_commit`); else the relay does.
    """
    if not _redis_reachable():
        return f"no Redis at {REDIS_URL}"
    with _server_database() as (url, engine):
        return _measure_latencies(url, engine, after_commit)


def _measure_latencies(
    url: str, engine: sa.Engine, after_commit: bool
) -> tuple[list[float], list[float]] | str:
    # Far enough apart that neither task queues behind the one before: the line
    # measures the path from commit to receiver, not the worker's throughput.
    count = 200
    spacing = 0.03
    # Rounds first run and not counted: the first task in the worker process opens its
    # database connection and the first publication its broker connection, once per
    # process; the line measures the path a running system takes.
    warm_up = 5
    sessions = sessionmaker(engine)
    with sessions() as session, session.begin():
        models = [DurableToggle() for _ in range(warm_up + count)]
        session.add_all(models)
        session.flush()
        keys = [model.id for model in models]
    DurableToggle.on_commit("flip", durable=True)(record_start)
    # The commit is done when the database says so: publishing after commit happens
    # before session.commit() returns, and is part of what is measured.
    last_commit = [0.0]

    def note_commit(session: Session) -> None:
        last_commit[0] = time.time()

    sa.event.listen(sessions, "after_commit", note_commit)
    app = _celery_app()
    with _queue() as queue, tempfile.TemporaryDirectory() as directory:
        worker = _Worker(url, queue, Path(directory))
        relay = _Relay(url, queue, Path(directory))
        publishing = publish_after_commit(_celery_publisher(app, queue)) if after_commit else None
        try:
            committed: dict[str, float] = {}
            sent: dict[str, float] = {}
            # Turn about, so that what the machine does meanwhile weighs on both alike.
            for number, key in enumerate(keys):
                with sessions() as session, session.begin():
                    session.get_one(DurableToggle, key).flip()
                committed[f"durable-{key}"] = last_commit[0]
                time.sleep(spacing)
                name = f"plain-{number}"
                sent[name] = time.time()
                app.send_task("bench.plain", args=[name], queue=queue, serializer="json")
                time.sleep(spacing)
                if number == warm_up - 1:
                    # Until the relay process has connected and published the first.
                    _wait_started(engine, "durable-", warm_up)
            starts = _wait_started(engine, "durable-", len(keys))
            starts.update(_wait_started(engine, "plain-", len(keys)))
        finally:
            if publishing is not None:
                publishing.stop()
            relay.stop()
            worker.stop()
            disconnect_durable(record_start)
    durable = [starts[key] - at for key, at in committed.items() if key in starts]
    plain = [starts[key] - at for key, at in sent.items() if key in starts]
    if len(durable) < len(keys) or len(plain) < len(keys):
        return f"only {len(durable)} + {len(plain)} of {len(keys)} + {len(keys)} started"
    return durable[warm_up:], plain[warm_up:]


def _celery_publisher(app: t.Any, queue: str) -> t.Any:
    from statesignals.celery import CeleryPublisher

    return CeleryPublisher(app, queue=queue)


_measured: dict[bool, tuple[list[float], list[float]] | str] = {}


def _latency_row(rounds: int, name: str, fraction: float, after_commit: bool) -> Row:
    from .suite import Row, missing_row

    path = "published after commit" if after_commit else "through the relay"
    measure = f"commit -> durable receiver start, {name}, {path} (Redis worker, PostgreSQL)"
    subject_name = (
        "commit -> outbox -> worker" if after_commit else "commit -> outbox -> relay -> worker"
    )
    if after_commit not in _measured:
        _measured[after_commit] = _latencies(rounds, after_commit)
    found = _measured[after_commit]
    if isinstance(found, str):
        return missing_row(measure, subject_name, "plain Celery task", found)
    durable, plain = found
    subject = _percentile(durable, fraction) * 1e9
    anchor = _percentile(plain, fraction) * 1e9
    ratio = subject / anchor
    return Row(
        measure=measure,
        subject=subject_name,
        anchor="send_task -> worker, plain task",
        unit="ns",
        subject_value=subject,
        anchor_value=anchor,
        ratio=ratio,
        target="<= 2.00x",
        met=ratio <= 2.0,
    )


def latency_p50(rounds: int) -> Row:
    return _latency_row(rounds, "p50", 0.50, after_commit=False)


def latency_p99(rounds: int) -> Row:
    return _latency_row(rounds, "p99", 0.99, after_commit=False)


def latency_after_commit_p50(rounds: int) -> Row:
    return _latency_row(rounds, "p50", 0.50, after_commit=True)


def latency_after_commit_p99(rounds: int) -> Row:
    return _latency_row(rounds, "p99", 0.99, after_commit=True)


LINES = (
    durable_trigger_commit,
    relay_throughput,
    latency_p50,
    latency_p99,
    latency_after_commit_p50,
    latency_after_commit_p99,
)
"""The durable-receiver lines of the table, in the order printed."""

__all__ = ["LINES"]

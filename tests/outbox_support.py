"""What the outbox tests share: databases of their own, effects to count, worker processes.

Receivers here are module-level, as durable receivers must be: the Celery
workers the tests start import them by name. Each writes one row to the
``effects`` table in the receiver's transaction, so counting effects per event
tells lost (0) from doubled (2) deliveries.
"""

from __future__ import annotations

import collections.abc as c
import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import typing as t
import uuid
from pathlib import Path

import sqlalchemy as sa

from statesignals.databases import engine_for
from statesignals.outbox import DurableEvent, create_tables
from statesignals.outbox.durable import DurableRoute, outbox_rows
from statesignals.outbox.store import insert_rows

from .services import require_postgres

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "statesignals_outbox_test"
"""Every database, queue, vhost and Redis key the outbox tests make starts with this."""
REDIS_DB = 5
"""The Redis database number the outbox tests use (others use other numbers)."""

effects_metadata = sa.MetaData()
effects = sa.Table(
    "test_effects",
    effects_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("event_id", sa.String(36), nullable=False),
    sa.Column("aggregate", sa.String(64), nullable=False),
    sa.Column("sequence", sa.Integer, nullable=False),
    sa.Column("receiver", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
)


def _work_dir() -> Path | None:
    found = os.environ.get("STATESIGNALS_TEST_DIR")
    return Path(found) if found else None


def record_effect(event: DurableEvent, session: t.Any) -> None:
    """The receiver the tests count: one effects row per run that commits."""
    session.execute(
        effects.insert().values(
            event_id=event.event_id,
            aggregate=json.dumps(event.primary_key),
            sequence=event.sequence,
            receiver=event.receiver,
            pid=os.getpid(),
        )
    )
    work = _work_dir()
    hold = work / "hold" if work else None
    if hold is not None and hold.exists():
        # The worker-kill test: say which process runs the task, then wait to be killed.
        (work / f"started-{os.getpid()}").write_text(event.event_id)  # type: ignore[operator]
        deadline = time.monotonic() + 60
        while hold.exists() and time.monotonic() < deadline:
            time.sleep(0.05)


def record_in_order(event: DurableEvent, session: t.Any) -> None:
    """:func:`record_effect`, once every earlier event of the model had its effect."""
    event.check_order(session)
    record_effect(event, session)


def always_fails(event: DurableEvent, session: t.Any) -> None:
    """A receiver whose every run raises."""
    raise RuntimeError(f"cannot ship {event.primary_key}")


RECORD = "tests.outbox_support:record_effect"
FAILS = "tests.outbox_support:always_fails"
IN_ORDER = "tests.outbox_support:record_in_order"


class Model:
    """Stands for a model class in rows written without a workflow (relay-only tests)."""


def commit_events(
    engine: sa.Engine,
    aggregates: c.Iterable[int],
    *,
    transitions: int = 1,
    receiver: str = RECORD,
    first_sequence: int = 1,
) -> list[str]:
    """Commit ``transitions`` outbox rows per aggregate, each in its own transaction, as
    committed transitions write them; returns the event ids."""
    ids: list[str] = []
    routes = [DurableRoute(Model, None, receiver)]
    for step in range(transitions):
        for aggregate in aggregates:
            rows = outbox_rows(
                routes,
                model_class=Model,
                primary_key=aggregate,
                sequence=first_sequence + step,
                trigger="advance",
                source=f"s{step}",
                dest=f"s{step + 1}",
                transition_id=uuid.uuid4(),
                occurred_at=dt.datetime.now(dt.UTC),
                payload=json.dumps({"args": [], "kwargs": {"step": step}}),
            )
            with engine.begin() as connection:
                insert_rows(connection, rows)
            ids.extend(row["event_id"] for row in rows)
    return ids


def effect_counts(engine: sa.Engine) -> dict[str, int]:
    """How many committed effects each event id has."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(effects.c.event_id, sa.func.count()).group_by(effects.c.event_id)
        )
        return {event_id: count for event_id, count in rows}


def effect_sequences_by_model(engine: sa.Engine) -> dict[str, list[int]]:
    """The sequences of each model's effects, in the order the effects were written."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(effects.c.aggregate, effects.c.sequence).order_by(effects.c.id)
        ).all()
    observed: dict[str, list[int]] = {}
    for aggregate, sequence in rows:
        observed.setdefault(aggregate, []).append(sequence)
    return observed


FAULT_COUNTS: list[str] = []
"""Every count :func:`tally` made in this run, for the end of the test report."""


def tally(label: str, event_ids: c.Sequence[str], engine: sa.Engine) -> tuple[int, int, int]:
    """Print and return (effects, lost, doubled) for ``event_ids``: the fault tests' count
    (also listed at the end of the run's report)."""
    counts = effect_counts(engine)
    lost = sum(1 for event_id in event_ids if counts.get(event_id, 0) == 0)
    doubled = sum(1 for event_id in event_ids if counts.get(event_id, 0) > 1)
    effects_out = sum(counts.get(event_id, 0) for event_id in event_ids)
    count = (
        f"{label}: {len(event_ids)} events in, {effects_out} effects out, "
        f"{lost} lost, {doubled} doubled"
    )
    print(f"\n{count}")
    FAULT_COUNTS.append(count)
    return effects_out, lost, doubled


def wait_for(
    condition: c.Callable[[], bool], what: str, timeout: float = 60.0, every: float = 0.05
) -> None:
    """Wait until ``condition()`` holds; fail naming ``what`` after ``timeout`` seconds.

    (A bound on waiting for something that must happen, not a speed assertion.)
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def sqlite_database(directory: Path) -> tuple[str, sa.Engine]:
    """A new SQLite file with the outbox and effects tables: its URL and an engine."""
    url = f"sqlite:///{directory / 'outbox.db'}"
    engine = engine_for(url)
    create_tables(engine)
    effects_metadata.create_all(engine)
    return url, engine


@contextlib.contextmanager
def postgres_database() -> c.Iterator[tuple[str, sa.Engine]]:
    """A PostgreSQL database of the test's own with the tables; dropped afterwards."""
    admin_url = sa.make_url(require_postgres()).set(drivername="postgresql+psycopg")
    name = f"{PREFIX}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    engine = engine_for(url)
    try:
        create_tables(engine)
        effects_metadata.create_all(engine)
        yield url, engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def redis_url(base: str, port: int | None = None) -> str:
    """``base`` (a Redis URL) on the outbox tests' database number (and ``port``)."""
    url = sa.make_url(base.replace("redis://", "redis+x://", 1))
    if port is not None:
        url = url.set(port=port)
    return url.set(database=str(REDIS_DB)).render_as_string().replace("redis+x://", "redis://", 1)


def redis_client(url: str) -> t.Any:
    import redis

    return redis.Redis.from_url(url)


def drop_redis_queue(url: str, queue: str) -> None:
    """Delete a Celery queue (and Kombu's bindings of it) from Redis."""
    client = redis_client(url)
    client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    client.close()


def child_environment(**extra: str) -> dict[str, str]:
    """The environment for a process the test starts: this checkout importable first."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    env.update(extra)
    return env


class Worker:
    """A real Celery worker process (``celery -A tests.outbox_worker_app worker``)."""

    def __init__(
        self,
        broker: str,
        database: str,
        queue: str,
        work_dir: Path,
        *,
        concurrency: int = 1,
        max_attempts: int = 3,
    ) -> None:
        self.ready_file = work_dir / f"worker-ready-{uuid.uuid4().hex[:6]}"
        self.log_file = work_dir / f"{self.ready_file.name}.log"
        env = child_environment(
            STATESIGNALS_TEST_BROKER=broker,
            STATESIGNALS_TEST_DATABASE=database,
            STATESIGNALS_TEST_QUEUE=queue,
            STATESIGNALS_TEST_DIR=str(work_dir),
            STATESIGNALS_TEST_READY=str(self.ready_file),
            STATESIGNALS_TEST_MAX_ATTEMPTS=str(max_attempts),
        )
        self._log = self.log_file.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "tests.outbox_worker_app",
                "worker",
                "-Q",
                queue,
                f"--concurrency={concurrency}",
                "--pool=prefork",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                f"--hostname={queue}-{uuid.uuid4().hex[:6]}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        wait_for(self._ready, f"the Celery worker to start (log: {self.log_file})", timeout=60)

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"the worker exited: {self.log_file.read_text()[-3000:]}")
        return self.ready_file.exists()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = [
    "FAILS",
    "PREFIX",
    "RECORD",
    "REDIS_DB",
    "Worker",
    "always_fails",
    "child_environment",
    "commit_events",
    "effect_counts",
    "effects",
    "postgres_database",
    "record_effect",
    "sqlite_database",
    "tally",
    "wait_for",
]

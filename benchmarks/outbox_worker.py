"""The Celery app of the benchmark's worker process (configured by environment)."""

from __future__ import annotations

import os
import time
import typing as t
from pathlib import Path

import sqlalchemy as sa
from celery import Celery
from celery.signals import worker_ready

import statesignals.celery
from statesignals.databases import engine_for

from .outbox import started

DATABASE = os.environ.get("STATESIGNALS_BENCH_DATABASE", "sqlite://")
app = Celery("statesignals_bench", broker=os.environ.get("STATESIGNALS_BENCH_BROKER"))
app.conf.update(
    task_default_queue=os.environ.get("STATESIGNALS_BENCH_QUEUE", "statesignals_outbox_bench"),
    worker_prefetch_multiplier=1,
    worker_hijack_root_logger=False,
    # No remote-control mailbox: it would leave keys behind in the shared broker.
    worker_enable_remote_control=False,
)
statesignals.celery.install(app, database=DATABASE)
_engines: dict[int, sa.Engine] = {}


@app.task(name="bench.plain", acks_late=True, ignore_result=True)  # type: ignore[untyped-decorator]
def plain(key: str) -> None:
    """The anchor: a plain task that notes when it started, as the durable receiver does."""
    now = time.time()
    engine = _engines.get(os.getpid())
    if engine is None:
        engine = _engines[os.getpid()] = engine_for(DATABASE)
    with engine.begin() as connection:
        connection.execute(started.insert().values(key=key, started_at=now))


@worker_ready.connect  # type: ignore[untyped-decorator]
def _announce_ready(**_: t.Any) -> None:
    ready = os.environ.get("STATESIGNALS_BENCH_READY")
    if ready:
        Path(ready).touch()

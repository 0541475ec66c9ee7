"""The distributed shop's Celery app: its workers run the durable receivers.

``celery -A examples.orders.worker worker -Q statesignals_demo`` starts a worker;
``statesignals relay --celery examples.orders.worker:app`` publishes the outbox
to it. Where the database, the broker and the queue are comes from the
environment (:mod:`.settings`), so the relay, the workers and the clients
started by ``python -m examples.orders.distributed`` agree.
"""

from __future__ import annotations

import os
import typing as t
from pathlib import Path

from celery import Celery
from celery.signals import worker_ready

import statesignals.celery
from statesignals.outbox import RetryPolicy

from . import settings

app = Celery("orders", broker=settings.broker_url())
app.conf.update(
    task_default_queue=settings.queue(),
    # A worker process takes one message at a time, so a busy one does not sit on
    # messages an idle one could run.
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    # Redis hands a message a dead worker had taken to another after this long.
    broker_transport_options={"visibility_timeout": 60},
)
statesignals.celery.install(
    app,
    database=settings.database_url(),
    policy=RetryPolicy(max_attempts=5, initial=0.1, maximum=2.0),
)


@worker_ready.connect  # type: ignore[untyped-decorator]
def _announce_ready(**_: t.Any) -> None:
    ready = os.environ.get(settings.READY_FILE)
    if ready:
        Path(ready).touch()

"""The Celery app the outbox tests' worker processes run (configured by environment).

``STATESIGNALS_TEST_BROKER`` is the broker URL, ``STATESIGNALS_TEST_DATABASE`` the
database of the outbox, inbox and effects, ``STATESIGNALS_TEST_QUEUE`` the queue;
the worker touches ``STATESIGNALS_TEST_READY`` once it consumes.
"""

from __future__ import annotations

import os
import typing as t
from pathlib import Path

from celery import Celery
from celery.signals import worker_ready

import statesignals.celery
from statesignals.outbox import RetryPolicy

BROKER = os.environ.get("STATESIGNALS_TEST_BROKER", "")
app = Celery("statesignals_outbox_test", broker=BROKER)
app.conf.update(
    task_default_queue=os.environ.get("STATESIGNALS_TEST_QUEUE", "statesignals_outbox_test"),
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    # No remote-control mailbox: it would leave keys behind in the shared broker.
    worker_enable_remote_control=False,
)
if BROKER.startswith("redis"):
    # Redis hands the unacknowledged messages of a lost connection out again after
    # this many seconds, looked for every second (by default only every 100 s):
    # short, so the broker-outage tests need not wait long.
    app.conf.broker_transport_options = {
        "visibility_timeout": 5,
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }
elif BROKER.startswith("sqla"):
    # The SQLAlchemy transport polls its table, every second by default; its transport
    # options all go to create_engine(), so the interval is set on the class.
    from kombu.transport import sqlalchemy as kombu_sqlalchemy

    kombu_sqlalchemy.Transport.polling_interval = 0.05
statesignals.celery.install(
    app,
    database=os.environ.get("STATESIGNALS_TEST_DATABASE", "sqlite://"),
    policy=RetryPolicy(
        max_attempts=int(os.environ.get("STATESIGNALS_TEST_MAX_ATTEMPTS", "3")),
        initial=0.05,
        maximum=0.2,
    ),
)


@worker_ready.connect  # type: ignore[untyped-decorator]
def _announce_ready(**_: t.Any) -> None:
    ready = os.environ.get("STATESIGNALS_TEST_READY")
    if ready:
        Path(ready).touch()

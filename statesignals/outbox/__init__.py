"""Durable receivers: a transactional outbox, relayed to workers.

A durable receiver's events are written to the outbox table in the transaction
that changes the state, so they exist exactly when the change committed. A
:class:`OutboxRelay` publishes them (to Celery with
:class:`statesignals.celery.CeleryPublisher`, or runs them in-process with
:class:`InProcessPublisher`); receivers run through the inbox, which makes
their effect happen once however often an event is delivered.
"""

from __future__ import annotations

from .after_commit import AfterCommitMetrics, AfterCommitPublishing, publish_after_commit
from .delivery import Outcome, deliver
from .durable import (
    DurableReceiver,
    DurableRoute,
    connect_durable,
    disconnect_durable,
    durable_routes,
)
from .events import DurableEvent
from .policy import RetryPolicy
from .publishers import InProcessPublisher, Publisher, PublishError
from .relay import OutboxRelay, RelayMetrics
from .store import OutboxStatus, Purged, purge, retry, retry_dead, status
from .tables import create_tables, drop_tables, inbox_table, metadata, outbox_table

__all__ = [
    "AfterCommitMetrics",
    "AfterCommitPublishing",
    "DurableEvent",
    "DurableReceiver",
    "DurableRoute",
    "InProcessPublisher",
    "OutboxRelay",
    "OutboxStatus",
    "Outcome",
    "PublishError",
    "Publisher",
    "Purged",
    "RelayMetrics",
    "RetryPolicy",
    "connect_durable",
    "create_tables",
    "deliver",
    "disconnect_durable",
    "drop_tables",
    "durable_routes",
    "inbox_table",
    "metadata",
    "outbox_table",
    "publish_after_commit",
    "purge",
    "retry",
    "retry_dead",
    "status",
]

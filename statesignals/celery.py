"""Durable receivers on Celery: the relay's publisher and the workers' task.

Publishing side (where the relay runs)::

    relay = OutboxRelay(engine, CeleryPublisher(app))

Worker side (in the module that defines the Celery app)::

    app = Celery("shop", broker="redis://localhost:6379/0")
    statesignals.celery.install(app, database="postgresql+psycopg://.../shop")

:func:`install` registers one task, ``statesignals.durable``, that imports the
event's receiver by name and runs it through the inbox
(:func:`statesignals.outbox.delivery.deliver`). The task acknowledges late and
is rejected (so redelivered) when its worker process dies: a message is only
gone once the receiver's transaction committed or its failure was recorded.
Every event is sent with ``task_id`` = its event id, as JSON.

Needs the ``celery`` extra: ``pip install "transitions-statesignals[celery]"``.
"""

from __future__ import annotations

import collections.abc as c
import os
import threading
import typing as t

import sqlalchemy as sa
from celery import Celery

from .databases import engine_for
from .outbox.delivery import Outcome, deliver
from .outbox.events import DurableEvent
from .outbox.policy import RetryPolicy
from .outbox.publishers import Publisher, PublishError

TASK_NAME = "statesignals.durable"
"""The name of the one task that runs every durable receiver."""

EngineSource = sa.Engine | str | c.Callable[[], sa.Engine]


class CeleryPublisher(Publisher):
    """Sends each event as a ``statesignals.durable`` task with ``task_id`` = event id.

    ``queue`` routes the tasks (default: the app's routing for the task name).
    Publishing does not retry on its own (``retry=False``, and one reconnection
    attempt): the relay counts the failure on the event and backs off, so a broker
    outage never blocks it.
    """

    def __init__(self, app: Celery, *, queue: str | None = None) -> None:
        self.app = app
        self.queue = queue

    def publish(self, event: DurableEvent, engine: sa.Engine) -> None:
        self.publish_all([event], engine)

    def publish_all(self, events: c.Sequence[DurableEvent], engine: sa.Engine) -> None:
        published = 0
        try:
            with self.app.producer_or_acquire() as producer:
                # Kombu would retry connecting for seconds: fail at once instead, and
                # let the relay count the attempt and back off.
                producer.connection.ensure_connection(max_retries=1, interval_start=0.1)
                for event in events:
                    self.app.send_task(
                        TASK_NAME,
                        kwargs={"event": event.to_message()},
                        task_id=event.event_id,
                        queue=self.queue,
                        producer=producer,
                        retry=False,
                        serializer="json",
                    )
                    published += 1
        except Exception as error:
            raise PublishError(published, error) from error


class _WorkerEngine:
    """The database engine of one worker process, made in the process that uses it
    (an engine made before the pool forks would share its connections)."""

    def __init__(self, source: EngineSource) -> None:
        self._source = source
        self._engines: dict[int, sa.Engine] = {}
        self._lock = threading.Lock()

    def get(self) -> sa.Engine:
        pid = os.getpid()
        try:
            return self._engines[pid]
        except KeyError:
            pass
        with self._lock:
            if pid not in self._engines:
                source = self._source
                if isinstance(source, sa.Engine):
                    engine = source
                    engine.dispose(close=False)
                elif isinstance(source, str):
                    engine = engine_for(source)
                else:
                    engine = source()
                self._engines[pid] = engine
            return self._engines[pid]


def install(
    app: Celery,
    database: EngineSource,
    *,
    policy: RetryPolicy | None = None,
) -> t.Any:
    """Register the task that runs durable receivers on ``app``; returns the task.

    ``database`` is the database the outbox and inbox live in (and the
    receivers' sessions use): an engine, a URL, or a function making an engine.
    A receiver that raises rolls back its transaction; the failure is counted
    on the outbox row, which a relay publishes again after ``policy``'s
    backoff, or dead-letters when its attempts are used up.
    """
    engines = _WorkerEngine(database)
    retry_policy = policy or RetryPolicy()

    @app.task(  # type: ignore[untyped-decorator]
        name=TASK_NAME,
        bind=True,
        acks_late=True,
        reject_on_worker_lost=True,
        ignore_result=True,
    )
    def run_durable_receiver(task: t.Any, event: dict[str, t.Any]) -> str:
        try:
            outcome: Outcome = deliver(
                engines.get(), DurableEvent.from_message(event), retry_policy
            )
        except Exception as error:
            # Neither the effect nor the failure could be recorded (the database is
            # away): acknowledging would lose the event, so the message comes back.
            raise task.retry(
                exc=error,
                countdown=retry_policy.delay(task.request.retries + 1),
                max_retries=None,
            ) from error
        return outcome.value

    return run_durable_receiver


__all__ = ["TASK_NAME", "CeleryPublisher", "install"]

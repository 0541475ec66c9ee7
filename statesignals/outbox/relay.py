"""The relay: claims committed outbox rows, publishes them, marks them published.

Several relays may serve one database at once. Each round a relay leases a
batch of due rows (one statement: a conditional ``UPDATE``, with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL), publishes them in order, then marks
them published. A relay killed between publishing and marking publishes
nothing twice within its lease; when the lease runs out another relay
publishes those rows again, and the inbox turns the second delivery into a
no-op. When publishing fails (the broker is down) the row counts a failed
attempt, the rest of the batch is given back, and the relay backs off
exponentially before it tries again.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import socket
import threading
import time
import types
import typing as t
import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa

from .events import DurableEvent, utcnow
from .policy import RetryPolicy
from .publishers import Publisher, PublishError
from .store import (
    bookkeeping_engine,
    claim,
    mark_published,
    next_due,
    record_failure,
    release,
    republish_lost,
    unfinished_count,
)
from .wakeup import PostgresListener, database_key, listens, subscribe, unsubscribe

logger = logging.getLogger("statesignals.outbox.relay")


@dataclass
class RelayMetrics:
    """Counters of one relay since it was created (read them from ``relay.metrics``).

    ``published`` events went out; ``failed`` publications raised (each counts
    an attempt on its event); ``dead`` events this relay dead-lettered after
    their last failed publication; ``republished`` events had no effect long after
    their publication and were published again; ``lag`` is, for the last batch, the seconds
    from the oldest event's commit to its publication; ``batches`` counts
    rounds that published something.
    """

    published: int = 0
    failed: int = 0
    dead: int = 0
    republished: int = 0
    lag: float = 0.0
    batches: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def snapshot(self) -> dict[str, float]:
        """The counters as a dict, e.g. to export to a metrics system."""
        with self._lock:
            return {
                "published": self.published,
                "failed": self.failed,
                "dead": self.dead,
                "republished": self.republished,
                "lag": self.lag,
                "batches": self.batches,
            }


class OutboxRelay:
    """Publishes committed outbox rows of ``engine``'s database through ``publisher``.

    ``batch_size`` rows are claimed at a time for ``lease`` seconds (a relay
    that dies gives them back when the lease runs out, so keep it above the time
    a batch takes to publish). Between rounds with nothing to do it waits for a
    commit to wake it, or ``poll_interval`` seconds at most. ``policy`` governs
    retries after failed publications. An event published ``republish_after`` seconds
    ago whose effect the inbox has still not recorded is published again (its message
    was lost); keep it above the time your queues take to drain (None: never).
    """

    def __init__(
        self,
        engine: sa.Engine,
        publisher: Publisher,
        *,
        batch_size: int = 100,
        lease: float = 30.0,
        poll_interval: float = 1.0,
        policy: RetryPolicy | None = None,
        name: str | None = None,
        republish_after: float | None = 900.0,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        self.engine = engine
        self.publisher = publisher
        self.batch_size = batch_size
        self.lease = lease
        self.poll_interval = poll_interval
        self.policy = policy or RetryPolicy()
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.republish_after = republish_after
        self._last_sweep = time.monotonic()
        self.metrics = RelayMetrics()
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._database = database_key(engine.url)
        self._bookkeeping = bookkeeping_engine(engine)
        self._outage = 0

    def stop(self) -> None:
        """Ask :meth:`run` to return once the batch in hand is published and marked."""
        self._stopping.set()
        self._wake.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def run(self) -> None:
        """Relay until :meth:`stop` is called, or SIGTERM/SIGINT arrive (main thread only).

        Either way the batch in hand is finished, claims not yet published are
        given back and the method returns normally.
        """
        previous = self._handle_signals()
        listener = self._listen()
        logger.info(
            "relay %s started on %s",
            self.name,
            self.engine.url.render_as_string(hide_password=True),
        )
        try:
            while not self._stopping.is_set():
                handled = self._round()
                if handled is None:
                    self._back_off()
                elif handled == 0:
                    self._wake.wait(self.poll_interval)
                    self._wake.clear()
        finally:
            if listener is not None:
                listener.stop()
            unsubscribe(self._database, self._wake)
            for number, handler in previous.items():
                signal.signal(number, handler)
            logger.info("relay %s stopped; %s", self.name, self._totals())

    def drain(self, timeout: float | None = None) -> int:
        """Publish until no event is left unpublished (dead ones aside); returns how many
        this call published. Waits for events in backoff or leased by another relay.

        Raises :class:`TimeoutError` if events are still unpublished after ``timeout`` s.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        published_before = self.metrics.published
        while not self._stopping.is_set():
            handled = self._round()
            if handled is None:
                self._back_off()
            elif handled == 0:
                with self.engine.connect() as connection:
                    if unfinished_count(connection) == 0:
                        break
                    due = next_due(connection)
                wait = self.poll_interval
                if due is not None:
                    wait = min(wait, max(0.005, (due - utcnow()).total_seconds()))
                if deadline is not None and time.monotonic() + wait > deadline:
                    raise TimeoutError(
                        f"outbox still has unpublished events after {timeout} s "
                        f"(relay {self.name}; {self._totals()})"
                    )
                self._stopping.wait(wait)
        return self.metrics.published - published_before

    def run_once(self) -> int:
        """One round: claim a batch, publish it, mark it; returns how many rows it claimed.

        A failed publication is counted on its row and re-raised as
        :class:`~statesignals.outbox.PublishError`.
        """
        token = uuid.uuid4().hex
        with self._bookkeeping.begin() as connection:
            rows = claim(
                connection,
                token=token,
                relay=self.name,
                batch_size=self.batch_size,
                lease=self.lease,
            )
        if not rows:
            return 0
        events = [DurableEvent.from_row(row) for row in rows]
        ids = [row.id for row in rows]
        started = time.perf_counter()
        try:
            self.publisher.publish_all(events, self.engine)
        except PublishError as failure:
            self._publish_failed(failure, token, ids, events)
            raise
        with self._bookkeeping.begin() as connection:
            mark_published(connection, token, ids)
        self._published(events, time.perf_counter() - started)
        return len(rows)

    def _sweep(self) -> None:
        """Now and then, publish again what was published long ago and had no effect."""
        after = self.republish_after
        if after is None or time.monotonic() - self._last_sweep < max(after / 4, 0.05):
            return
        self._last_sweep = time.monotonic()
        now = utcnow()
        before = now - dt.timedelta(seconds=after)
        # A window, so a sweep reads only recent publications: each event passes
        # through it in a few sweeps.
        since = before - dt.timedelta(seconds=after * 4 + 60)
        with self._bookkeeping.begin() as connection:
            count = republish_lost(connection, before, since, now)
        if count:
            with self.metrics._lock:
                self.metrics.republished += count
            logger.warning(
                "relay %s: %d events published over %.0f s ago had no effect: publishing "
                "them again",
                self.name,
                count,
                after,
            )

    def _round(self) -> int | None:
        """One round, errors logged: None when it failed and the relay should back off."""
        try:
            self._sweep()
            handled = self.run_once()
        except PublishError as failure:
            logger.warning("relay %s: publishing failed: %s", self.name, failure.error)
            return None
        except sa.exc.DBAPIError as error:
            logger.warning("relay %s: database error: %s", self.name, error)
            return None
        self._outage = 0
        return handled

    def _back_off(self) -> None:
        self._outage += 1
        delay = self.policy.delay(self._outage)
        logger.info("relay %s: backing off %.2f s", self.name, delay)
        self._stopping.wait(delay)

    def _publish_failed(
        self, failure: PublishError, token: str, ids: list[int], events: list[DurableEvent]
    ) -> None:
        done = failure.published
        with self._bookkeeping.begin() as connection:
            mark_published(connection, token, ids[:done])
            dead = record_failure(
                connection, events[done].event_id, failure.error, self.policy, token=token
            )
            release(connection, token, ids[done + 1 :])
        with self.metrics._lock:
            self.metrics.failed += 1
            self.metrics.dead += bool(dead)
        if done:
            self._published(events[:done], 0.0)
        if dead:
            logger.error(
                "relay %s: event %s (%s) dead-lettered after %d attempts: %s",
                self.name,
                events[done].event_id,
                events[done].receiver,
                events[done].attempt,
                failure.error,
            )

    def _published(self, events: list[DurableEvent], seconds: float) -> None:
        now = utcnow()
        lag = max((now - event.occurred_at).total_seconds() for event in events)
        with self.metrics._lock:
            self.metrics.published += len(events)
            self.metrics.batches += 1
            self.metrics.lag = lag
        logger.info(
            "relay %s: published %d events in %.1f ms (lag %.3f s); %s",
            self.name,
            len(events),
            seconds * 1000,
            lag,
            self._totals(),
        )

    def _totals(self) -> str:
        m = self.metrics
        return f"totals: published {m.published}, failed {m.failed}, dead {m.dead}"

    def _listen(self) -> PostgresListener | None:
        subscribe(self._database, self._wake)
        if not listens(self.engine):
            return None
        listener = PostgresListener(self.engine, self._wake)
        listener.start()
        return listener

    def _handle_signals(self) -> dict[int, t.Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}

        def stop(number: int, frame: types.FrameType | None) -> None:
            logger.info("relay %s: %s, stopping", self.name, signal.Signals(number).name)
            self.stop()

        previous: dict[int, t.Any] = {}
        for number in (signal.SIGTERM, signal.SIGINT):
            previous[number] = signal.signal(number, stop)
        return previous


__all__ = ["OutboxRelay", "RelayMetrics"]

"""Publishing durable events from the process that commits them, as the commit returns.

Through a relay, an event goes from the commit to the broker by way of the commit's
notification, the relay waking, and its claim: a round trip to the database and a
wake-up of another process. While :func:`publish_after_commit` is on, the process
that commits writes its events already claimed (a short lease, set by the INSERT
itself) and publishes them once the outermost transaction has committed, through the
publisher it was given.

Relays keep running beside it and publish what it does not:

* an event whose model still has an earlier event for the same receiver unpublished
  when the transition is flushed is written unclaimed, for a relay to publish after
  the earlier one (an earlier event that becomes due again between the flush and the
  commit, its receiver having failed on a worker, no longer holds it back);
* the events of a session joined to a transaction of the application's own, whose
  ``commit()`` commits nothing, and of a model that moved before it was in a session;
* an event whose publication failed is given back at once (and publishing after
  commit pauses for ``pause`` seconds, so an absent broker does not cost every
  commit a failed connection);
* the events of a process that died between its commit and their publication wait
  for their lease to run out (``lease`` seconds at most), then a relay takes them.

The events are the same rows, with the same ids: a message published twice (a
process that died after publishing and before marking) has its effect once.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import socket
import threading
import time
import types
import typing as t
import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa

from ..committed import TransitionRecord
from ..errors import OutboxError
from ..routes import EVERY, route
from ..signals import transition_committed
from .events import DurableEvent, utcnow
from .publishers import Publisher, PublishError
from .store import (
    bookkeeping_engine,
    insert_claimed,
    mark_published,
    mark_published_waking_later,
    notify_relays,
    notify_relays_now,
    release,
)
from .wakeup import announce, engine_key

logger = logging.getLogger("statesignals.outbox.after_commit")

_CLAIMS = "_statesignals_outbox_claims"
"""On a model: the outbox rows its flushed transitions claimed, by transition id."""


@dataclass
class AfterCommitMetrics:
    """Counters since publishing after commit was turned on: ``published`` events went
    out; ``given_back`` were left to relays after a failed publication."""

    published: int = 0
    given_back: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def snapshot(self) -> dict[str, float]:
        """The counters as a dict, e.g. to export to a metrics system."""
        with self._lock:
            return {"published": self.published, "given_back": self.given_back}


@dataclass(frozen=True)
class _Claim:
    publishing: AfterCommitPublishing
    engine: sa.Engine
    token: str
    until: dt.datetime
    rows: tuple[tuple[int, dict[str, t.Any]], ...]


class AfterCommitPublishing:
    """Publishing after commit, while it is on (see :func:`publish_after_commit`).

    Use it as a context manager, or call :meth:`stop`.
    """

    def __init__(self, publisher: Publisher, *, lease: float, pause: float) -> None:
        if not isinstance(publisher, Publisher):
            raise OutboxError(
                f"publish_after_commit needs a statesignals.outbox.Publisher "
                f"(CeleryPublisher(app), InProcessPublisher(), ...), not {publisher!r}"
            )
        if not _is_number(lease) or not 0 < lease < math.inf:
            raise OutboxError(f"lease must be a positive number of seconds, not {lease!r}")
        if not _is_number(pause) or not 0 <= pause < math.inf:
            raise OutboxError(f"pause must be a number of seconds, 0 or more, not {pause!r}")
        self.publisher = publisher
        self.lease = lease
        self.pause = pause
        self.metrics = AfterCommitMetrics()
        self._paused_until = 0.0
        self._stopped = False

    def __enter__(self) -> AfterCommitPublishing:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def name(self) -> str:
        """What the rows it claims say in ``claimed_by`` (read when claiming: a forked
        process names itself)."""
        return f"{socket.gethostname()}:{os.getpid()}:after-commit"

    def stop(self) -> None:
        """Claim no more events: relays publish those written from now on. Events that
        transactions still open claimed already are published when they commit."""
        global _active
        with _switch:
            self._stopped = True
            if _active is self:
                _active = None

    @property
    def paused(self) -> bool:
        """Whether a failed publication paused publishing after commit for now."""
        return time.monotonic() < self._paused_until

    def write(
        self,
        model: object,
        transition: TransitionRecord,
        connection: sa.Connection,
        rows: list[dict[str, t.Any]],
    ) -> int | None:
        """Write ``rows``, claimed for this process where order allows; returns how many
        it claimed, or None (nothing written) while paused or stopped."""
        if self._stopped or self.paused:
            return None
        _follow(transition.model_class)
        token = uuid.uuid4().hex
        now = utcnow()
        until = now + dt.timedelta(seconds=self.lease)
        claimed = insert_claimed(connection, rows, token=token, relay=self.name, until=until)
        if claimed:
            claims: dict[uuid.UUID, _Claim] = model.__dict__.setdefault(_CLAIMS, {})
            # Claims of transitions that were rolled back are never committed: drop
            # those whose lease ran out, so a model that often rolls back keeps none.
            for expired in [key for key, held in claims.items() if held.until <= now]:
                del claims[expired]
            claims[transition.event_id] = _Claim(
                self, connection.engine, token, until, tuple(claimed)
            )
        return len(claimed)

    def _publish(self, claim: _Claim) -> None:
        if utcnow() >= claim.until:
            # The transaction outlasted the lease: a relay may hold the rows by now, or
            # they wait for one, which their INSERT did not wake (they were claimed).
            notify_relays_now(claim.engine)
            announce(engine_key(claim.engine))
            return
        ids = [row_id for row_id, _ in claim.rows]
        events = [DurableEvent.from_row(types.SimpleNamespace(**row)) for _, row in claim.rows]
        try:
            self.publisher.publish_all(events, claim.engine)
        except Exception as error:
            failure = error if isinstance(error, PublishError) else PublishError(0, error)
            self._give_back(claim, ids, failure)
            return
        with bookkeeping_engine(claim.engine).begin() as connection:
            mark_published_waking_later(connection, claim.token, ids)
        # Relays of this process: a later event of these models may be due now.
        announce(engine_key(claim.engine))
        with self.metrics._lock:
            self.metrics.published += len(ids)

    def _give_back(self, claim: _Claim, ids: list[int], failure: PublishError) -> None:
        done = failure.published
        self._paused_until = time.monotonic() + self.pause
        logger.warning(
            "publishing after commit failed (%s); %d events left to relays, pausing %.1f s",
            failure.error,
            len(ids) - done,
            self.pause,
        )
        with bookkeeping_engine(claim.engine).begin() as connection:
            mark_published(connection, claim.token, ids[:done])
            release(connection, claim.token, ids[done:])
            notify_relays(connection)
        announce(engine_key(claim.engine))
        with self.metrics._lock:
            self.metrics.published += done
            self.metrics.given_back += len(ids) - done


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _follow(model_class: type) -> None:
    """Have the commits of ``model_class`` publish what their transitions claimed (again,
    after something disconnected every receiver, as test suites do between tests)."""
    signal = route(model_class, transition_committed.name, EVERY)
    if not signal.is_connected(_publish_claimed):
        signal.connect(_publish_claimed, weak=False)


def _publish_claimed(model: object, /, *, transition: TransitionRecord, **_: t.Any) -> None:
    """Receiver of ``transition_committed``: publish what the transition claimed."""
    claims: dict[uuid.UUID, _Claim] | None = model.__dict__.get(_CLAIMS)
    claim = claims.pop(transition.event_id, None) if claims else None
    if claim is None:
        return
    try:
        claim.publishing._publish(claim)
    except Exception:  # the commit stands, and relays take what was not marked
        logger.exception("publishing %s after its commit failed", transition.describe())


_active: AfterCommitPublishing | None = None
_switch = threading.Lock()


def publish_after_commit(
    publisher: Publisher, *, lease: float = 10.0, pause: float = 5.0
) -> AfterCommitPublishing:
    """Publish the durable events this process commits as soon as they are committed.

    ``publisher`` sends them (a :class:`~statesignals.celery.CeleryPublisher`, say);
    each is written claimed for ``lease`` seconds, the longest a relay waits for it
    should this process die before publishing it. After a failed publication the
    events go to relays, and this process leaves new ones to relays for ``pause``
    seconds. One at a time per process: :class:`~statesignals.OutboxError` if it is
    on already.
    """
    global _active
    publishing = AfterCommitPublishing(publisher, lease=lease, pause=pause)
    with _switch:
        if _active is not None:
            raise OutboxError(
                f"publishing after commit is on already (through {_active.publisher!r}); "
                "stop it first"
            )
        _active = publishing
    return publishing


def active() -> AfterCommitPublishing | None:
    """The publishing after commit that is on in this process, if any."""
    return _active


__all__ = ["AfterCommitMetrics", "AfterCommitPublishing", "active", "publish_after_commit"]

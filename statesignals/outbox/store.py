"""The statements relays, workers and operators run on the outbox.

Each is one SQL statement where it can be, so on SQLite it takes the write lock
before it reads (no stale-snapshot failures) and on PostgreSQL it is one round
trip. Claims are leases: a claimed row is left alone by other relays until
``claimed_until`` passes, so a relay that died gives its rows back by itself.
"""

from __future__ import annotations

import collections.abc as c
import datetime as dt
import traceback
import typing as t
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..errors import OutboxError
from .events import utcnow
from .policy import RetryPolicy
from .tables import NOTIFY_CHANNEL, inbox_table, outbox_table

ERROR_TEXT_LIMIT = 4000
"""How much of a failure's text (message and traceback) a row keeps."""

_o = outbox_table
_earlier = outbox_table.alias("earlier")

_unfinished = sa.and_(_o.c.published_at.is_(None), _o.c.dead_at.is_(None))


def _unfinished_of_model(
    table: sa.FromClause, aggregate_type: t.Any, aggregate_id: t.Any, receiver: t.Any
) -> sa.ColumnElement[bool]:
    """Rows of ``table`` for this model and receiver that are neither published nor dead
    (what holds a later event of the model back)."""
    return sa.and_(
        table.c.aggregate_type == aggregate_type,
        table.c.aggregate_id == aggregate_id,
        table.c.receiver == receiver,
        table.c.published_at.is_(None),
        table.c.dead_at.is_(None),
    )


_earlier_unfinished = (
    sa.exists()
    .where(
        _unfinished_of_model(_earlier, _o.c.aggregate_type, _o.c.aggregate_id, _o.c.receiver),
        _earlier.c.sequence < _o.c.sequence,
    )
    .correlate(_o)
)


def error_text(error: BaseException) -> str:
    """``error`` with its traceback, as a row keeps it (the end, when it is long)."""
    text = "".join(traceback.format_exception(error)).strip()
    return text if len(text) <= ERROR_TEXT_LIMIT else "..." + text[-ERROR_TEXT_LIMIT:]


def insert_rows(connection: sa.Connection, rows: c.Sequence[dict[str, t.Any]]) -> None:
    """Add outbox rows in the transaction ``connection`` is in."""
    if rows:
        connection.execute(_o.insert(), list(rows))


def _claim_statement(*, skip_locked: bool) -> sa.Update:
    now = sa.bindparam("now", type_=sa.DateTime())
    due = (
        sa.select(_o.c.id)
        .where(
            _unfinished,
            _o.c.available_at <= now,
            sa.or_(_o.c.claimed_until.is_(None), _o.c.claimed_until < now),
            ~_earlier_unfinished,
        )
        .order_by(_o.c.id)
        .limit(sa.bindparam("batch_size", type_=sa.Integer()))
    )
    if skip_locked:
        due = due.with_for_update(skip_locked=True, of=_o)
    return (
        _o.update()
        .where(_o.c.id.in_(due.scalar_subquery()))
        .values(
            claim_token=sa.bindparam("token", type_=sa.String()),
            claimed_by=sa.bindparam("relay", type_=sa.String()),
            claimed_until=sa.bindparam("until", type_=sa.DateTime()),
        )
        .returning(*_o.c)
    )


# Built once: a relay claims every round, and building and keying the statement
# anew cost more than the database takes to run it.
_CLAIM = {False: _claim_statement(skip_locked=False), True: _claim_statement(skip_locked=True)}


def claim(
    connection: sa.Connection,
    *,
    token: str,
    relay: str,
    batch_size: int,
    lease: float,
    now: dt.datetime | None = None,
) -> list[sa.Row[t.Any]]:
    """Lease up to ``batch_size`` rows that are due, ordered by id.

    Only the earliest unfinished event of each model and receiver is due, so a
    later event is never published while an earlier one is not. On PostgreSQL
    rows another relay is claiming are skipped (``FOR UPDATE SKIP LOCKED``)
    rather than waited for.
    """
    now = now or utcnow()
    statement = _CLAIM[connection.dialect.name == "postgresql"]
    parameters = {
        "now": now,
        "batch_size": batch_size,
        "token": token,
        "relay": relay,
        "until": now + dt.timedelta(seconds=lease),
    }
    rows = list(connection.execute(statement, parameters))
    rows.sort(key=lambda row: row.id)
    return rows


def bookkeeping_engine(engine: sa.Engine) -> sa.Engine:
    """``engine`` for statements that stand alone (claims, marks): on PostgreSQL in
    autocommit, one round trip instead of BEGIN, statement, COMMIT. (SQLite's engines
    begin their transactions themselves, so they keep them.)"""
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine


_INSERTED_COLUMNS = (
    "event_id",
    "transition_id",
    "aggregate_type",
    "aggregate_id",
    "sequence",
    "trigger",
    "source",
    "dest",
    "payload",
    "receiver",
    "attempts",
    "occurred_at",
    "available_at",
)


def _claiming_insert() -> sa.Insert:
    """INSERT of one outbox row that leases it to its writer in the same statement, unless
    an earlier event of its model and receiver is still unpublished (order comes first)."""
    values = {name: sa.bindparam(name, type_=_o.c[name].type) for name in _INSERTED_COLUMNS}
    blocked = sa.exists().where(
        _unfinished_of_model(
            _o, values["aggregate_type"], values["aggregate_id"], values["receiver"]
        ),
        _o.c.sequence < values["sequence"],
    )

    # Asked once, for the three claim columns.
    order = sa.select(blocked.label("blocked")).subquery("order_check")

    def unless_blocked(name: str, column: sa.Column[t.Any]) -> sa.Case[t.Any]:
        return sa.case((order.c.blocked, sa.null()), else_=sa.bindparam(name, type_=column.type))

    leased = sa.select(
        *values.values(),
        unless_blocked("token", _o.c.claim_token),
        unless_blocked("relay", _o.c.claimed_by),
        unless_blocked("until", _o.c.claimed_until),
    ).select_from(order)
    columns = [*_INSERTED_COLUMNS, "claim_token", "claimed_by", "claimed_until"]
    return _o.insert().from_select(columns, leased).returning(_o.c.id, _o.c.claim_token)


_CLAIMING_INSERT = _claiming_insert()


def insert_claimed(
    connection: sa.Connection,
    rows: c.Sequence[dict[str, t.Any]],
    *,
    token: str,
    relay: str,
    until: dt.datetime,
) -> list[tuple[int, dict[str, t.Any]]]:
    """Add outbox rows already claimed with ``token`` until ``until`` (in the transaction
    ``connection`` is in); returns those claimed, each with its id, in order.

    A row whose model has an earlier event for the same receiver still unpublished is
    added unclaimed: a relay publishes it after the earlier one.
    """
    claimed: list[tuple[int, dict[str, t.Any]]] = []
    for row in rows:
        parameters = {**row, "token": token, "relay": relay, "until": until}
        row_id, claim_token = connection.execute(_CLAIMING_INSERT, parameters).one()
        if claim_token is not None:
            claimed.append((row_id, row))
    return claimed


def mark_published(
    connection: sa.Connection, token: str, ids: c.Sequence[int], now: dt.datetime | None = None
) -> int:
    """Mark the rows of claim ``token`` published; returns how many were still ours.

    A row whose receiver already failed on a worker (which gives the row back
    for another try) or whose lease another relay took over is not marked.
    """
    if not ids:
        return 0
    return connection.execute(_MARK, _marking(token, ids, now)).rowcount


_MARK = (
    _o.update()
    .where(
        _o.c.id.in_(sa.bindparam("ids", expanding=True)),
        _o.c.claim_token == sa.bindparam("token", type_=sa.String()),
        _o.c.published_at.is_(None),
    )
    .values(published_at=sa.bindparam("now", type_=sa.DateTime()), claimed_until=None)
)
"""The mark of :func:`mark_published`, built once (a relay marks every round)."""


def _marking(token: str, ids: c.Sequence[int], now: dt.datetime | None) -> dict[str, t.Any]:
    return {"ids": list(ids), "token": token, "now": now or utcnow()}


def _marking_and_waking() -> sa.Select[t.Any]:
    """PostgreSQL: mark claimed rows published and, in the same statement, notify relays
    if a later event of one of their models is waiting for them."""
    marked = _MARK.returning(
        _o.c.aggregate_type, _o.c.aggregate_id, _o.c.receiver, _o.c.sequence
    ).cte("marked")
    # The statement reads the table as it was before the update: the later events are
    # there, still unpublished, and the marked rows are told apart by their sequence.
    waiting = sa.exists().where(
        _unfinished_of_model(_o, marked.c.aggregate_type, marked.c.aggregate_id, marked.c.receiver),
        _o.c.sequence > marked.c.sequence,
    )
    return (
        sa.select(sa.func.pg_notify(NOTIFY_CHANNEL, "")).select_from(marked).where(waiting).limit(1)
    )


_MARK_AND_WAKE = _marking_and_waking()


def mark_published_waking_later(
    connection: sa.Connection, token: str, ids: c.Sequence[int], now: dt.datetime | None = None
) -> bool:
    """:func:`mark_published`, for a writer that is not a relay: relays in other processes
    must learn that later events of these models are due now (a relay marking its own
    rows claims again right away). On PostgreSQL the same statement notifies them when
    there are such events; returns whether it did (elsewhere, False: their relays poll).
    """
    if not ids:
        return False
    if connection.dialect.name != "postgresql":
        mark_published(connection, token, ids, now)
        return False
    return connection.execute(_MARK_AND_WAKE, _marking(token, ids, now)).first() is not None


def notify_relays(connection: sa.Connection) -> None:
    """On PostgreSQL, wake the relays of other processes when ``connection``'s transaction
    commits (new rows notify them by themselves; rows given back do not)."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.select(sa.func.pg_notify(NOTIFY_CHANNEL, "")))


def notify_relays_now(engine: sa.Engine) -> None:
    """:func:`notify_relays` in a statement of its own (nothing to open elsewhere)."""
    if engine.dialect.name == "postgresql":
        with bookkeeping_engine(engine).begin() as connection:
            notify_relays(connection)


def earlier_effect_pending(
    connection: sa.Connection | Session,
    *,
    aggregate_type: str,
    aggregate_id: str,
    receiver: str,
    sequence: int,
) -> bool:
    """Whether an earlier event of the model for ``receiver`` is neither dead nor has its
    effect recorded in the inbox (committed)."""
    pending = (
        sa.select(_o.c.id)
        .outerjoin(inbox_table, inbox_table.c.event_id == _o.c.event_id)
        .where(
            _o.c.aggregate_type == aggregate_type,
            _o.c.aggregate_id == aggregate_id,
            _o.c.receiver == receiver,
            _o.c.sequence < sequence,
            _o.c.dead_at.is_(None),
            inbox_table.c.event_id.is_(None),
        )
        .limit(1)
    )
    return connection.execute(pending).first() is not None


def release(connection: sa.Connection, token: str, ids: c.Sequence[int]) -> None:
    """Give back claimed rows without counting an attempt (another relay may take them)."""
    if ids:
        connection.execute(
            _o.update()
            .where(_o.c.id.in_(list(ids)), _o.c.claim_token == token, _o.c.published_at.is_(None))
            .values(claim_token=None, claimed_until=None)
        )


def record_failure(
    connection: sa.Connection,
    event_id: str,
    error: BaseException | str,
    policy: RetryPolicy,
    *,
    token: str | None = None,
    now: dt.datetime | None = None,
) -> bool | None:
    """Count a failed attempt at ``event_id``: the row is due again after its backoff,
    or dead-lettered once the policy's attempts are used up.

    Returns True when the row went to the dead letter, False when it will be
    tried again, None when there was no such row to fail (already dead, or
    claimed under another ``token``).
    """
    now = now or utcnow()
    text = error if isinstance(error, str) else error_text(error)
    # The next try's time depends on the attempts already made; one CASE keeps
    # the whole update one statement.
    next_try = sa.case(
        {done: policy.next_try(done + 1, now) for done in range(policy.max_attempts)},
        value=_o.c.attempts,
        else_=policy.next_try(policy.max_attempts, now),
    )
    conditions = [_o.c.event_id == event_id, _o.c.dead_at.is_(None)]
    if token is not None:
        conditions.append(_o.c.claim_token == token)
    result = connection.execute(
        _o.update()
        .where(*conditions)
        .values(
            attempts=_o.c.attempts + 1,
            last_error=text,
            available_at=next_try,
            published_at=None,
            claim_token=None,
            claimed_until=None,
            dead_at=sa.case((_o.c.attempts + 1 >= policy.max_attempts, now), else_=None),
        )
        .returning(_o.c.dead_at)
    )
    row = result.first()
    return None if row is None else row.dead_at is not None


def _as_datetime(value: t.Any) -> dt.datetime | None:
    # SQLite hands back an aggregate of times (min, max) as text.
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


def republish_lost(
    connection: sa.Connection, before: dt.datetime, since: dt.datetime, now: dt.datetime
) -> int:
    """Make due again the events published between ``since`` and ``before`` whose effect
    the inbox has not recorded: their message was lost (a broker that lost what it had
    handed out, a queue purged). Returns how many. A second delivery of one that was
    only slow is skipped by the inbox.
    """
    no_effect = ~sa.exists().where(inbox_table.c.event_id == _o.c.event_id)
    result = connection.execute(
        _o.update()
        .where(
            _o.c.published_at < before,
            _o.c.published_at >= since,
            _o.c.dead_at.is_(None),
            no_effect,
        )
        .values(published_at=None, claim_token=None, claimed_until=None, available_at=now)
    )
    return result.rowcount


def next_due(connection: sa.Connection) -> dt.datetime | None:
    """About when the next unfinished row becomes due (None when nothing is left)."""
    return _as_datetime(
        connection.execute(
            sa.select(sa.func.min(sa.func.coalesce(_o.c.claimed_until, _o.c.available_at))).where(
                _unfinished
            )
        ).scalar()
    )


def unfinished_count(connection: sa.Connection) -> int:
    """How many rows are neither published nor dead."""
    return int(connection.execute(sa.select(sa.func.count()).where(_unfinished)).scalar_one())


@dataclass(frozen=True)
class OutboxStatus:
    """What ``statesignals outbox status`` shows.

    ``pending`` rows wait for their first publication, ``failed`` ones for
    another try after a failure, ``claimed`` ones are leased by a relay right
    now, ``dead`` ones were given up on (see ``last_error``), ``published`` ones
    went to the broker, and ``in_flight`` of those have no effect recorded in the
    inbox yet (an old one may be a message the broker lost: ``retry`` it).
    ``oldest_pending_age`` is how long ago the oldest event neither
    published nor dead was committed, in seconds (None when there is none).
    """

    pending: int
    claimed: int
    failed: int
    dead: int
    published: int
    in_flight: int
    oldest_pending_age: float | None

    def lines(self) -> list[str]:
        """The status as ``name: value`` lines."""
        age = "-" if self.oldest_pending_age is None else f"{self.oldest_pending_age:.1f} s"
        return [
            f"pending: {self.pending}",
            f"claimed: {self.claimed}",
            f"failed: {self.failed}",
            f"dead: {self.dead}",
            f"published: {self.published}",
            f"in flight: {self.in_flight}",
            f"oldest pending age: {age}",
        ]


def status(connection: sa.Connection, now: dt.datetime | None = None) -> OutboxStatus:
    """Count the outbox's rows by state."""
    now = now or utcnow()
    leased = sa.and_(_o.c.claimed_until.is_not(None), _o.c.claimed_until >= now)

    def count(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    row = connection.execute(
        sa.select(
            count(sa.and_(_unfinished, ~leased, _o.c.attempts == 0)).label("pending"),
            count(sa.and_(_unfinished, leased)).label("claimed"),
            count(sa.and_(_unfinished, ~leased, _o.c.attempts > 0)).label("failed"),
            count(_o.c.dead_at.is_not(None)).label("dead"),
            count(_o.c.published_at.is_not(None)).label("published"),
            sa.func.min(sa.case((_unfinished, _o.c.occurred_at), else_=None)).label("oldest"),
        )
    ).one()
    in_flight = connection.execute(
        sa.select(sa.func.count())
        .select_from(_o.outerjoin(inbox_table, inbox_table.c.event_id == _o.c.event_id))
        .where(_o.c.published_at.is_not(None), inbox_table.c.event_id.is_(None))
    ).scalar_one()
    oldest = _as_datetime(row.oldest)
    return OutboxStatus(
        pending=int(row.pending),
        claimed=int(row.claimed),
        failed=int(row.failed),
        dead=int(row.dead),
        published=int(row.published),
        in_flight=int(in_flight),
        oldest_pending_age=None if oldest is None else max(0.0, (now - oldest).total_seconds()),
    )


def _requeue_values(now: dt.datetime) -> dict[str, t.Any]:
    return {
        "dead_at": None,
        "published_at": None,
        "attempts": 0,
        "available_at": now,
        "claim_token": None,
        "claimed_until": None,
    }


def retry(connection: sa.Connection, event_id: str, now: dt.datetime | None = None) -> None:
    """Make ``event_id`` due now with its attempts reset: a dead event, a failed one, or
    a published one that no receiver ever had its effect for (its message was lost).

    An event whose effect the inbox has recorded is refused: running it again
    would do nothing.
    """
    now = now or utcnow()
    row = connection.execute(
        sa.select(_o.c.event_id, _o.c.receiver).where(_o.c.event_id == event_id)
    ).first()
    if row is None:
        raise OutboxError(f"no outbox event {event_id!r}")
    done = connection.execute(
        sa.select(inbox_table.c.processed_at).where(inbox_table.c.event_id == event_id)
    ).first()
    if done is not None:
        raise OutboxError(
            f"event {event_id} ({row.receiver}) already had its effect at {done.processed_at}"
        )
    connection.execute(_o.update().where(_o.c.event_id == event_id).values(**_requeue_values(now)))


def retry_dead(connection: sa.Connection, now: dt.datetime | None = None) -> int:
    """Make every dead event due again with its attempts reset; returns how many."""
    now = now or utcnow()
    result = connection.execute(
        _o.update().where(_o.c.dead_at.is_not(None)).values(**_requeue_values(now))
    )
    return result.rowcount


@dataclass(frozen=True)
class Purged:
    """How many rows :func:`purge` deleted from each table."""

    outbox: int
    inbox: int

    def __add__(self, other: Purged) -> Purged:
        return Purged(self.outbox + other.outbox, self.inbox + other.inbox)


def purge_batch(
    connection: sa.Connection, before: dt.datetime, *, dead: bool = False, limit: int = 1000
) -> Purged:
    """Delete up to ``limit`` finished events from before ``before``, in the transaction
    ``connection`` is in: see :func:`purge`."""
    had_effect = (
        sa.exists()
        .where(inbox_table.c.event_id == _o.c.event_id, inbox_table.c.processed_at < before)
        .correlate(_o)
    )
    finished = sa.and_(_o.c.published_at < before, had_effect)
    if dead:
        finished = sa.or_(finished, _o.c.dead_at < before)
    oldest = sa.select(_o.c.id).where(finished).order_by(_o.c.id).limit(limit)
    event_ids = list(
        connection.execute(
            _o.delete().where(_o.c.id.in_(oldest.scalar_subquery())).returning(_o.c.event_id)
        ).scalars()
    )
    inbox = 0
    if event_ids:
        inbox = connection.execute(
            inbox_table.delete().where(inbox_table.c.event_id.in_(event_ids))
        ).rowcount
    if len(event_ids) < limit:
        # Inbox rows whose outbox row is gone already (deleted by hand, say).
        orphans = (
            sa.select(inbox_table.c.event_id)
            .where(
                inbox_table.c.processed_at < before,
                ~sa.exists().where(_o.c.event_id == inbox_table.c.event_id),
            )
            .limit(limit - len(event_ids))
        )
        inbox += connection.execute(
            inbox_table.delete().where(inbox_table.c.event_id.in_(orphans.scalar_subquery()))
        ).rowcount
    return Purged(outbox=len(event_ids), inbox=inbox)


def purge(
    engine: sa.Engine,
    older_than: dt.timedelta,
    *,
    dead: bool = False,
    batch_size: int = 1000,
    now: dt.datetime | None = None,
) -> Purged:
    """Delete the events that are done with and older than ``older_than``; returns how many
    rows went from each table.

    An event is done with once it was published and its receiver's effect is in the
    inbox: both rows go, provided both are older than ``older_than``. Events still to
    publish, in flight (published, no effect recorded: their message may have been
    lost, and a relay may publish them again) and failed ones stay; dead ones stay
    too unless ``dead`` is set (then those dead-lettered before the cut-off go).
    Inbox rows are what turn a redelivered message into a no-op: keep ``older_than``
    well above the longest time your broker may hold on to a message it delivered
    (Redis's visibility timeout is an hour by default). Deletes ``batch_size`` events
    per transaction, so locks are held briefly however many there are.
    """
    if older_than <= dt.timedelta(0):
        raise OutboxError(f"purge needs a positive age, not {older_than}")
    if batch_size < 1:
        raise OutboxError(f"purge needs a batch size of at least 1, not {batch_size}")
    before = (now or utcnow()) - older_than
    total = Purged(0, 0)
    while True:
        with engine.begin() as connection:
            purged = purge_batch(connection, before, dead=dead, limit=batch_size)
        if not (purged.outbox or purged.inbox):
            return total
        total += purged


def dead_events(connection: sa.Connection, limit: int = 20) -> list[sa.Row[t.Any]]:
    """The most recently dead-lettered rows, with their last errors."""
    return list(
        connection.execute(
            sa.select(_o.c.event_id, _o.c.receiver, _o.c.attempts, _o.c.dead_at, _o.c.last_error)
            .where(_o.c.dead_at.is_not(None))
            .order_by(_o.c.dead_at.desc())
            .limit(limit)
        )
    )


__all__ = [
    "OutboxStatus",
    "Purged",
    "bookkeeping_engine",
    "claim",
    "dead_events",
    "earlier_effect_pending",
    "error_text",
    "insert_claimed",
    "insert_rows",
    "mark_published",
    "mark_published_waking_later",
    "next_due",
    "notify_relays",
    "notify_relays_now",
    "purge",
    "purge_batch",
    "record_failure",
    "release",
    "republish_lost",
    "retry",
    "retry_dead",
    "status",
    "unfinished_count",
]

"""Running a durable receiver once per event: the inbox.

Delivery is at least once (a relay that dies after publishing publishes again;
a broker redelivers what a dead worker had not acknowledged), so the effect is
made once here: the event id goes into the inbox table in the same transaction
as the receiver's own database work. A second delivery finds the id and does
nothing; a receiver that raises rolls back both, and the failure is counted on
the outbox row, which a relay publishes again after its backoff.
"""

from __future__ import annotations

import enum
import logging
import typing as t

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .durable import resolve_receiver
from .events import DurableEvent, utcnow
from .policy import RetryPolicy
from .store import record_failure
from .tables import inbox_table

logger = logging.getLogger("statesignals.outbox")


class Outcome(enum.Enum):
    """What one delivery of an event came to."""

    DONE = "done"
    """The receiver ran and its transaction, inbox row included, committed."""
    DUPLICATE = "duplicate"
    """The inbox already held the event id: its effect was made before."""
    FAILED = "failed"
    """The receiver raised; the event is due again after its backoff."""
    DEAD = "dead"
    """The receiver raised for the last allowed time; the event is dead-lettered."""


def _insert_ignoring_duplicates(dialect: t.Any) -> t.Any:
    statement = dialect.insert(inbox_table).values(
        event_id=sa.bindparam("event_id", type_=sa.String()),
        receiver=sa.bindparam("receiver_name", type_=sa.String()),
        processed_at=sa.bindparam("processed", type_=sa.DateTime()),
    )
    # RETURNING says whether the row went in (rowcount is not reliable across drivers).
    return statement.on_conflict_do_nothing().returning(inbox_table.c.event_id)


# Built once: every delivery runs it before its receiver starts.
_INSERT_IGNORING_DUPLICATES = {
    "sqlite": _insert_ignoring_duplicates(sqlite),
    "postgresql": _insert_ignoring_duplicates(postgresql),
}


def _claim_inbox(session: Session, event: DurableEvent) -> bool:
    """Insert the event's inbox row; False when it is there already."""
    statement = _INSERT_IGNORING_DUPLICATES.get(session.get_bind().dialect.name)
    if statement is not None:
        parameters = {
            "event_id": event.event_id,
            "receiver_name": event.receiver,
            "processed": utcnow(),
        }
        return session.execute(statement, parameters).first() is not None
    values = {"event_id": event.event_id, "receiver": event.receiver, "processed_at": utcnow()}
    try:
        with session.begin_nested():
            session.execute(inbox_table.insert().values(values))
    except sa.exc.IntegrityError:
        return False
    return True


def deliver(engine: sa.Engine, event: DurableEvent, policy: RetryPolicy) -> Outcome:
    """Run ``event``'s receiver unless the inbox says it already had its effect.

    The receiver is called as ``receiver(event, session)`` inside the
    transaction that records the event in the inbox; whatever it does with
    ``session`` commits with that row or not at all.
    """
    try:
        receiver = resolve_receiver(event.receiver)
        with Session(engine) as session, session.begin():
            if not _claim_inbox(session, event):
                logger.info("event %s (%s) already processed", event.event_id, event.receiver)
                return Outcome.DUPLICATE
            receiver(event, session)
    except Exception as error:
        with engine.begin() as connection:
            dead = record_failure(connection, event.event_id, error, policy)
        if dead:
            logger.error(
                "event %s (%s) dead-lettered after %d attempts: %s",
                event.event_id,
                event.receiver,
                event.attempt,
                error,
            )
            return Outcome.DEAD
        logger.warning(
            "event %s (%s) failed on attempt %d, to be tried again: %s",
            event.event_id,
            event.receiver,
            event.attempt,
            error,
        )
        return Outcome.FAILED
    return Outcome.DONE


__all__ = ["Outcome", "deliver"]

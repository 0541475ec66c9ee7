"""The outbox and inbox tables, on a :class:`~sqlalchemy.MetaData` of their own.

The **outbox** holds one row per committed transition and durable receiver,
written in the transaction that changed the state; relays publish its rows.
The **inbox** holds the event id of every event a receiver has had its effect
for, written in the receiver's own transaction; a redelivered event finds its
id there and is skipped.

Create them with :func:`create_tables`, or add :data:`metadata` to your
migrations (``target_metadata=[Base.metadata, statesignals.outbox.metadata]``
with Alembic). Times are UTC, stored without a zone.
"""

from __future__ import annotations

import sqlalchemy as sa

NOTIFY_CHANNEL = "statesignals_outbox"
"""The PostgreSQL channel a committed outbox row is announced on (``LISTEN`` to it)."""

metadata = sa.MetaData()
"""The outbox's tables (and, on PostgreSQL, the trigger that announces new rows)."""

outbox_table = sa.Table(
    "statesignals_outbox",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("event_id", sa.String(36), nullable=False, unique=True),
    sa.Column("transition_id", sa.String(36), nullable=False),
    sa.Column("aggregate_type", sa.String(255), nullable=False),
    sa.Column("aggregate_id", sa.String(255), nullable=False),
    sa.Column("sequence", sa.BigInteger(), nullable=False),
    sa.Column("trigger", sa.String(255), nullable=False),
    sa.Column("source", sa.String(255), nullable=False),
    sa.Column("dest", sa.String(255), nullable=False),
    sa.Column("payload", sa.Text(), nullable=False),
    sa.Column("receiver", sa.String(255), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False, default=0),
    sa.Column("occurred_at", sa.DateTime(), nullable=False),
    sa.Column("available_at", sa.DateTime(), nullable=False),
    sa.Column("claimed_until", sa.DateTime()),
    sa.Column("claim_token", sa.String(36)),
    sa.Column("claimed_by", sa.String(255)),
    sa.Column("published_at", sa.DateTime()),
    sa.Column("dead_at", sa.DateTime()),
    sa.Column("last_error", sa.Text()),
)
"""One row per committed transition and durable receiver (see :mod:`statesignals.outbox`)."""

# Both indexes hold only the rows still to publish, so they stay small however long
# the table grows: relays walk the first in id order and stop at a batch; the second
# answers "is an earlier event of this model and receiver still unpublished?".
_unfinished_rows = sa.and_(outbox_table.c.published_at.is_(None), outbox_table.c.dead_at.is_(None))
sa.Index(
    "statesignals_outbox_pending",
    outbox_table.c.id,
    postgresql_where=_unfinished_rows,
    sqlite_where=_unfinished_rows,
)
sa.Index(
    "statesignals_outbox_aggregate",
    outbox_table.c.aggregate_type,
    outbox_table.c.aggregate_id,
    outbox_table.c.receiver,
    outbox_table.c.sequence,
    postgresql_where=_unfinished_rows,
    sqlite_where=_unfinished_rows,
)

# Relays look for published events that never had their effect (a message a broker
# lost) by publication time.
sa.Index("statesignals_outbox_published", outbox_table.c.published_at)

inbox_table = sa.Table(
    "statesignals_inbox",
    metadata,
    sa.Column("event_id", sa.String(36), primary_key=True),
    sa.Column("receiver", sa.String(255), nullable=False),
    sa.Column("processed_at", sa.DateTime(), nullable=False),
)
"""The event id of every event whose receiver committed its effect."""

# On PostgreSQL every row added for relays to claim announces itself: the
# notification is delivered when (and only if) the transaction commits (once per
# transaction, however many rows), and costs the writer no extra round trip. A row
# its writer claimed as it added it (publishing after commit) wakes nobody.
_notify_function = sa.DDL(  # type: ignore[no-untyped-call]
    f"""
    CREATE OR REPLACE FUNCTION statesignals_outbox_notify() RETURNS trigger AS $$
    BEGIN
        PERFORM pg_notify('{NOTIFY_CHANNEL}', '');
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql
    """
)
_notify_trigger = sa.DDL(  # type: ignore[no-untyped-call]
    "CREATE TRIGGER statesignals_outbox_notify AFTER INSERT ON statesignals_outbox "
    "FOR EACH ROW WHEN (NEW.claim_token IS NULL) EXECUTE FUNCTION statesignals_outbox_notify()"
)
sa.event.listen(outbox_table, "after_create", _notify_function.execute_if(dialect="postgresql"))
sa.event.listen(outbox_table, "after_create", _notify_trigger.execute_if(dialect="postgresql"))
sa.event.listen(
    outbox_table,
    "after_drop",
    sa.DDL(  # type: ignore[no-untyped-call]
        "DROP FUNCTION IF EXISTS statesignals_outbox_notify()"
    ).execute_if(dialect="postgresql"),
)


def create_tables(bind: sa.Engine | sa.Connection) -> None:
    """Create the outbox and inbox tables that do not exist yet."""
    metadata.create_all(bind)


def drop_tables(bind: sa.Engine | sa.Connection) -> None:
    """Drop the outbox and inbox tables (and their PostgreSQL trigger)."""
    metadata.drop_all(bind)


__all__ = [
    "NOTIFY_CHANNEL",
    "create_tables",
    "drop_tables",
    "inbox_table",
    "metadata",
    "outbox_table",
]

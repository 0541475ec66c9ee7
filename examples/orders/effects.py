"""What the receivers leave behind, one table per outside system the shop talks to.

In a real shop these would be a mail server, the warehouse, a payment provider,
an audit log and the operations team's pager. Here each is a table, so the demo
and the tests can count every effect: a durable receiver writes its row in the
worker's transaction together with the inbox row for its event, so each row
carries the ``event_id`` it was made for, and ``recorded_at`` says when.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base


def utcnow() -> dt.datetime:
    """Now, in UTC without a zone (as the outbox stores its times)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Effect(Base):
    """Columns every effect has: the order, the event it was made for, and when."""

    __abstract__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    order_number: Mapped[str] = mapped_column(String(40), index=True)
    event_id: Mapped[str] = mapped_column(String(36), index=True)
    occurred_at: Mapped[dt.datetime]
    """When the transition happened (just before its commit)."""
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Mail(Effect):
    """A mail sent to a customer."""

    __tablename__ = "mails"
    recipient: Mapped[str] = mapped_column(String(120))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)


class StockMovement(Effect):
    """Units set aside, given back or taken out of the warehouse for one order line."""

    __tablename__ = "stock_movements"
    sku: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))
    """``reserved``, ``backordered`` (not enough free units), ``released`` or ``dispatched``."""


class Refund(Effect):
    """Money given back through the payment provider."""

    __tablename__ = "refunds"
    amount: Mapped[int]


class AuditEntry(Effect):
    """One committed transition, in the audit log."""

    __tablename__ = "audit_log"
    trigger: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(40))
    dest: Mapped[str] = mapped_column(String(40))


class Alert(Effect):
    """Something the operations team must look at."""

    __tablename__ = "alerts"
    message: Mapped[str] = mapped_column(String(300))


class Denial(Base):
    """A trigger the workflow refused, and why (written with the attempt's transaction)."""

    __tablename__ = "denials"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_number: Mapped[str] = mapped_column(String(40), index=True)
    trigger: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


DURABLE_EFFECTS: dict[str, type[Effect]] = {
    "mails": Mail,
    "stock": StockMovement,
    "refunds": Refund,
    "audit": AuditEntry,
    "alerts": Alert,
}
"""The tables durable receivers write, by the name the demo shows."""

"""The shop publishing its own durable events as each commit returns.

A relay runs beside it all the same: it publishes what the shop leaves (an event
behind an unpublished one of its order, an event whose publication failed, the
events of a process that died before publishing them).
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from statesignals.celery import CeleryPublisher
from statesignals.outbox import AfterCommitPublishing, publish_after_commit

from .shop import Order
from .tasks import app


def start_publishing() -> AfterCommitPublishing:
    """At start-up: from now on this process publishes the events it commits."""
    return publish_after_commit(CeleryPublisher(app))


def ship(sessions: sessionmaker[Session], order_id: int, carrier: str) -> None:
    with sessions.begin() as session:
        session.get_one(Order, order_id).ship(carrier=carrier)
    # Committed, and the warehouse's task is on the broker already.

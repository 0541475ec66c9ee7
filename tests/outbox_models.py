"""A persisted workflow with durable receivers, as an application would have them.

The receivers are module-level functions (workers import them by name); the
tests connect them, since the suite disconnects every receiver after each test.
"""

from __future__ import annotations

import json
import os
import typing as t

from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from statesignals import AsyncTrigger, SignalingAsyncMachine, Trigger
from statesignals.outbox import DurableEvent
from statesignals.sqlalchemy import PersistedWorkflow, state_column

from .outbox_support import effects, record_effect


class Base(DeclarativeBase):
    pass


class Parcel(PersistedWorkflow, Base):
    __tablename__ = "parcels"
    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = state_column()

    states = ["packed", "shipped", "delivered"]
    initial = "packed"
    transitions = [
        {"trigger": "ship", "source": "packed", "dest": "shipped"},
        {"trigger": "deliver", "source": "shipped", "dest": "delivered"},
        {"trigger": "advance", "source": "packed", "dest": "shipped"},
        {"trigger": "advance", "source": "shipped", "dest": "delivered"},
        {"trigger": "advance", "source": "delivered", "dest": "packed"},
    ]

    ship: Trigger
    deliver: Trigger
    advance: Trigger


class Letter(PersistedWorkflow, Base):
    """Another workflow: durable receivers of Parcel must not hear it."""

    __tablename__ = "letters"
    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = state_column()

    states = ["written", "sent"]
    initial = "written"
    transitions = [{"trigger": "ship", "source": "written", "dest": "sent"}]

    ship: Trigger


def new_parcel(sessions: sessionmaker[Session]) -> int:
    """Commit a new parcel; its primary key."""
    with sessions() as session, session.begin():
        parcel = Parcel()
        session.add(parcel)
        session.flush()
        return parcel.id


def notify_carrier(event: DurableEvent, session: Session) -> None:
    """Records the effect, with the state the committed parcel has when the worker loads it."""
    parcel = event.load(session)
    session.execute(
        effects.insert().values(
            event_id=event.event_id,
            aggregate=json.dumps({"state": parcel.state, **event.kwargs}),
            sequence=event.sequence,
            receiver=event.receiver,
            pid=os.getpid(),
        )
    )


def count_shipment(event: DurableEvent, session: Session) -> None:
    record_effect(event, session)


class Carrier:
    def pick_up(self, event: DurableEvent, session: Session) -> None:
        """A method: bound, a worker could not import it."""


def not_a_receiver(*args: t.Any) -> None:
    pass


class AsyncBase(DeclarativeBase):
    pass


class Shipment(PersistedWorkflow, AsyncBase):
    """An asynchronous workflow with durable receivers, committed through AsyncSession."""

    __tablename__ = "shipments"
    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = state_column()

    machine_cls = SignalingAsyncMachine
    states = ["packed", "shipped"]
    initial = "packed"
    transitions = [{"trigger": "ship", "source": "packed", "dest": "shipped"}]

    ship: AsyncTrigger

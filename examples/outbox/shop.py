"""The shop's orders and the work that must happen once each order ships."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from statesignals import Trigger
from statesignals.outbox import DurableEvent
from statesignals.sqlalchemy import PersistedWorkflow, state_column


class Base(DeclarativeBase):
    pass


class Order(PersistedWorkflow, Base):
    __tablename__ = "shop_orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = state_column()

    states = ["pending", "paid", "shipped"]
    initial = "pending"
    transitions = [
        {"trigger": "pay", "source": "pending", "dest": "paid"},
        {"trigger": "ship", "source": "paid", "dest": "shipped"},
    ]

    pay: Trigger
    ship: Trigger


class Parcel(Base):
    """What the warehouse is told to send: one row per shipped order, ever."""

    __tablename__ = "shop_parcels"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("shop_orders.id"), unique=True)
    carrier: Mapped[str] = mapped_column(String(20))


@Order.on_commit("ship", durable=True)
def send_to_warehouse(event: DurableEvent, session: Session) -> None:
    """Runs on a worker once the shipping committed, once per shipped order."""
    order = event.load(session)
    session.add(Parcel(order_id=order.id, carrier=event.kwargs["carrier"]))

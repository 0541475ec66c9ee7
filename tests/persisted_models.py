"""Persisted workflows that the persistence tests share.

Apart from ``tests/models.py``: importing these maps classes on SQLAlchemy and connects
each class's version recorder, which the other test files need not have.
"""

from __future__ import annotations

import enum

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from statesignals import AsyncTrigger, SignalingAsyncMachine, SignalingHierarchicalMachine, Trigger
from statesignals.sqlalchemy import PersistedWorkflow, state_column


class Base(DeclarativeBase):
    pass


class Order(PersistedWorkflow, Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer: Mapped[str] = mapped_column(String(50), default="ada")
    state: Mapped[str] = state_column()

    history = True
    states = ["pending", "paid", "shipped", "cancelled"]
    initial = "pending"
    transitions = [
        {"trigger": "pay", "source": "pending", "dest": "paid"},
        {"trigger": "ship", "source": "paid", "dest": "shipped"},
        {"trigger": "cancel", "source": ["pending", "paid"], "dest": "cancelled"},
        {"trigger": "reopen", "source": "cancelled", "dest": "pending"},
        {"trigger": "note", "source": "*", "dest": None},
    ]

    pay: Trigger
    ship: Trigger
    cancel: Trigger
    reopen: Trigger
    note: Trigger
    is_pending: Trigger
    may_pay: Trigger


class Counter(PersistedWorkflow, Base):
    """Flips for ever: the rows the concurrency tests race on."""

    __tablename__ = "counters"
    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = state_column()

    history = True
    states = ["even", "odd"]
    initial = "even"
    transitions = [["flip", "even", "odd"], ["flip", "odd", "even"]]

    flip: Trigger


class Priority(enum.Enum):
    LOW = 1
    HIGH = 2
    CLOSED = 3


class Ticket(Base, PersistedWorkflow):
    """Enum states, a protected column under another name, base classes the other way."""

    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[Priority] = state_column(protected=True)

    model_attribute = "status"
    states = Priority
    initial = Priority.LOW
    transitions = [
        ["escalate", Priority.LOW, Priority.HIGH],
        ["close", [Priority.LOW, Priority.HIGH], Priority.CLOSED],
    ]

    escalate: Trigger
    close: Trigger
    may_close: Trigger


class Shipment(PersistedWorkflow, Base):
    """Nested states: the full state name is stored."""

    __tablename__ = "shipments"
    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = state_column()

    machine_cls = SignalingHierarchicalMachine
    states = [
        "packing",
        {"name": "transit", "children": ["road", "sea"], "initial": "road"},
        "delivered",
    ]
    initial = "packing"
    transitions = [
        {"trigger": "dispatch", "source": "packing", "dest": "transit"},
        {"trigger": "transfer", "source": "transit_road", "dest": "transit_sea"},
        {"trigger": "deliver", "source": "transit", "dest": "delivered"},
    ]

    dispatch: Trigger
    transfer: Trigger
    deliver: Trigger
    is_transit_sea: Trigger


class AsyncBase(DeclarativeBase):
    pass


class Claim(PersistedWorkflow, AsyncBase):
    """An asynchronous workflow, for AsyncSession."""

    __tablename__ = "claims"
    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = state_column()

    history = True
    machine_cls = SignalingAsyncMachine
    states = ["filed", "approved", "paid_out"]
    initial = "filed"
    transitions = [
        {"trigger": "approve", "source": "filed", "dest": "approved"},
        {"trigger": "pay_out", "source": "approved", "dest": "paid_out"},
        {"trigger": "escalate", "source": "filed", "dest": "approved", "after": "page_manager"},
    ]

    approve: AsyncTrigger
    pay_out: AsyncTrigger
    escalate: AsyncTrigger

    async def page_manager(self) -> None:
        raise RuntimeError("pager unreachable")

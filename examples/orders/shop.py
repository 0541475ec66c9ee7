"""What the shop's processes do with the database: both demos and the tests use it.

Each function takes a session (or a ``sessionmaker``) and works in the
caller's transaction; :func:`attempt` is a unit of work of its own, rerun on
a conflict with another writer.
"""

from __future__ import annotations

import collections.abc as c
import typing as t

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from statesignals import MachineError, outbox
from statesignals.sqlalchemy import retry_on_conflict

from .effects import DURABLE_EFFECTS, Denial, Effect
from .models import Base, Order, OrderLine, Product

Catalogue = c.Sequence[tuple[str, str, int, int]]
"""(sku, name, price in cents, units to have free for new orders)."""


def create_tables(engine: sa.Engine) -> None:
    """The shop's tables and the outbox's, where they are missing."""
    Base.metadata.create_all(engine)
    outbox.create_tables(engine)


def restock(session: Session, catalogue: Catalogue) -> None:
    """Add the products, or restock them so that the given units are free for new orders.

    Units reserved for orders already paid stay reserved (and on hand).
    """
    for sku, name, price, free in catalogue:
        product = session.get(Product, sku)
        if product is None:
            session.add(Product(sku=sku, name=name, price=price, on_hand=free, reserved=0))
        else:
            product.name, product.price, product.on_hand = name, price, product.reserved + free


def next_batch(session: Session) -> int:
    """The number of the batch after the last one stored."""
    return int(session.scalar(sa.select(sa.func.coalesce(sa.func.max(Order.batch), 0) + 1)) or 1)


def place_order(
    session: Session, number: str, email: str, lines: c.Mapping[str, int], *, batch: int = 1
) -> Order:
    """A new pending order for ``lines`` (``{sku: quantity}``) at catalogue prices."""
    query = sa.select(Product.sku, Product.price).where(Product.sku.in_(lines))
    prices: dict[str, int] = {sku: price for sku, price in session.execute(query)}
    unknown = sorted(set(lines) - set(prices))
    if unknown:
        raise LookupError(f"order {number}: no product {', '.join(unknown)}")
    order = Order(
        number=number,
        batch=batch,
        email=email,
        total=sum(prices[sku] * quantity for sku, quantity in lines.items()),
        paid=0,
        refunded=0,
        lines=[OrderLine(sku=sku, quantity=quantity) for sku, quantity in lines.items()],
    )
    session.add(order)
    session.flush()
    return order


def find_order(session: Session, number: str) -> Order:
    return session.scalars(sa.select(Order).where(Order.number == number)).one()


class Outcome(t.NamedTuple):
    """What one attempt at a trigger came to."""

    moved: bool
    source: str
    dest: str
    denied: str | None
    """Why the workflow refused the trigger (None when it moved)."""


def fire(session: Session, order: Order, trigger: str, *args: t.Any) -> Outcome:
    """Fire ``trigger`` on ``order``; a refusal is an outcome here, not an error.

    The refusal's reason is what the ``record_denial`` receiver wrote; an
    invalid trigger's MachineError only ends the attempt.
    """
    source = order.state
    try:
        moved = bool(order.trigger(trigger, *args))
    except MachineError:
        moved = False
    denied = None
    if not moved:
        denials = [item for item in session.new if isinstance(item, Denial)]
        denied = denials[-1].reason if denials else "refused"
    return Outcome(moved, source, order.state, denied)


def attempt(
    sessions: sessionmaker[Session], number: str, trigger: str, *args: t.Any, attempts: int = 10
) -> Outcome:
    """Fire ``trigger`` on order ``number`` in a transaction of its own, rerun with a
    fresh order when another writer changed it first."""
    return retry_on_conflict(
        sessions,
        lambda session: fire(session, find_order(session, number), trigger, *args),
        attempts=attempts,
    )


# What the demo reports.


def orders_by_state(session: Session, batch: int | None = None) -> dict[str, int]:
    """How many orders (of ``batch``, or all) are in each state, in workflow order."""
    query = sa.select(Order.state, sa.func.count()).group_by(Order.state)
    if batch is not None:
        query = query.where(Order.batch == batch)
    counts: dict[str, int] = {state: count for state, count in session.execute(query)}
    return {state: counts[state] for state in Order.machine.states if state in counts}


def products(session: Session) -> list[Product]:
    return list(session.scalars(sa.select(Product).order_by(Product.sku)))


def effects_of(session: Session, kind: type[Effect], batch: int | None = None) -> list[t.Any]:
    """The rows a durable receiver wrote (for the orders of ``batch``), oldest first."""
    query = sa.select(kind).order_by(kind.id)
    if batch is not None:
        query = query.join(Order, Order.number == kind.order_number).where(Order.batch == batch)
    return list(session.scalars(query))


def denials_of(session: Session, batch: int | None = None) -> list[Denial]:
    query = sa.select(Denial).order_by(Denial.id)
    if batch is not None:
        query = query.join(Order, Order.number == Denial.order_number).where(Order.batch == batch)
    return list(session.scalars(query))


def history_of(session: Session, number: str) -> list[t.Any]:
    """Every committed transition of one order (its creation first), from the history table."""
    return list(session.execute(Order.history_select(find_order(session, number).id)))


def outbox_status(engine: sa.Engine) -> outbox.OutboxStatus:
    with engine.connect() as connection:
        return outbox.status(connection)


__all__ = [
    "DURABLE_EFFECTS",
    "Catalogue",
    "Outcome",
    "attempt",
    "create_tables",
    "denials_of",
    "effects_of",
    "find_order",
    "fire",
    "history_of",
    "next_batch",
    "orders_by_state",
    "outbox_status",
    "place_order",
    "products",
    "restock",
]

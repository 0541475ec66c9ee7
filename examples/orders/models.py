"""The shop's data: products, orders and their lines, and the order workflow.

``Order`` is a :class:`~statesignals.sqlalchemy.PersistedWorkflow`: a mapped
class whose ``state`` column follows its transitions, with a version checked on
every write (optimistic locking) and a history table of every transition. The
library writes all of that; this module declares the workflow and the columns.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, object_session, relationship

from statesignals import Trigger
from statesignals.sqlalchemy import PersistedWorkflow, state_column


class Base(DeclarativeBase):
    """The shop's tables (the outbox's are on ``statesignals.outbox.metadata``)."""


class Product(Base):
    """A product and its stock: ``reserved`` units are set aside for paid orders."""

    __tablename__ = "products"
    __table_args__ = (CheckConstraint("reserved BETWEEN 0 AND on_hand", name="stock_covers"),)

    sku: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    price: Mapped[int]
    on_hand: Mapped[int]
    reserved: Mapped[int] = mapped_column(default=0)

    @property
    def available(self) -> int:
        """Units on hand that no order has reserved."""
        return self.on_hand - self.reserved


class OrderLine(Base):
    __tablename__ = "order_lines"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    sku: Mapped[str] = mapped_column(ForeignKey("products.sku"), primary_key=True)
    quantity: Mapped[int]


class Order(PersistedWorkflow, Base):
    """A customer's order, from checkout to the doorstep. Amounts are in cents.

    The guards read the order and the stock; the callbacks change the order's own
    columns. Everything else that happens because an order moved (mails, stock,
    refunds, audit, alerts) is a receiver, in ``receivers``.
    """

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    batch: Mapped[int] = mapped_column(index=True)
    email: Mapped[str] = mapped_column(String(120))
    total: Mapped[int]
    paid: Mapped[int] = mapped_column(default=0)
    refunded: Mapped[int] = mapped_column(default=0)
    # Protected: only a trigger moves an order (order.state = "paid" raises).
    state: Mapped[str] = state_column(protected=True)
    lines: Mapped[list[OrderLine]] = relationship(order_by=OrderLine.sku)

    history = True
    states = [
        "pending",
        "paid",
        "packed",
        "shipped",
        {"name": "delivered", "final": True},
        {"name": "cancelled", "final": True},
    ]
    initial = "pending"
    transitions = [
        {
            "trigger": "pay",
            "source": "pending",
            "dest": "paid",
            "conditions": ["payment_covers_total", "all_items_in_stock"],
            "before": "record_payment",
        },
        {"trigger": "pack", "source": "paid", "dest": "packed"},
        {"trigger": "ship", "source": "packed", "dest": "shipped"},
        {"trigger": "deliver", "source": "shipped", "dest": "delivered"},
        {"trigger": "cancel", "source": "pending", "dest": "cancelled"},
        {"trigger": "cancel", "source": "paid", "dest": "cancelled", "after": "owe_refund"},
    ]
    # Moving an order is a business event with guards: no to_<state>() shortcuts.
    auto_transitions = False

    pay: Trigger
    pack: Trigger
    ship: Trigger
    deliver: Trigger
    cancel: Trigger

    def __repr__(self) -> str:
        return f"Order({self.number!r}, {self.state!r})"

    @property
    def quantities(self) -> dict[str, int]:
        """``{sku: quantity}`` of the order's lines."""
        return {line.sku: line.quantity for line in self.lines}

    # Guards.

    def payment_covers_total(self, amount: int) -> bool:
        """The payment offered is at least the order's total."""
        return amount >= self.total

    def all_items_in_stock(self, *trigger_args: object) -> bool:
        """Every line can be served from stock no other order has reserved."""
        session = object_session(self)
        assert session is not None, "a persisted order is checked in its session"
        for sku, quantity in self.quantities.items():
            product = session.get(Product, sku)
            if product is None or product.available < quantity:
                return False
        return True

    # Callbacks: part of the transition itself, written in its flush.

    def record_payment(self, amount: int) -> None:
        self.paid = amount

    def owe_refund(self, *trigger_args: object) -> None:
        self.refunded = self.paid


def money(cents: int) -> str:
    """``3450`` as ``'34.50'``."""
    return f"{cents / 100:.2f}"

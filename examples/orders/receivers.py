"""What the shop does when an order moves: mails, stock, refunds, audit, alerts.

None of this is in the workflow: each function here is a receiver.

**Durable receivers** talk to the outside world, so they must run once the
order's transaction has committed, never for a change that was rolled back, and
exactly once however often a message is delivered. Connecting one makes every
matching committed transition write an outbox row in the same transaction; a
relay hands the row to a worker (a Celery worker, or the relay itself in the
embedded demo), which runs the receiver as ``receiver(event, session)`` in a
transaction that also records the event in the inbox. They are module-level
functions because workers import them by name.

Events reach one durable receiver in the order of the order's transitions, but
two receivers are not ordered against each other. So everything about stock is
one receiver, :func:`keep_stock`: the units a cancellation releases were
certainly reserved before.

**Plain receivers** run in the process that fired the trigger: :func:`record_denial`
(a refused trigger commits no transition, so there is nothing to relay; the
denial row is written in the attempt's own transaction) and :func:`count_commit`
(a counter of committed transitions for the process's own report, which may
be lost with the process).
"""

from __future__ import annotations

import collections
import collections.abc as c
import typing as t

from sqlalchemy import CursorResult, update
from sqlalchemy.orm import Session, object_session

from statesignals import transition_committed, transition_denied
from statesignals.outbox import DurableEvent

from .effects import Alert, AuditEntry, Denial, Effect, Mail, Refund, StockMovement
from .models import Order, Product, money

# Durable receivers, run by a worker once the transition committed.


def _effect(table: type[Effect], event: DurableEvent, order: Order, **columns: t.Any) -> Effect:
    return table(
        order_number=order.number,
        event_id=event.event_id,
        occurred_at=event.occurred_at,
        **columns,
    )


def _mail_text(order: Order, event: DurableEvent) -> tuple[str, str]:
    if event.trigger == "pay":
        return "payment received", f"We received {money(event.args[0])}; we are packing it."
    if event.trigger == "pack":
        return "packed", "Your order is packed and waits for the carrier."
    if event.trigger == "ship":
        return "on its way", "Your order left our warehouse."
    if event.trigger == "deliver":
        return "delivered", "Your order was delivered. Thank you for shopping with us."
    refund = f" We refunded {money(order.refunded)}." if order.refunded else ""
    return "cancelled", f"Your order was cancelled.{refund}"


def mail_customer(event: DurableEvent, session: Session) -> None:
    """Every committed transition: tell the customer."""
    order = event.load(session)
    subject, body = _mail_text(order, event)
    session.add(
        _effect(
            Mail,
            event,
            order,
            recipient=order.email,
            subject=f"Order {order.number}: {subject}",
            body=body,
        )
    )


def keep_stock(event: DurableEvent, session: Session) -> None:
    """``pay`` reserves the order's units, ``cancel`` of a paid order releases them,
    ``ship`` takes them out of the warehouse.

    Another order may have taken the last units since this one passed its
    ``all_items_in_stock`` guard (the guard reads reservations already made): then
    nothing is reserved, the lines are backordered and operations alerted.

    What ``ship`` and ``cancel`` do depends on what ``pay`` did, and several worker
    processes may take an order's events at once: ``check_order`` makes a later event
    wait (tried again after its backoff) until the earlier ones had their effect.
    """
    event.check_order(session)
    order = event.load(session)
    lines = sorted(order.quantities.items())  # one lock order for every worker
    if event.trigger == "pay":
        kind = "reserved" if _reserve(session, lines) else "backordered"
        if kind == "backordered":
            skus = ", ".join(sku for sku, _ in lines)
            session.add(_effect(Alert, event, order, message=f"backordered: {skus}"))
    elif not _was_reserved(session, order):
        if event.trigger == "ship":
            session.add(_effect(Alert, event, order, message="shipped with no stock reserved"))
        return  # a pending or backordered order has no units to release
    elif event.trigger == "ship":
        kind = "dispatched"
        for sku, quantity in lines:
            _adjust(session, sku, on_hand=-quantity, reserved=-quantity)
    else:
        kind = "released"
        for sku, quantity in lines:
            _adjust(session, sku, reserved=-quantity)
    for sku, quantity in lines:
        session.add(_effect(StockMovement, event, order, sku=sku, quantity=quantity, kind=kind))


def _reserve(session: Session, lines: c.Sequence[tuple[str, int]]) -> bool:
    """Reserve every line, or none of them."""
    savepoint = session.begin_nested()
    for sku, quantity in lines:
        result = session.execute(
            update(Product)
            .where(Product.sku == sku, Product.on_hand - Product.reserved >= quantity)
            .values(reserved=Product.reserved + quantity)
        )
        if t.cast(CursorResult[t.Any], result).rowcount != 1:
            savepoint.rollback()
            return False
    savepoint.commit()
    return True


def _adjust(session: Session, sku: str, *, on_hand: int = 0, reserved: int = 0) -> None:
    session.execute(
        update(Product)
        .where(Product.sku == sku)
        .values(on_hand=Product.on_hand + on_hand, reserved=Product.reserved + reserved)
    )


def _was_reserved(session: Session, order: Order) -> bool:
    found = session.query(StockMovement.id).filter_by(order_number=order.number, kind="reserved")
    return session.query(found.exists()).scalar() is True


def refund_payment(event: DurableEvent, session: Session) -> None:
    """``cancel`` of a paid order: give the money back through the payment provider."""
    order = event.load(session)
    if event.source == "paid" and order.refunded:
        session.add(_effect(Refund, event, order, amount=order.refunded))


def audit_transition(event: DurableEvent, session: Session) -> None:
    """Every committed transition: one line in the audit log."""
    order = event.load(session)
    session.add(
        _effect(
            AuditEntry, event, order, trigger=event.trigger, source=event.source, dest=event.dest
        )
    )


def alert_operations(event: DurableEvent, session: Session) -> None:
    """``cancel`` of a paid order: operations checks the refund and the parcel."""
    if event.source != "paid":
        return
    order = event.load(session)
    message = f"cancelled after payment: refund of {money(order.refunded)} to reconcile"
    session.add(_effect(Alert, event, order, message=message))


# Plain receivers, in the process that fired the trigger.


def record_denial(order: object, trigger: str, source: str, reason: str, **payload: t.Any) -> None:
    """A refused trigger of an order: keep the reason, in the attempt's transaction."""
    if not isinstance(order, Order):
        return
    session = object_session(order)
    failed = ", ".join(payload.get("failed_conditions") or ())
    denial = Denial(
        order_number=order.number,
        trigger=trigger,
        state=source,
        reason=f"{reason}: {failed}" if failed else reason,
    )
    if session is not None:
        session.add(denial)


committed_triggers: collections.Counter[str] = collections.Counter()
"""Transitions of orders this process committed, by trigger (:func:`count_commit`)."""


def count_commit(order: object, trigger: str, **payload: t.Any) -> None:
    if isinstance(order, Order):
        committed_triggers[trigger] += 1


DURABLE_RECEIVERS: dict[str, c.Callable[[DurableEvent, Session], None]] = {
    "mail_customer": mail_customer,
    "keep_stock": keep_stock,
    "refund_payment": refund_payment,
    "audit_transition": audit_transition,
    "alert_operations": alert_operations,
}
"""The durable receivers by name, in the order the demo reports them."""


def connect_receivers() -> None:
    """Connect every receiver of the shop.

    Done when this module is imported; calling it again changes nothing (each
    receiver is connected once), which lets a test suite that disconnects every
    receiver between tests put these back.
    """
    transition_committed.connect_durable(Order)(mail_customer)
    transition_committed.connect_durable(Order)(audit_transition)
    for trigger in ("pay", "cancel", "ship"):
        Order.on_commit(trigger, durable=True)(keep_stock)
    Order.on_commit("cancel", durable=True)(refund_payment)
    Order.on_commit("cancel", durable=True)(alert_operations)
    transition_denied.connect(record_denial)
    transition_committed.connect(count_commit)


connect_receivers()

"""What the shop does when an order moves: mails, stock, audit trail and alerts.

None of this is in the workflow: each function here listens for a signal.
Per-transition and per-state work uses the ``Order`` class helpers; the audit
trail and the operations alerts concern every order signal and listen on the
global signals. Importing this module connects them all (:func:`connect_receivers`).
"""

from __future__ import annotations

import collections.abc as c
import typing as t

from statesignals import signals, transition_denied

from .models import Order
from .storage import money

# Customer mails, one per transition. Queued in the outbox, never sent from here.


def _mail(order: Order, subject: str, body: str) -> None:
    order.store.queue_mail(order.number, order.email, f"Order {order.number}: {subject}", body)


def confirm_payment(order: Order, **payload: t.Any) -> None:
    _mail(order, "payment received", f"We received {money(order.paid)}; we are packing it.")


def announce_packing(order: Order, **payload: t.Any) -> None:
    _mail(order, "packed", "Your order is packed and waits for the carrier.")


def announce_shipping(order: Order, **payload: t.Any) -> None:
    _mail(order, "on its way", "Your order left our warehouse.")


def confirm_delivery(order: Order, **payload: t.Any) -> None:
    _mail(order, "delivered", "Your order was delivered. Thank you for shopping with us.")


def confirm_cancellation(order: Order, **payload: t.Any) -> None:
    refund = f" We refunded {money(order.refunded)}." if order.refunded else ""
    _mail(order, "cancelled", f"Your order was cancelled.{refund}")


def decline_payment(order: Order, failed_conditions: list[str], **payload: t.Any) -> None:
    if "payment_covers_total" in failed_conditions:
        why = f"the payment did not cover the total of {money(order.total)}"
    else:
        why = "an item is out of stock; nothing was charged"
    _mail(order, "payment not accepted", f"We could not accept your payment: {why}.")


# Stock: reserved while the order is paid, released on cancellation, taken when shipped.


def reserve_stock(order: Order, **payload: t.Any) -> None:
    order.store.reserve(order.lines)


def release_stock(order: Order, source: str, **payload: t.Any) -> None:
    if source == "paid":
        order.store.release(order.lines)


def dispatch_stock(order: Order, **payload: t.Any) -> None:
    order.store.dispatch(order.lines)


# Every order signal goes to the audit trail; every refusal alerts operations.


def _audit_detail(payload: dict[str, t.Any]) -> str:
    if "reason" in payload:
        failed = ", ".join(payload["failed_conditions"])
        return f"{payload['reason']}: {failed}" if failed else payload["reason"]
    if "error" in payload:
        return repr(payload["error"])
    return str(payload.get("state", ""))


def _auditor(signal_name: str) -> c.Callable[..., None]:
    def audit(order: object, **payload: t.Any) -> None:
        if isinstance(order, Order):
            order.store.record_audit(
                order.number,
                signal_name,
                payload["trigger"],
                payload["source"],
                payload["dest"],
                _audit_detail(payload),
            )

    audit.__name__ = audit.__qualname__ = f"audit_{signal_name}"
    return audit


AUDITORS = {name: _auditor(name) for name in signals}
"""One audit receiver per global signal (held here, so blinker's weak references stay alive)."""


def alert_operations(order: object, **payload: t.Any) -> None:
    if isinstance(order, Order):
        order.store.raise_alert(
            order.number, payload["trigger"], payload["source"], _audit_detail(payload)
        )


def connect_receivers() -> None:
    """Connect the mails and the stock to their transitions and states, the audit
    trail to every global signal, and the alerts to denials.

    Done when this module is imported; calling it again changes nothing (a
    receiver is connected once), which lets a test suite that disconnects every
    receiver between tests put these back.
    """
    Order.on_transition("pay")(confirm_payment)
    Order.on_transition("pack")(announce_packing)
    Order.on_transition("ship")(announce_shipping)
    Order.on_transition("deliver")(confirm_delivery)
    Order.on_transition("cancel")(confirm_cancellation)
    Order.on_denied("pay")(decline_payment)
    Order.on_enter("paid")(reserve_stock)
    Order.on_transition("cancel")(release_stock)
    Order.on_enter("shipped")(dispatch_stock)
    for name, audit in AUDITORS.items():
        signals[name].connect(audit)
    transition_denied.connect(alert_operations)


connect_receivers()

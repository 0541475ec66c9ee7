"""The order model and its workflow."""

from __future__ import annotations

import collections.abc as c
import typing as t

from statesignals import SignalingMachine, Trigger

if t.TYPE_CHECKING:
    from .storage import Store


class Order(SignalingMachine):
    """A customer's order, from checkout to the doorstep.

    Amounts are in cents. The order reads stock levels and saves itself
    through ``store``; everything else that happens around a transition
    (mails, audit, stock reservation, alerts) is done by receivers.
    """

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
        {"trigger": "cancel", "source": "paid", "dest": "cancelled", "after": "refund"},
    ]
    # Moving an order is a business event with guards: no to_<state>() shortcuts.
    auto_transitions = False
    # The order row follows every state change, before any receiver hears of it.
    after_state_change = "save"

    pay: Trigger
    pack: Trigger
    ship: Trigger
    deliver: Trigger
    cancel: Trigger

    def __init__(
        self,
        store: Store,
        number: str,
        *,
        email: str,
        lines: c.Mapping[str, int],
        total: int,
        paid: int = 0,
        refunded: int = 0,
        state: str | None = None,
    ) -> None:
        self.store = store
        self.number = number
        self.email = email
        self.lines = dict(lines)
        self.total = total
        self.paid = paid
        self.refunded = refunded
        if state is not None:
            self.state = state

    def __repr__(self) -> str:
        return f"Order({self.number!r})"

    # Guards.

    def payment_covers_total(self, amount: int) -> bool:
        """The payment offered is at least the order's total."""
        return amount >= self.total

    def all_items_in_stock(self, *trigger_args: object) -> bool:
        """Every line can be served from the stock not yet reserved for other orders."""
        return all(self.store.available(sku) >= quantity for sku, quantity in self.lines.items())

    # Callbacks of the workflow itself.

    def record_payment(self, amount: int) -> None:
        self.paid = amount

    def refund(self, *trigger_args: object) -> None:
        self.refunded = self.paid

    def save(self, *trigger_args: object) -> None:
        self.store.save(self)

"""The order model and its workflow."""

from __future__ import annotations

from statesignals import SignalingMachine, Trigger


class Order(SignalingMachine):
    """A customer order, from checkout to delivery."""

    states = ["pending", "paid", "shipped", "delivered", "cancelled"]
    initial = "pending"
    transitions = [
        {"trigger": "pay", "source": "pending", "dest": "paid", "conditions": "is_funded"},
        {"trigger": "ship", "source": "paid", "dest": "shipped"},
        {"trigger": "deliver", "source": "shipped", "dest": "delivered"},
        {"trigger": "cancel", "source": ["pending", "paid"], "dest": "cancelled"},
    ]

    pay: Trigger
    ship: Trigger
    deliver: Trigger
    cancel: Trigger

    def __init__(self, number: str, total: int, paid_amount: int = 0) -> None:
        self.number = number
        self.total = total
        self.paid_amount = paid_amount

    def is_funded(self) -> bool:
        return self.paid_amount >= self.total

"""The methods that the example workflow files' guards and callbacks refer to.

A workflow file names guards (``conditions: is_funded``); loading it onto one of
these classes makes those names methods of the loaded class::

    Order = load_workflow("examples/workflows/order.yaml", base=OrderRules)
"""

from __future__ import annotations

from statesignals import SignalingMachine


class OrderRules(SignalingMachine):
    """What an order workflow decides with: payment, holds, reminders."""

    def __init__(self, total: int = 0, paid: int = 0, on_hold: bool = False) -> None:
        self.total = total
        self.paid = paid
        self.on_hold = on_hold
        self.reminders = 0

    def is_funded(self) -> bool:
        return self.paid >= self.total

    def is_on_hold(self) -> bool:
        return self.on_hold

    def send_reminder(self) -> None:
        self.reminders += 1


class TicketRules(SignalingMachine):
    """What a support ticket workflow decides with."""

    def __init__(self, resolution: str = "") -> None:
        self.resolution = resolution
        self.escalations = 0

    def has_resolution(self) -> bool:
        return bool(self.resolution)

    def count_escalation(self) -> None:
        self.escalations += 1

"""Small workflow models that several test files use, draw, export, check or pickle."""

from __future__ import annotations

from enum import Enum

from statesignals import SignalingMachine, Trigger


class Phase(Enum):
    DRAFT = 1
    LIVE = 2


class Page(SignalingMachine):
    """A page."""

    states = Phase
    initial = Phase.DRAFT
    auto_transitions = False
    transitions = [["publish", Phase.DRAFT, Phase.LIVE]]

    publish: Trigger
    is_LIVE: Trigger


class Shipment(SignalingMachine):
    """A declared flat workflow with a guard, pickled in tests/fixtures."""

    states = ["pending", "paid", "shipped"]
    initial = "pending"
    transitions = [
        {"trigger": "pay", "source": "pending", "dest": "paid", "conditions": "is_funded"},
        ["ship", "paid", "shipped"],
    ]

    pay: Trigger
    ship: Trigger
    is_shipped: Trigger

    def __init__(self, funded: bool = True) -> None:
        self.funded = funded

    def is_funded(self) -> bool:
        return self.funded


class Tracked:
    """A plain model held by a machine, so that the machine can be pickled."""

    def is_ready(self) -> bool:
        return True


class Order(SignalingMachine):
    """The order of the design: paid when funded, then shipped, or cancelled."""

    states = ["pending", "paid", "shipped", "cancelled"]
    initial = "pending"
    transitions = [
        {"trigger": "pay", "source": "pending", "dest": "paid", "conditions": "is_funded"},
        {"trigger": "ship", "source": "paid", "dest": "shipped"},
        {"trigger": "cancel", "source": ["pending", "paid"], "dest": "cancelled"},
    ]

    pay: Trigger
    ship: Trigger
    cancel: Trigger

    def __init__(self, total: int = 0, paid: int = 0) -> None:
        self.total = total
        self.paid = paid

    def is_funded(self) -> bool:
        return self.paid >= self.total

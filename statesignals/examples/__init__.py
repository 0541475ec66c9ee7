"""Example workflow files shipped with statesignals, and the classes their guards name.

``statesignals example order`` copies ``order.yaml`` into the current
directory; its guards (``conditions: is_funded``) are methods of
:class:`OrderRules`, so loading it onto that class gives a working model::

    Order = load_workflow("order.yaml", base=OrderRules)
"""

from __future__ import annotations

import shutil
import typing as t
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from statesignals import SignalingMachine
from statesignals.errors import StateSignalsError


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


@dataclass(frozen=True)
class Example:
    """A workflow file shipped with the package and the class its guards name."""

    name: str
    file_name: str
    base: type[SignalingMachine]
    description: str

    @property
    def base_reference(self) -> str:
        """The ``module:Class`` reference of :attr:`base`, as ``--base`` takes it."""
        return f"{__name__}:{self.base.__qualname__}"

    def copy_to(self, directory: str | Path) -> Path:
        """Write the file into ``directory``; an existing file is never overwritten."""
        target = Path(directory) / self.file_name
        if target.exists():
            raise StateSignalsError(f"{target} exists already; remove it or choose another --dir")
        with resources.as_file(resources.files(__name__).joinpath(self.file_name)) as source:
            shutil.copyfile(source, target)
        return target


EXAMPLES: t.Final = {
    example.name: example
    for example in (
        Example("order", "order.yaml", OrderRules, "a customer order, checkout to delivery"),
        Example(
            "support_ticket", "support_ticket.json", TicketRules, "a support ticket, new to closed"
        ),
    )
}
"""The shipped examples by name."""

__all__ = ["EXAMPLES", "Example", "OrderRules", "TicketRules"]

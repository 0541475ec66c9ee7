"""Run a batch of orders through the shop and print what the receivers did.

``python -m examples.orders [--database FILE] [--diagram FILE]``. Every run
adds a new batch to the same database; the stock is refilled first (units
reserved for earlier batches stay reserved), so each batch ends the same way.
"""

from __future__ import annotations

import argparse
import collections.abc as c
import typing as t
from pathlib import Path

from statesignals import MachineError, diagram

from . import receivers
from .models import Order
from .storage import DEFAULT_DATABASE, Store, money

DEFAULT_DIAGRAM = Path("orders-workflow.svg")

CATALOGUE = [
    ("MUG", "Enamel mug", 1250, 10),
    ("TEE", "Organic T-shirt", 2400, 5),
    ("LAMP", "Desk lamp", 4900, 1),
]
"""(sku, name, price in cents, units free for the orders of each batch)."""

FULL = -1
"""In a script, a payment of the order's total."""


class Scripted(t.NamedTuple):
    email: str
    lines: dict[str, int]
    steps: list[tuple[str, ...] | tuple[str, int]]


SCRIPT = [
    # Bought, paid, packed, shipped, delivered.
    Scripted(
        "ada@example.com", {"MUG": 2, "TEE": 1}, [("pay", FULL), ("pack",), ("ship",), ("deliver",)]
    ),
    # Still with the carrier.
    Scripted("grace@example.com", {"TEE": 2}, [("pay", FULL), ("pack",), ("ship",)]),
    # Pays too little, pays again, then cancels: refunded, stock released.
    Scripted("alan@example.com", {"MUG": 1}, [("pay", 1000), ("pay", FULL), ("cancel",)]),
    # The warehouse tries to ship an order nobody paid for.
    Scripted("edsger@example.com", {"TEE": 1}, [("ship",)]),
    # Takes the only lamp ...
    Scripted("barbara@example.com", {"LAMP": 1}, [("pay", FULL)]),
    # ... so this one cannot be paid, and is cancelled.
    Scripted("john@example.com", {"LAMP": 1, "MUG": 1}, [("pay", FULL), ("cancel",)]),
    # Packed already when the customer asks to cancel.
    Scripted("margaret@example.com", {"MUG": 3}, [("pay", FULL), ("pack",), ("cancel",)]),
]


# --8<-- [start:attempt]
def attempt(order: Order, trigger: str, *args: t.Any) -> bool:
    """Fire ``trigger`` in one transaction; a refusal is not an error here.

    The receivers have already recorded a refusal (mail, audit, alert), so an
    invalid trigger's MachineError only ends the attempt.
    """
    with order.store.transaction():
        try:
            return bool(order.trigger(trigger, *args))
        except MachineError:
            return False


# --8<-- [end:attempt]


def process(store: Store, batch: int, script: c.Sequence[Scripted] = SCRIPT) -> list[Order]:
    """Refill the stock, place the batch's orders and play their steps, printing each."""
    with store.transaction():
        for sku, name, price, available in CATALOGUE:
            store.stock_product(sku, name, price, available)
    orders = []
    for index, scripted in enumerate(script, 1):
        with store.transaction():
            order = store.place_order(
                f"B{batch}-{index}", scripted.email, scripted.lines, batch=batch
            )
        items = ", ".join(f"{sku} x{quantity}" for sku, quantity in scripted.lines.items())
        print(f"{order.number}  {order.email:<22} {items:<18} total {money(order.total)}")
        for trigger, *args in scripted.steps:
            arguments = [order.total if arg == FULL else arg for arg in args]
            source = order.state
            moved = attempt(order, trigger, *arguments)
            call = f"{trigger}({', '.join(money(int(arg)) for arg in arguments)})"
            if moved:
                outcome = f"{source} -> {order.state}"
            else:
                outcome = f"refused in {source}: {store.alerts(order.number)[-1]['reason']}"
            print(f"    {call:<14} {outcome}")
        orders.append(order)
    return orders


def write_workflow_diagram(path: Path) -> Path:
    """Draw the Order workflow to ``path``: SVG, PNG, DOT or Mermaid by its suffix."""
    return diagram(Order, title="Order").render(path)


def summarize(store: Store, batch: int) -> None:
    """Print the batch's orders per state, the mails queued and the refusals."""
    counts = store.orders_by_state(batch)
    per_state = ", ".join(
        f"{state} {counts[state]}" for state in Order.machine.states if state in counts
    )
    print(f"\nOrders per state: {per_state}")
    mails = store.outbox(batch=batch)
    print(f"Notifications queued in the outbox ({len(mails)}):")
    for mail in mails:
        print(f"    {mail['recipient']:<22} {mail['subject']}")
    alerts = store.alerts(batch=batch)
    print(f"Denied transitions ({len(alerts)}):")
    for alert in alerts:
        number, trigger, state, reason = (
            alert[key] for key in ("order_number", "trigger", "state", "reason")
        )
        print(f"    {number:<6} {trigger} in {state}: {reason}")
    audited = len(store.audit_trail(batch=batch))
    stock = ", ".join(
        f"{sku} {on_hand} ({reserved} reserved)"
        for sku, (on_hand, reserved) in store.stock().items()
    )
    print(f"Audit trail: {audited} signals recorded")
    print(f"Stock on hand: {stock}")


def main(argv: c.Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m examples.orders", description=__doc__)
    parser.add_argument(
        "--database", type=Path, default=DEFAULT_DATABASE, help="SQLite file (default: %(default)s)"
    )
    parser.add_argument(
        "--diagram",
        type=Path,
        default=DEFAULT_DIAGRAM,
        help="diagram file to write, .svg, .png, .dot or .mmd (default: %(default)s)",
    )
    options = parser.parse_args(argv)
    receivers.connect_receivers()
    with Store(options.database) as store:
        batch = store.next_batch()
        print(f"Batch {batch}, database {options.database}\n")
        process(store, batch)
        summarize(store, batch)
    print(f"Workflow diagram: {write_workflow_diagram(options.diagram)}")


if __name__ == "__main__":
    main()

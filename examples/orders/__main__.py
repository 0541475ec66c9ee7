"""Run a batch of orders through the shop, embedded: one SQLite file, an in-process relay.

``python -m examples.orders [--database FILE] [--diagram FILE]``. Every run
adds a new batch to the same database; the stock is refilled first (units
reserved for earlier batches stay reserved), so each batch ends the same way.
``python -m examples.orders.distributed`` runs the same shop on PostgreSQL with
Celery workers.
"""

from __future__ import annotations

import argparse
import collections.abc as c
import typing as t
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from statesignals import diagram
from statesignals.outbox import InProcessPublisher, OutboxRelay, RetryPolicy
from statesignals.sqlalchemy import sqlite_engine

from . import receivers, shop
from .effects import Alert, AuditEntry, Effect, Mail, Refund, StockMovement
from .models import Order, money

DEFAULT_DATABASE = Path("orders.sqlite3")
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

HISTORY_OF = 3
"""The order of each batch whose history the demo prints (alan's: denied, paid, cancelled)."""

# The relay retries a failing receiver quickly here: the demo waits for it.
RETRIES = RetryPolicy(max_attempts=5, initial=0.05, maximum=1.0)


DURABLE_WORK: list[tuple[str, type[Effect], str, str, c.Callable[[t.Any], str] | None]] = [
    ("mail_customer", Mail, "mail sent", "mails sent", lambda m: f"{m.recipient:<22} {m.subject}"),
    (
        "keep_stock",
        StockMovement,
        "stock movement",
        "stock movements",
        lambda m: f"{m.order_number:<6} {m.kind} {m.sku} x{m.quantity}",
    ),
    (
        "refund_payment",
        Refund,
        "refund",
        "refunds",
        lambda r: f"{r.order_number:<6} {money(r.amount)}",
    ),
    ("audit_transition", AuditEntry, "audit entry", "audit entries", None),
    ("alert_operations", Alert, "alert", "alerts", lambda a: f"{a.order_number:<6} {a.message}"),
]
"""What the demo shows of each durable receiver: its table, the nouns, a line per row."""


def play(
    sessions: sessionmaker[Session],
    relay: OutboxRelay,
    batch: int,
    script: c.Sequence[Scripted] = SCRIPT,
) -> list[str]:
    """Place the batch's orders and play their steps, printing each; returns the numbers.

    After each customer the relay delivers what their orders committed, as a
    relay running beside the shop would: the next customer's stock guard sees
    the units reserved for the last one.
    """
    numbers = []
    for index, scripted in enumerate(script, 1):
        number = f"B{batch}-{index}"
        with sessions.begin() as session:
            order = shop.place_order(session, number, scripted.email, scripted.lines, batch=batch)
            total = order.total
        items = ", ".join(f"{sku} x{quantity}" for sku, quantity in scripted.lines.items())
        print(f"{number}  {scripted.email:<22} {items:<18} total {money(total)}")
        for trigger, *args in scripted.steps:
            arguments = [total if arg == FULL else arg for arg in args]
            outcome = shop.attempt(sessions, number, trigger, *arguments)
            call = f"{trigger}({', '.join(money(int(arg)) for arg in arguments)})"
            if outcome.moved:
                print(f"    {call:<14} {outcome.source} -> {outcome.dest}")
            else:
                print(f"    {call:<14} refused in {outcome.source}: {outcome.denied}")
        delivered = relay.drain(timeout=60)
        print(f"    relay: {delivered} events delivered to the durable receivers")
        numbers.append(number)
    return numbers


def report(sessions: sessionmaker[Session], engine: sa.Engine, batch: int) -> None:
    """Print the batch: orders per state, the durable receivers' work, the denials,
    one order's history and the outbox."""
    with sessions() as session:
        per_state = ", ".join(
            f"{state} {count}" for state, count in shop.orders_by_state(session, batch).items()
        )
        print(f"\nOrders per state: {per_state}")

        print("\nWhat the durable receivers did:")
        for receiver, table, one, many, describe in DURABLE_WORK:
            rows = shop.effects_of(session, table, batch)
            print(f"  {receiver:<18}{len(rows)} {one if len(rows) == 1 else many}")
            if describe is not None:
                for row in rows:
                    print(f"      {describe(row)}")
            if table is StockMovement:
                on_hand = ", ".join(
                    f"{product.sku} {product.on_hand} ({product.reserved} reserved)"
                    for product in shop.products(session)
                )
                print(f"      stock on hand: {on_hand}")

        denials = shop.denials_of(session, batch)
        print(f"\nDenied transitions ({len(denials)}):")
        for denial in denials:
            print(
                f"    {denial.order_number:<6} {denial.trigger} in {denial.state}: {denial.reason}"
            )

        number = f"B{batch}-{HISTORY_OF}"
        assert Order.history_table is not None  # Order declares history = True
        print(f"\nHistory of {number} (from {Order.history_table.name}):")
        for entry in shop.history_of(session, number):
            step = "placed" if entry.trigger is None else entry.trigger
            source = "" if entry.source is None else f"{entry.source} -> "
            print(f"    version {entry.sequence}  {step:<8} {source}{entry.dest}")

    print("\nOutbox (all batches):")
    for line in shop.outbox_status(engine).lines():
        print(f"    {line}")


def write_workflow_diagram(path: Path) -> Path:
    """Draw the Order workflow to ``path``: SVG, PNG, DOT or Mermaid by its suffix."""
    return diagram(Order, title="Order").render(path)


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
    engine = sqlite_engine(options.database)
    try:
        shop.create_tables(engine)
        sessions = sessionmaker(engine)
        relay = OutboxRelay(engine, InProcessPublisher(RETRIES), poll_interval=0.05)
        with sessions.begin() as session:
            batch = shop.next_batch(session)
            shop.restock(session, CATALOGUE)
        print(f"Batch {batch}, database {options.database}, relay in this process\n")
        play(sessions, relay, batch)
        report(sessions, engine, batch)
    finally:
        engine.dispose()
    print(f"\nWorkflow diagram: {write_workflow_diagram(options.diagram)}")


if __name__ == "__main__":
    main()

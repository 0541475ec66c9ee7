"""The shop's SQLite database: products and stock, orders, the outbox, audit and alerts."""

from __future__ import annotations

import collections.abc as c
import contextlib
import sqlite3
from pathlib import Path

from .models import Order

DEFAULT_DATABASE = Path("orders.sqlite3")
"""Where the demo keeps its database unless told otherwise (relative to the working directory)."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS products (
    sku TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    price INTEGER NOT NULL,
    on_hand INTEGER NOT NULL CHECK (on_hand >= 0),
    reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved BETWEEN 0 AND on_hand)
);
CREATE TABLE IF NOT EXISTS orders (
    number TEXT PRIMARY KEY,
    batch INTEGER NOT NULL,
    email TEXT NOT NULL,
    state TEXT NOT NULL,
    total INTEGER NOT NULL,
    paid INTEGER NOT NULL DEFAULT 0,
    refunded INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS order_lines (
    order_number TEXT NOT NULL REFERENCES orders (number),
    sku TEXT NOT NULL REFERENCES products (sku),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (order_number, sku)
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY,
    order_number TEXT NOT NULL REFERENCES orders (number),
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    order_number TEXT NOT NULL REFERENCES orders (number),
    signal TEXT NOT NULL,
    trigger TEXT NOT NULL,
    source TEXT NOT NULL,
    dest TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY,
    order_number TEXT NOT NULL REFERENCES orders (number),
    trigger TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT NOT NULL
);
"""


def money(cents: int) -> str:
    """``3450`` as ``'34.50'``."""
    return f"{cents / 100:.2f}"


class Store:
    """The shop's data in one SQLite database (a file, or ``":memory:"``).

    Opening creates the tables that are missing, so the same file can be used
    again. Writes join the transaction that is open; :meth:`transaction` commits
    them together, or rolls them all back.
    """

    def __init__(self, path: str | Path = DEFAULT_DATABASE) -> None:
        self.path = path
        self.connection = sqlite3.connect(path)
        self.connection.row_factory = sqlite3.Row
        self.connection.execute("PRAGMA foreign_keys = ON")
        self.connection.executescript(SCHEMA)

    def close(self) -> None:
        """Commit what is pending and close the database."""
        self.connection.commit()
        self.connection.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> c.Iterator[None]:
        """Commit the writes made inside the block, or none of them if it raises."""
        with self.connection:
            yield

    def _query(self, sql: str, *parameters: object) -> list[sqlite3.Row]:
        return self.connection.execute(sql, parameters).fetchall()

    # Products and stock.

    def stock_product(self, sku: str, name: str, price: int, available: int) -> None:
        """Add a product, or restock it so that ``available`` units are free for new orders.

        Units reserved for orders already paid stay reserved (and on hand).
        """
        self.connection.execute(
            "INSERT INTO products (sku, name, price, on_hand, reserved) VALUES (?, ?, ?, ?, 0)"
            " ON CONFLICT (sku) DO UPDATE SET name = excluded.name, price = excluded.price,"
            " on_hand = products.reserved + excluded.on_hand",
            (sku, name, price, available),
        )

    def available(self, sku: str) -> int:
        """Units of ``sku`` on hand and not reserved for an order (0 for an unknown sku)."""
        rows = self._query("SELECT on_hand - reserved FROM products WHERE sku = ?", sku)
        return int(rows[0][0]) if rows else 0

    def stock(self) -> dict[str, tuple[int, int]]:
        """``{sku: (on_hand, reserved)}`` for every product."""
        rows = self._query("SELECT sku, on_hand, reserved FROM products ORDER BY sku")
        return {row["sku"]: (row["on_hand"], row["reserved"]) for row in rows}

    def reserve(self, lines: c.Mapping[str, int]) -> None:
        """Set aside the units of an order's lines."""
        self._adjust("reserved = reserved + ?", lines)

    def release(self, lines: c.Mapping[str, int]) -> None:
        """Give back the units reserved for an order's lines."""
        self._adjust("reserved = reserved - ?", lines)

    def dispatch(self, lines: c.Mapping[str, int]) -> None:
        """Take the reserved units of an order's lines out of the warehouse."""
        self._adjust("on_hand = on_hand - ?, reserved = reserved - ?", lines, twice=True)

    def _adjust(self, assignment: str, lines: c.Mapping[str, int], twice: bool = False) -> None:
        for sku, quantity in lines.items():
            amounts = (quantity, quantity) if twice else (quantity,)
            self.connection.execute(
                f"UPDATE products SET {assignment} WHERE sku = ?", (*amounts, sku)
            )

    # Orders.

    def next_batch(self) -> int:
        """The number of the batch after the last one stored."""
        return int(self._query("SELECT COALESCE(MAX(batch), 0) + 1 FROM orders")[0][0])

    def place_order(
        self, number: str, email: str, lines: c.Mapping[str, int], *, batch: int = 1
    ) -> Order:
        """Store a pending order for ``lines`` (``{sku: quantity}``) at catalogue prices."""
        prices = {
            row["sku"]: row["price"] for row in self._query("SELECT sku, price FROM products")
        }
        unknown = sorted(set(lines) - set(prices))
        if unknown:
            raise LookupError(f"order {number}: no product {', '.join(unknown)}")
        total = sum(prices[sku] * quantity for sku, quantity in lines.items())
        order = Order(self, number, email=email, lines=lines, total=total)
        self.connection.execute(
            "INSERT INTO orders (number, batch, email, state, total) VALUES (?, ?, ?, ?, ?)",
            (number, batch, email, order.state, total),
        )
        self.connection.executemany(
            "INSERT INTO order_lines (order_number, sku, quantity) VALUES (?, ?, ?)",
            [(number, sku, quantity) for sku, quantity in lines.items()],
        )
        return order

    def load(self, number: str) -> Order:
        """The order ``number`` as stored, in its stored state."""
        rows = self._query("SELECT * FROM orders WHERE number = ?", number)
        if not rows:
            raise LookupError(f"no order {number}")
        row = rows[0]
        lines = self._query("SELECT sku, quantity FROM order_lines WHERE order_number = ?", number)
        return Order(
            self,
            number,
            email=row["email"],
            lines={line["sku"]: line["quantity"] for line in lines},
            total=row["total"],
            paid=row["paid"],
            refunded=row["refunded"],
            state=row["state"],
        )

    def save(self, order: Order) -> None:
        """Write the order's state and amounts."""
        self.connection.execute(
            "UPDATE orders SET state = ?, paid = ?, refunded = ? WHERE number = ?",
            (order.state, order.paid, order.refunded, order.number),
        )

    def orders_by_state(self, batch: int | None = None) -> dict[str, int]:
        """How many orders (of ``batch``, or all) are in each state."""
        rows = self._query(
            "SELECT state, COUNT(*) FROM orders WHERE ? IS NULL OR batch = ? GROUP BY state",
            batch,
            batch,
        )
        return {row[0]: row[1] for row in rows}

    # Outbox, audit trail and alerts.

    def queue_mail(self, order_number: str, recipient: str, subject: str, body: str) -> None:
        """Put a message in the outbox, for the mailer to send."""
        self.connection.execute(
            "INSERT INTO outbox (order_number, recipient, subject, body) VALUES (?, ?, ?, ?)",
            (order_number, recipient, subject, body),
        )

    def record_audit(
        self, order_number: str, signal: str, trigger: str, source: str, dest: str, detail: str
    ) -> None:
        """Append a line to the audit trail."""
        self.connection.execute(
            "INSERT INTO audit (order_number, signal, trigger, source, dest, detail)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (order_number, signal, trigger, source, dest, detail),
        )

    def raise_alert(self, order_number: str, trigger: str, state: str, reason: str) -> None:
        """Tell the operations team something was refused."""
        self.connection.execute(
            "INSERT INTO alerts (order_number, trigger, state, reason) VALUES (?, ?, ?, ?)",
            (order_number, trigger, state, reason),
        )

    def _rows_of(
        self, table: str, order_number: str | None, batch: int | None
    ) -> list[sqlite3.Row]:
        return self._query(
            f"SELECT {table}.* FROM {table} JOIN orders ON orders.number = {table}.order_number"
            " WHERE (? IS NULL OR order_number = ?) AND (? IS NULL OR orders.batch = ?)"
            f" ORDER BY {table}.id",
            order_number,
            order_number,
            batch,
            batch,
        )

    def outbox(
        self, order_number: str | None = None, *, batch: int | None = None
    ) -> list[sqlite3.Row]:
        """The queued messages (of one order or one batch), oldest first."""
        return self._rows_of("outbox", order_number, batch)

    def audit_trail(
        self, order_number: str | None = None, *, batch: int | None = None
    ) -> list[sqlite3.Row]:
        """The audit lines (of one order or one batch), oldest first."""
        return self._rows_of("audit", order_number, batch)

    def alerts(
        self, order_number: str | None = None, *, batch: int | None = None
    ) -> list[sqlite3.Row]:
        """The operations alerts (of one order or one batch), oldest first."""
        return self._rows_of("alerts", order_number, batch)

"""The orders example end to end: the workflow, its receivers and the rows they leave.

Embedded (a SQLite file, the relay in this process) for the shop's behaviour;
distributed (PostgreSQL, Celery workers on Redis, a relay, client processes) for
the demo that runs it at scale, against the real servers.
"""

from __future__ import annotations

import collections.abc as c
import os
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from examples.orders import __main__ as demo
from examples.orders import distributed, receivers, shop
from examples.orders.effects import Alert, AuditEntry, Denial, Mail, Refund, StockMovement
from examples.orders.models import Order, Product
from statesignals import MachineError, StaleTransitionError
from statesignals.outbox import (
    DurableEvent,
    InProcessPublisher,
    OutboxRelay,
    Outcome,
    RetryPolicy,
    deliver,
    outbox_table,
)
from statesignals.sqlalchemy import sqlite_engine
from statesignals.testing import (
    WorkflowPath,
    assert_denied,
    shortest_paths,
    transition_paths,
)

from .services import require_postgres, require_redis

ROOT = Path(__file__).resolve().parent.parent
FAST = RetryPolicy(max_attempts=3, initial=0.01, maximum=0.05)


@pytest.fixture(autouse=True)
def shop_receivers() -> None:
    """The shop as it runs: the suite disconnects every receiver after each test."""
    receivers.connect_receivers()


# --8<-- [start:helpers]
@pytest.fixture
def engine(tmp_path: Path) -> c.Iterator[sa.Engine]:
    engine = sqlite_engine(tmp_path / "shop.sqlite3")
    shop.create_tables(engine)
    with sessionmaker(engine).begin() as session:
        shop.restock(session, [("MUG", "Enamel mug", 1250, 10), ("LAMP", "Desk lamp", 4900, 1)])
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: sa.Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@pytest.fixture
def relay(engine: sa.Engine) -> OutboxRelay:
    return OutboxRelay(engine, InProcessPublisher(FAST), poll_interval=0.01)


def place(
    sessions: sessionmaker[Session], lines: dict[str, int] | None = None, number: str = "A-1"
) -> str:
    with sessions.begin() as session:
        shop.place_order(session, number, "ada@example.com", lines or {"MUG": 2})
    return number


def rows_of(sessions: sessionmaker[Session], kind: type[t.Any], number: str = "A-1") -> list[t.Any]:
    with sessions() as session:
        return list(session.scalars(sa.select(kind).filter_by(order_number=number)))


def stock(sessions: sessionmaker[Session], sku: str) -> tuple[int, int]:
    with sessions() as session:
        product = session.get(Product, sku)
        assert product is not None
        return product.on_hand, product.reserved


def stored(sessions: sessionmaker[Session], number: str = "A-1") -> tuple[str, int]:
    with sessions() as session:
        order = shop.find_order(session, number)
        return order.state, order.version


def unpublished(engine: sa.Engine) -> list[str]:
    with engine.connect() as connection:
        query = (
            sa.select(outbox_table.c.receiver)
            .where(outbox_table.c.published_at.is_(None))
            .order_by(outbox_table.c.id)
        )
        return [receiver.split(":")[1] for receiver in connection.scalars(query)]
    # --8<-- [end:helpers]


def test_a_paid_order_is_mailed_and_its_stock_reserved_once_the_relay_delivers(
    sessions, engine, relay
):
    number = place(sessions)

    assert shop.attempt(sessions, number, "pay", 2500).moved

    assert stored(sessions) == ("paid", 2)
    assert unpublished(engine) == ["mail_customer", "audit_transition", "keep_stock"]
    assert rows_of(sessions, Mail) == []
    assert relay.drain(timeout=30) == 3
    [mail] = rows_of(sessions, Mail)
    assert (mail.recipient, mail.subject) == ("ada@example.com", "Order A-1: payment received")
    assert "We received 25.00" in mail.body
    assert stock(sessions, "MUG") == (10, 2)
    assert [(m.kind, m.sku, m.quantity) for m in rows_of(sessions, StockMovement)] == [
        ("reserved", "MUG", 2)
    ]
    assert [(a.trigger, a.source, a.dest) for a in rows_of(sessions, AuditEntry)] == [
        ("pay", "pending", "paid")
    ]


# --8<-- [start:recorder]
def test_a_short_payment_is_denied_and_the_reason_kept(sessions, engine, signal_recorder):
    with sessions.begin() as session:
        order = shop.place_order(session, "A-1", "ada@example.com", {"MUG": 2})

        assert order.pay(2000) is False

        assert_denied(order, "pay", reason="conditions", failed=["payment_covers_total"])
    assert stored(sessions) == ("pending", 1)
    assert [(d.trigger, d.state, d.reason) for d in rows_of(sessions, Denial)] == [
        ("pay", "pending", "conditions: payment_covers_total")
    ]
    assert unpublished(engine) == []  # a denial commits no transition: nothing to relay
    # --8<-- [end:recorder]


def test_an_order_for_stock_reserved_by_another_cannot_be_paid(sessions, relay):
    first, second = place(sessions, {"LAMP": 1}, "A-1"), place(sessions, {"LAMP": 1}, "A-2")
    shop.attempt(sessions, first, "pay", 4900)
    relay.drain(timeout=30)

    outcome = shop.attempt(sessions, second, "pay", 4900)

    assert outcome == shop.Outcome(False, "pending", "pending", "conditions: all_items_in_stock")
    assert stock(sessions, "LAMP") == (1, 1)


def test_a_reservation_that_finds_the_shelf_empty_is_backordered_and_alerted(sessions, relay):
    # Both pass the guard before the relay runs: the guard reads reservations made so far.
    first, second = place(sessions, {"LAMP": 1}, "A-1"), place(sessions, {"LAMP": 1}, "A-2")
    shop.attempt(sessions, first, "pay", 4900)
    shop.attempt(sessions, second, "pay", 4900)

    relay.drain(timeout=30)

    assert stock(sessions, "LAMP") == (1, 1)
    assert [m.kind for m in rows_of(sessions, StockMovement, second)] == ["backordered"]
    assert [a.message for a in rows_of(sessions, Alert, second)] == ["backordered: LAMP"]


def test_shipping_an_unpaid_order_is_refused_and_nothing_is_relayed(sessions, engine):
    with sessions.begin() as session:
        order = shop.place_order(session, "A-1", "ada@example.com", {"MUG": 2})
        with pytest.raises(MachineError):
            order.ship()
        assert order.state == "pending"

    assert [d.reason for d in rows_of(sessions, Denial)] == ["invalid_trigger"]
    assert unpublished(engine) == []


def test_cancelling_a_paid_order_refunds_it_once_and_releases_the_stock(sessions, relay):
    number = place(sessions)
    shop.attempt(sessions, number, "pay", 2500)

    assert shop.attempt(sessions, number, "cancel").moved
    relay.drain(timeout=30)

    assert [refund.amount for refund in rows_of(sessions, Refund)] == [2500]
    assert stock(sessions, "MUG") == (10, 0)
    assert rows_of(sessions, Mail)[-1].body == "Your order was cancelled. We refunded 25.00."
    assert [a.message for a in rows_of(sessions, Alert)] == [
        "cancelled after payment: refund of 25.00 to reconcile"
    ]


def test_cancelling_a_pending_order_refunds_nothing_and_moves_no_stock(sessions, relay):
    number = place(sessions)

    shop.attempt(sessions, number, "cancel")
    relay.drain(timeout=30)

    assert rows_of(sessions, Refund) == rows_of(sessions, StockMovement) == []
    assert rows_of(sessions, Mail)[-1].body == "Your order was cancelled."


def test_a_rolled_back_payment_mails_nobody_and_reserves_nothing(sessions, engine, relay):
    number = place(sessions)
    with sessions() as session:
        session.begin()
        shop.find_order(session, number).pay(2500)
        session.rollback()

    assert relay.drain(timeout=30) == 0
    assert stored(sessions) == ("pending", 1)
    assert rows_of(sessions, Mail) == []
    assert stock(sessions, "MUG") == (10, 0)


def test_an_event_delivered_twice_has_its_effect_once(sessions, engine):
    number = place(sessions)
    shop.attempt(sessions, number, "pay", 2500)
    with engine.connect() as connection:
        events = [DurableEvent.from_row(row) for row in connection.execute(sa.select(outbox_table))]

    first = [deliver(engine, event, FAST) for event in events]
    again = [deliver(engine, event, FAST) for event in events]

    assert first == [Outcome.DONE] * 3 and again == [Outcome.DUPLICATE] * 3
    assert len(rows_of(sessions, Mail)) == 1
    assert stock(sessions, "MUG") == (10, 2)


def test_an_order_changed_by_another_writer_is_refused_then_retried_fresh(sessions):
    number = place(sessions)
    with sessions() as stale_session:
        stale_session.begin()
        stale = shop.find_order(stale_session, number)  # loaded at version 1
        assert shop.attempt(sessions, number, "pay", 2500).moved  # another writer: version 2
        with pytest.raises(StaleTransitionError, match="loaded at version 1"):
            stale.cancel()
        stale_session.rollback()

    # attempt() loads the order afresh: from paid, cancel refunds.
    assert shop.attempt(sessions, number, "cancel").moved
    assert stored(sessions) == ("cancelled", 3)


def test_the_history_table_holds_every_committed_transition(sessions):
    number = place(sessions)
    shop.attempt(sessions, number, "pay", 1000)  # denied: not history
    shop.attempt(sessions, number, "pay", 2500)
    shop.attempt(sessions, number, "pack")

    with sessions() as session:
        history = shop.history_of(session, number)

    assert [(h.sequence, h.trigger, h.source, h.dest) for h in history] == [
        (1, None, None, "pending"),
        (2, "pay", "pending", "paid"),
        (3, "pack", "paid", "packed"),
    ]


# --8<-- [start:paths]
def pay_in_full(order: Order, path: WorkflowPath) -> Order:
    return path.run(order, args={"pay": (order.total,)})


@pytest.mark.parametrize("path", shortest_paths(Order), ids=str)
def test_every_state_is_reached_and_stored(sessions, path):
    with sessions.begin() as session:
        order = pay_in_full(shop.place_order(session, "A-1", "ada@example.com", {"MUG": 2}), path)
        assert order.state == path.target

    assert stored(sessions) == (path.target, len(path.steps) + 1)
    # --8<-- [end:paths]


@pytest.mark.parametrize("path", transition_paths(Order), ids=str)
def test_every_transition_mails_the_customer_and_is_audited_once(sessions, relay, path):
    with sessions.begin() as session:
        pay_in_full(shop.place_order(session, "A-1", "ada@example.com", {"MUG": 2}), path)

    relay.drain(timeout=30)

    assert len(rows_of(sessions, Mail)) == len(path.steps)
    audited = [(a.trigger, a.source, a.dest) for a in rows_of(sessions, AuditEntry)]
    assert audited == [(step.trigger, step.source, step.dest) for step in path.steps]


def test_the_demo_runs_twice_on_one_database_and_adds_a_batch(tmp_path, capsys):
    database, diagram = tmp_path / "demo.sqlite3", tmp_path / "workflow.mmd"
    arguments = ["--database", str(database), "--diagram", str(diagram)]

    demo.main(arguments)
    first = capsys.readouterr().out
    demo.main(arguments)
    second = capsys.readouterr().out

    assert "Batch 1," in first and "Batch 2," in second
    summary = "Orders per state: pending 1, paid 1, packed 1, shipped 1, delivered 1, cancelled 2"
    assert summary in first and summary in second
    sections = [
        "Orders per state:",
        "What the durable receivers did:",
        "Denied transitions (4):",
        "History of B1-3",
        "Outbox (all batches):",
        "Workflow diagram:",
    ]
    assert [first.index(section) for section in sections] == sorted(
        first.index(section) for section in sections
    )
    assert "B1-6   pay in pending: conditions: all_items_in_stock" in first
    assert "  mail_customer     13 mails sent" in first and "B2-1" in second
    assert "published: 39" in first and "published: 78" in second
    assert "dead: 0" in second
    text = diagram.read_text()
    assert "stateDiagram-v2" in text
    assert "packed --> shipped: ship" in text


# The distributed demo, against the real servers.


def test_the_distributed_demo_says_in_one_line_that_postgres_is_unreachable(capsys):
    status = distributed.main(["--database", "postgresql+psycopg://postgres@127.0.0.1:1/nothing"])

    assert status == 2
    output = capsys.readouterr()
    assert output.out == ""
    [line] = output.err.splitlines()
    assert line.startswith("demo-distributed needs PostgreSQL on 127.0.0.1:1 (")


def test_the_distributed_demo_says_in_one_line_that_redis_is_unreachable(capsys):
    database = sa.make_url(require_postgres()).set(drivername="postgresql+psycopg")

    status = distributed.main(
        ["--database", database.render_as_string(False), "--broker", "redis://127.0.0.1:1/0"]
    )

    assert status == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("demo-distributed needs Redis on 127.0.0.1:1 (")


@pytest.mark.parametrize(
    "publishing", [[], ["--publish-after-commit"]], ids=["relay", "after-commit"]
)
def test_the_distributed_demo_delivers_every_effect_once(tmp_path, publishing):
    admin = sa.make_url(require_postgres()).set(drivername="postgresql+psycopg")
    broker = require_redis().rsplit("/", 1)[0] + "/12"  # a Redis database of its own
    own = f"statesignals_orders_test_{os.getpid()}"
    command = [
        sys.executable,
        "-m",
        "examples.orders.distributed",
        *("--orders", "24", "--clients", "3", "--worker-processes", "2"),
        *("--database", admin.set(database=own).render_as_string(False)),
        *("--broker", broker),
        *("--queue", own, "--timeout", "90", "--drop"),
        *publishing,
    ]

    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=180)

    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "Orders per state: shipped 6, delivered 6, cancelled 12" in out
    assert "Transitions committed: 60 (the plans need 60)" in out
    assert "0 lost, 0 doubled" in out
    for receiver in receivers.DURABLE_RECEIVERS:
        assert f"    {receiver:<20}" in out
    assert "Throughput:" in out
    assert "Transition to effect, under the clients' load: p50" in out
    assert "Transition to effect, one at a time: p50" in out
    assert "dead: 0" in out
    assert ("publish their own events after commit" in out) == bool(publishing)

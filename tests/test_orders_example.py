"""The orders example end to end: the workflow, its receivers and the rows they write."""

from __future__ import annotations

import collections.abc as c
import sqlite3
from pathlib import Path

import pytest

from examples.orders import __main__ as demo
from examples.orders import receivers
from examples.orders.models import Order
from examples.orders.storage import Store
from statesignals import MachineError
from statesignals.testing import (
    WorkflowPath,
    assert_denied,
    assert_signals,
    assert_transitioned,
    shortest_paths,
    transition_paths,
)


@pytest.fixture(autouse=True)
def shop_receivers() -> None:
    """The shop as it runs: the suite disconnects every receiver after each test."""
    receivers.connect_receivers()


# --8<-- [start:helpers]
@pytest.fixture
def store(tmp_path: Path) -> c.Iterator[Store]:
    with Store(tmp_path / "shop.sqlite3") as store:
        store.stock_product("MUG", "Enamel mug", 1250, 10)
        store.stock_product("LAMP", "Desk lamp", 4900, 1)
        yield store


def place(store: Store, lines: dict[str, int] | None = None, number: str = "A-1") -> Order:
    return store.place_order(number, "ada@example.com", lines or {"MUG": 2})


def table(store: Store, sql: str, *parameters: object) -> list[tuple[object, ...]]:
    return [tuple(row) for row in store.connection.execute(sql, parameters)]
    # --8<-- [end:helpers]


def subjects(store: Store, number: str = "A-1") -> list[str]:
    return [mail["subject"] for mail in store.outbox(number)]


def test_paying_in_full_reserves_the_stock_and_mails_the_customer(store, signal_recorder):
    order = place(store)

    order.pay(2500)

    assert_transitioned(order, "pending", "paid", via="pay")
    assert table(store, "SELECT state, paid FROM orders WHERE number = 'A-1'") == [("paid", 2500)]
    assert store.stock()["MUG"] == (10, 2)
    assert subjects(store) == ["Order A-1: payment received"]


# --8<-- [start:recorder]
def test_a_short_payment_is_denied_and_the_customer_told_why(store, signal_recorder):
    order = place(store)

    assert order.pay(2000) is False

    assert_denied(order, "pay", reason="conditions", failed=["payment_covers_total"])
    assert table(store, "SELECT state, paid FROM orders WHERE number = 'A-1'") == [("pending", 0)]
    assert store.stock()["MUG"] == (10, 0)
    [mail] = store.outbox("A-1")
    assert mail["subject"] == "Order A-1: payment not accepted"
    assert "did not cover the total of 25.00" in mail["body"]
    # --8<-- [end:recorder]


def test_an_order_for_stock_reserved_by_another_cannot_be_paid(store, signal_recorder):
    first = place(store, {"LAMP": 1}, "A-1")
    second = place(store, {"LAMP": 1}, "A-2")
    first.pay(4900)

    assert second.pay(4900) is False

    assert_denied(second, "pay", reason="conditions", failed=["all_items_in_stock"])
    assert store.stock()["LAMP"] == (1, 1)
    assert "out of stock" in store.outbox("A-2")[0]["body"]


def test_shipping_an_unpaid_order_is_refused_and_alerts_operations(store, signal_recorder):
    order = place(store)

    with pytest.raises(MachineError):
        order.ship()

    assert_denied(order, "ship", reason="invalid_trigger")
    assert table(store, "SELECT order_number, trigger, state, reason FROM alerts") == [
        ("A-1", "ship", "pending", "invalid_trigger")
    ]
    assert order.state == "pending"
    assert store.outbox("A-1") == []


def test_cancelling_a_paid_order_refunds_it_and_releases_the_stock(store, signal_recorder):
    order = place(store)
    order.pay(2500)

    order.cancel()

    assert_transitioned(order, "paid", "cancelled", via="cancel")
    assert table(store, "SELECT state, refunded FROM orders") == [("cancelled", 2500)]
    assert store.stock()["MUG"] == (10, 0)
    assert "We refunded 25.00." in store.outbox("A-1")[-1]["body"]


def test_cancelling_a_pending_order_refunds_nothing(store):
    order = place(store)

    order.cancel()

    assert table(store, "SELECT state, refunded FROM orders") == [("cancelled", 0)]
    assert store.outbox("A-1")[-1]["body"] == "Your order was cancelled."


def test_a_packed_order_can_no_longer_be_cancelled(store, signal_recorder):
    order = place(store)
    order.pay(2500)
    order.pack()

    with pytest.raises(MachineError):
        order.cancel()

    assert_denied(order, "cancel", reason="invalid_trigger")
    assert store.stock()["MUG"] == (10, 2)


def test_shipping_takes_the_reserved_units_out_of_the_warehouse(store):
    order = place(store)
    order.pay(2500)
    order.pack()

    order.ship()

    assert store.stock()["MUG"] == (8, 0)


def test_the_audit_trail_holds_every_signal_in_the_order_they_were_sent(store, signal_recorder):
    order = place(store)
    order.pay(100)
    order.pay(2500)

    assert_signals(
        [
            "transition_denied pay: conditions [payment_covers_total]",
            "state_exited pending",
            "state_entered paid",
            "transition_completed pay: pending -> paid",
        ]
    )
    assert table(store, "SELECT signal, trigger, source, dest, detail FROM audit") == [
        ("transition_denied", "pay", "pending", "pending", "conditions: payment_covers_total"),
        ("state_exited", "pay", "pending", "paid", "pending"),
        ("state_entered", "pay", "pending", "paid", "paid"),
        ("transition_completed", "pay", "pending", "paid", ""),
    ]


def test_restocking_keeps_the_units_reserved_for_paid_orders(store):
    place(store, {"LAMP": 1}).pay(4900)

    store.stock_product("LAMP", "Desk lamp", 4900, available=1)

    assert store.stock()["LAMP"] == (2, 1)
    assert store.available("LAMP") == 1


def test_a_stored_order_comes_back_in_its_state_and_carries_on(store):
    order = place(store)
    order.pay(2500)
    order.pack()

    again = store.load("A-1")
    again.ship()

    assert (again.state, again.paid, again.lines) == ("shipped", 2500, {"MUG": 2})
    assert table(store, "SELECT state FROM orders") == [("shipped",)]


# --8<-- [start:paths]
def pay_in_full(order: Order, path: WorkflowPath) -> Order:
    return path.run(order, args={"pay": (order.total,)})


@pytest.mark.parametrize("path", shortest_paths(Order), ids=str)
def test_every_state_is_reached_and_stored(store, path):
    order = pay_in_full(place(store), path)

    assert order.state == path.target
    assert table(store, "SELECT state FROM orders") == [(path.target,)]
    audited = table(store, "SELECT trigger FROM audit WHERE signal = 'transition_completed'")
    assert [trigger for (trigger,) in audited] == list(path.triggers)
    # --8<-- [end:paths]


@pytest.mark.parametrize("path", transition_paths(Order), ids=str)
def test_every_transition_queues_one_mail_to_the_customer(store, path):
    order = pay_in_full(place(store), path)

    mails = store.outbox("A-1")
    assert len(mails) == len(path.steps)
    assert {mail["recipient"] for mail in mails} == {order.email}


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
    assert "B1-4   ship in pending: invalid_trigger" in first
    # Batch 1's paid and packed orders keep their units through the restock.
    assert "Stock on hand: LAMP 1 (1 reserved), MUG 8 (3 reserved)" in first
    assert "Stock on hand: LAMP 2 (2 reserved), MUG 11 (6 reserved)" in second
    with sqlite3.connect(database) as connection:
        per_batch = connection.execute("SELECT batch, COUNT(*) FROM orders GROUP BY batch")
        assert per_batch.fetchall() == [(1, len(demo.SCRIPT)), (2, len(demo.SCRIPT))]
    text = diagram.read_text()
    assert "stateDiagram-v2" in text
    assert "packed --> shipped: ship" in text

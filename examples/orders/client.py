"""One client process of the distributed shop: places orders and moves every order on.

``python -m examples.orders.client --index I --clients K --orders N`` places
the orders whose number is I modulo K, then walks over *all* N orders, again
and again in an order of its own, firing each order's next step until every
order has finished its plan. K clients do this at once, so they often load
the same order and race to move it: the loser's trigger fails with
``StaleTransitionError`` and ``retry_on_conflict`` reruns its unit of work on
the fresh row (where the next step may be another one, or none).

It prints one JSON line: what it placed, the transitions it committed (counted
by an in-process ``transition_committed`` receiver), its attempts and conflicts.
"""

from __future__ import annotations

import argparse
import collections.abc as c
import json
import random
import sys
import time
import typing as t

import sqlalchemy as sa
from celery import Celery
from sqlalchemy.orm import Session, sessionmaker

from statesignals.celery import CeleryPublisher
from statesignals.databases import engine_for
from statesignals.outbox import AfterCommitPublishing, publish_after_commit
from statesignals.sqlalchemy import retry_on_conflict

from . import receivers, settings, shop
from .models import Order

CATALOGUE = [
    (f"SKU{index:02d}", f"Product {index}", 500 + 100 * index, 10**6) for index in range(8)
]
"""Plenty of stock: the distributed demo is about concurrency, not shortages."""

PLANS: list[list[str]] = [
    ["pay", "pack", "ship", "deliver"],
    ["pay", "pack", "ship"],
    ["pay", "cancel"],
    ["cancel"],
]
"""The steps of order ``n`` are ``PLANS[n % len(PLANS)]``."""

RACE = 8
"""Orders per group that clients walk through together (see :func:`run`)."""

DEST = {"pay": "paid", "pack": "packed", "ship": "shipped", "deliver": "delivered"}


def order_number(index: int) -> str:
    return f"D-{index:05d}"


def next_step(index: int, state: str) -> str | None:
    """The trigger that moves order ``index`` on from ``state`` along its plan."""
    current = "pending"
    for trigger in PLANS[index % len(PLANS)]:
        if current == state:
            return trigger
        current = DEST.get(trigger, "cancelled")
    return None


def expected_transitions(orders: int) -> int:
    """How many transitions N orders commit once every plan is played."""
    return sum(len(PLANS[index % len(PLANS)]) for index in range(orders))


def lines_of(index: int) -> dict[str, int]:
    picker = random.Random(index)
    skus = picker.sample([sku for sku, *_ in CATALOGUE], picker.randint(1, 3))
    return {sku: picker.randint(1, 3) for sku in sorted(skus)}


class Tally:
    """Attempts and conflicts of one client's units of work."""

    def __init__(self) -> None:
        self.attempts = 0
        self.units = 0

    def counted(self, work: c.Callable[[Session], str]) -> c.Callable[[Session], str]:
        def run(session: Session) -> str:
            self.attempts += 1
            return work(session)

        return run


def advance(index: int) -> c.Callable[[Session], str]:
    """The unit of work that fires order ``index``'s next step, if it has one."""

    def work(session: Session) -> str:
        order = session.scalars(sa.select(Order).where(Order.number == order_number(index)))
        found = order.one_or_none()
        if found is None:
            return "missing"  # its client has not placed it yet
        trigger = next_step(index, found.state)
        if trigger is None:
            return "done"
        arguments = [found.total] if trigger == "pay" else []
        return "moved" if found.trigger(trigger, *arguments) else "refused"

    return work


def publishing_after_commit(broker: str, queue: str) -> AfterCommitPublishing:
    """Publish this process's durable events itself, as each commit returns (the relay
    publishes what it leaves)."""
    app = Celery("orders-client", broker=broker, set_as_current=False)
    return publish_after_commit(CeleryPublisher(app, queue=queue))


def run(index: int, clients: int, orders: int, after_commit: bool = False) -> dict[str, t.Any]:
    receivers.connect_receivers()
    publishing = (
        publishing_after_commit(settings.broker_url(), settings.queue()) if after_commit else None
    )
    try:
        engine = engine_for(settings.database_url())
        sessions = sessionmaker(engine)
        tally = Tally()
        started = time.perf_counter()
        mine = range(index, orders, clients)
        for number in mine:
            with sessions.begin() as session:
                shop.place_order(
                    session, order_number(number), f"customer{number}@example.com", lines_of(number)
                )
        # Every client walks the orders in the same groups of RACE, each group shuffled its
        # own way: clients reach the same orders at about the same time, and race for them.
        shuffler = random.Random(f"client-{index}")
        walk = []
        for start in range(0, orders, RACE):
            group = list(range(start, min(orders, start + RACE)))
            shuffler.shuffle(group)
            walk.extend(group)
        unfinished = set(walk)
        while unfinished:
            for number in walk:
                if number not in unfinished:
                    continue
                outcome = retry_on_conflict(
                    sessions, tally.counted(advance(number)), attempts=50, backoff=0.001
                )
                tally.units += 1
                if outcome == "done":
                    unfinished.discard(number)
                elif outcome == "refused":
                    raise RuntimeError(f"order {order_number(number)}: the workflow refused a step")
    finally:
        if publishing is not None:
            publishing.stop()
    engine.dispose()
    return {
        "client": index,
        "placed": len(mine),
        "committed": sum(receivers.committed_triggers.values()),
        "attempts": tally.attempts,
        "conflicts": tally.attempts - tally.units,
        "seconds": time.perf_counter() - started,
    }


def main(argv: c.Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m examples.orders.client", description=__doc__)
    parser.add_argument("--index", type=int, required=True)
    parser.add_argument("--clients", type=int, required=True)
    parser.add_argument("--orders", type=int, required=True)
    parser.add_argument("--publish-after-commit", action="store_true")
    options = parser.parse_args(argv)
    result = run(options.index, options.clients, options.orders, options.publish_after_commit)
    print(json.dumps(result), file=sys.stdout, flush=True)


if __name__ == "__main__":
    main()

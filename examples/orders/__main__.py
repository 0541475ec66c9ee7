"""Run a few orders through their workflow and print every signal they send."""

from __future__ import annotations

import contextlib
import typing as t

from statesignals import (
    MachineError,
    state_entered,
    transition_completed,
    transition_denied,
)

from .models import Order


def log_entered(order: Order, **payload: t.Any) -> None:
    print(f"  {order.number}: entered {payload['state']} via {payload['trigger']}")


def log_completed(order: Order, **payload: t.Any) -> None:
    print(f"  {order.number}: {payload['trigger']} {payload['source']} -> {payload['dest']}")


def log_denied(order: Order, **payload: t.Any) -> None:
    failed = ", ".join(payload["failed_conditions"]) or str(payload["error"])
    print(f"  {order.number}: {payload['trigger']} denied ({payload['reason']}: {failed})")


def main() -> None:
    state_entered.connect(log_entered)
    transition_completed.connect(log_completed)
    transition_denied.connect(log_denied)

    happy = Order("A-1", total=30, paid_amount=30)
    unpaid = Order("B-2", total=50, paid_amount=10)
    print("Happy path:")
    happy.pay()
    happy.ship()
    happy.deliver()
    print("Unpaid order:")
    unpaid.pay()
    with contextlib.suppress(MachineError):
        unpaid.ship()
    unpaid.cancel()
    print(f"Final states: {happy.number}={happy.state}, {unpaid.number}={unpaid.state}")


if __name__ == "__main__":
    main()

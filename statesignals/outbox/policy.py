"""How often and how soon a failed event is tried again, and when it is given up on."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with a cap, then the dead letter.

    An event that failed ``attempts`` times waits ``initial * 2 ** (attempts - 1)``
    seconds (at most ``maximum``) before it is tried again; after
    ``max_attempts`` failures it is dead-lettered with its last error kept.
    The defaults survive a broker outage of several minutes without a dead letter.
    """

    max_attempts: int = 10
    initial: float = 0.5
    maximum: float = 300.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {self.max_attempts}")
        if self.initial < 0 or self.maximum < self.initial:
            raise ValueError(f"need 0 <= initial <= maximum, not {self.initial}, {self.maximum}")

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failure."""
        return min(self.maximum, self.initial * 2.0 ** max(0, attempts - 1))

    def next_try(self, attempts: int, now: dt.datetime) -> dt.datetime:
        """When an event that failed ``attempts`` times may be tried again."""
        return now + dt.timedelta(seconds=self.delay(attempts))

    def exhausted(self, attempts: int) -> bool:
        """Whether an event that failed ``attempts`` times goes to the dead letter."""
        return attempts >= self.max_attempts


__all__ = ["RetryPolicy"]

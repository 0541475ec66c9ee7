"""Where a relay sends the events it claimed: a broker, or the receivers themselves."""

from __future__ import annotations

import abc
import collections.abc as c

import sqlalchemy as sa

from .delivery import deliver
from .events import DurableEvent
from .policy import RetryPolicy


class PublishError(Exception):
    """Publishing stopped at ``events[published]``, which raised ``error``.

    The events before it went out; the relay marks those published, counts a
    failed attempt for this one, gives the rest back and backs off.
    """

    def __init__(self, published: int, error: BaseException) -> None:
        super().__init__(f"publishing failed after {published} events: {error!r}")
        self.published = published
        self.error = error


class Publisher(abc.ABC):
    """Sends claimed events on; subclass it to publish somewhere else than Celery."""

    @abc.abstractmethod
    def publish(self, event: DurableEvent, engine: sa.Engine) -> None:
        """Send one event; raise when it did not go out."""

    def publish_all(self, events: c.Sequence[DurableEvent], engine: sa.Engine) -> None:
        """Send ``events`` in order; a :class:`PublishError` says where it stopped."""
        for index, event in enumerate(events):
            try:
                self.publish(event, engine)
            except Exception as error:
                raise PublishError(index, error) from error


class InProcessPublisher(Publisher):
    """Runs durable receivers in the relay itself: no broker, same inbox and retries.

    For demos, tests and single-process applications. Events run one after
    another in the relay's thread; a receiver that raises is tried again after
    ``policy``'s backoff and dead-lettered when its attempts are used up.
    """

    def __init__(self, policy: RetryPolicy | None = None) -> None:
        self.policy = policy or RetryPolicy()

    def publish(self, event: DurableEvent, engine: sa.Engine) -> None:
        deliver(engine, event, self.policy)


__all__ = ["InProcessPublisher", "PublishError", "Publisher"]

"""The receiver-error scope: receiver exceptions wait until the outermost trigger returns.

A receiver that raises must not interrupt the transition it observes. While a
trigger is processed, the errors of its receivers (and of the receivers of any
trigger fired from inside it) go into one :class:`PendingReceiverErrors`, opened
by the outermost trigger; when that trigger returns they are raised as one
:class:`~statesignals.ReceiverError`, or logged, as the machine's policy says.
"""

from __future__ import annotations

import asyncio
import collections.abc as c
import logging
import typing as t
from contextvars import ContextVar, Token

from .errors import ReceiverError

ReceiverErrorPolicy = t.Literal["raise", "log"]
"""What happens to receiver exceptions once a trigger finished: raise them as one
:class:`~statesignals.ReceiverError`, or log each on the ``statesignals`` logger."""

RECEIVER_ERROR_POLICIES: tuple[ReceiverErrorPolicy, ...] = ("raise", "log")

_LOGGER = logging.getLogger("statesignals")


def log_receiver_errors(errors: c.Iterable[Exception]) -> None:
    """Log each receiver error, with its traceback, on the ``statesignals`` logger."""
    for error in errors:
        _LOGGER.error("receiver raised %r", error, exc_info=error)


class PendingReceiverErrors(list[Exception]):
    """The receiver errors of the trigger being processed, raised when it returns.

    Entering it makes it the current collection; if the block raises, the errors
    gathered so far are logged (and noted on the exception) instead of being lost.
    ``owner`` is the asyncio task that opened it (None in synchronous code): a task
    created inside a trigger inherits the context variable, but its triggers must
    surface their own errors, not add to a list the creating trigger may already
    have raised.
    """

    __slots__ = ("_token", "owner")

    owner: object
    _token: Token[PendingReceiverErrors | None]

    def __enter__(self) -> PendingReceiverErrors:
        self._token = pending_receiver_errors.set(self)
        return self

    def __exit__(self, kind: object, error: BaseException | None, traceback: object) -> None:
        pending_receiver_errors.reset(self._token)
        if error is not None:
            self.log_beside(error)

    def log_beside(self, error: BaseException) -> None:
        """Log the gathered errors, noting on ``error`` (which wins) that they were."""
        if self:
            log_receiver_errors(self)
            error.add_note(
                f"{len(self)} receiver error(s) of the same trigger were logged "
                "on the 'statesignals' logger"
            )


pending_receiver_errors: ContextVar[PendingReceiverErrors | None] = ContextVar(
    "statesignals_pending_receiver_errors", default=None
)
"""The receiver errors of the trigger being processed in this context (None outside
any trigger). Triggers fired from inside callbacks or receivers add to the
outermost trigger's list, so a receiver's error never interrupts a transition."""


def current_task() -> object:
    """The running asyncio task, or None outside one."""
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None


def defer_receiver_errors(errors: t.Sequence[Exception], *, per_task: bool) -> None:
    """Add ``errors`` to the current trigger's collection, or log them if there is none.

    ``per_task``: only a collection opened by the running asyncio task counts.
    """
    pending = pending_receiver_errors.get()
    if pending is not None and (not per_task or pending.owner is current_task()):
        pending.extend(errors)
    else:
        # Outside the processing of a trigger (or in one that began before any
        # receiver was connected) raising could interrupt a transition: log.
        log_receiver_errors(list(errors))


def surface_receiver_errors(errors: list[Exception], policy: ReceiverErrorPolicy) -> None:
    """Raise ``errors`` as one :class:`~statesignals.ReceiverError`, or log them."""
    if policy == "log":
        log_receiver_errors(errors)
        return
    count = "1 receiver" if len(errors) == 1 else f"{len(errors)} receivers"
    raise ReceiverError(f"{count} raised while a trigger was processed", errors)


__all__ = [
    "RECEIVER_ERROR_POLICIES",
    "PendingReceiverErrors",
    "ReceiverErrorPolicy",
    "current_task",
    "defer_receiver_errors",
    "log_receiver_errors",
    "pending_receiver_errors",
    "surface_receiver_errors",
]

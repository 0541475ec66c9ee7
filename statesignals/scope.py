"""The receiver-error scope: receiver exceptions wait until the outermost trigger returns.

A receiver that raises must not interrupt the transition it observes. While a
trigger is processed, the errors of its receivers (and of the receivers of any
trigger fired from inside it) go into one :class:`PendingReceiverErrors`, opened
by the outermost trigger; when that trigger returns they are raised as one
:class:`~statesignals.ReceiverError`, or logged, as the machine's policy says.

What a receiver raises that is not an error (``KeyboardInterrupt``,
``SystemExit``, ``GeneratorExit``) is held the same way (:func:`hold_interrupt`):
the transition finishes first, so the model is never left between two states,
then the first of them is raised as it is, whatever the policy.
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


def log_receiver_errors(errors: c.Iterable[BaseException]) -> None:
    """Log each receiver error, with its traceback, on the ``statesignals`` logger."""
    for error in errors:
        _LOGGER.error("receiver raised %r", error, exc_info=error)


class PendingReceiverErrors(list[BaseException]):
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
            winner = self.winner(error)
            if winner is not error:
                raise winner

    def winner(self, error: BaseException) -> BaseException:
        """What the trigger raises when it raised ``error`` itself: ``error``, unless a
        receiver's interrupt is held and ``error`` is an ordinary exception (then the
        interrupt, with ``error`` as its context). The receiver errors are logged."""
        interrupt = next((held for held in self if not isinstance(held, Exception)), None)
        if interrupt is None or not isinstance(error, Exception):
            self.log_beside(error)
            return error
        self.remove(interrupt)
        self.log_beside(interrupt)
        interrupt.__context__ = error
        return interrupt

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


def hold_interrupt(interrupt: BaseException, *, per_task: bool) -> bool:
    """Keep ``interrupt`` (raised by a receiver) until the outermost trigger returns.

    False outside the processing of a trigger: there is nothing to finish first.
    ``per_task`` as for :func:`defer_receiver_errors`.
    """
    pending = pending_receiver_errors.get()
    if pending is None or (per_task and pending.owner is not current_task()):
        return False
    pending.append(interrupt)
    return True


def surface_receiver_errors(errors: list[BaseException], policy: ReceiverErrorPolicy) -> None:
    """Raise ``errors`` as one :class:`~statesignals.ReceiverError`, or log them; a held
    interrupt among them is raised itself, the errors logged beside it."""
    failures = [error for error in errors if isinstance(error, Exception)]
    if len(failures) < len(errors):
        interrupt = next(error for error in errors if not isinstance(error, Exception))
        if failures:
            log_receiver_errors(failures)
            interrupt.add_note(
                f"{len(failures)} receiver error(s) of the same trigger were logged "
                "on the 'statesignals' logger"
            )
        raise interrupt
    if policy == "log":
        log_receiver_errors(failures)
        return
    count = "1 receiver" if len(failures) == 1 else f"{len(failures)} receivers"
    raise ReceiverError(f"{count} raised while a trigger was processed", failures)


__all__ = [
    "RECEIVER_ERROR_POLICIES",
    "PendingReceiverErrors",
    "ReceiverErrorPolicy",
    "current_task",
    "defer_receiver_errors",
    "hold_interrupt",
    "log_receiver_errors",
    "pending_receiver_errors",
    "surface_receiver_errors",
]

"""Rerunning a unit of work that lost a race to a concurrent writer."""

from __future__ import annotations

import asyncio
import collections.abc as c
import random
import time
import typing as t

from sqlalchemy.orm import Session

from .tracking import is_conflict

if t.TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

R = t.TypeVar("R")


def _pause(attempt: int, backoff: float) -> float:
    # Random, growing pauses, so the writers that collided do not collide again.
    return random.uniform(0, backoff * 2 ** min(attempt, 8))


def _conflicted(
    error: Exception,
    attempt: int,
    attempts: int,
    on_conflict: c.Callable[[Exception, int], object] | None,
) -> None:
    """Re-raise ``error`` unless it is a conflict worth another attempt."""
    if not is_conflict(error):
        raise error
    if on_conflict is not None:
        on_conflict(error, attempt)
    if attempt == attempts:
        raise error


def retry_on_conflict(
    session_factory: c.Callable[[], Session],
    work: c.Callable[[Session], R],
    *,
    attempts: int = 5,
    backoff: float = 0.002,
    on_conflict: c.Callable[[Exception, int], object] | None = None,
) -> R:
    """Run ``work(session)`` in a transaction of a new session; rerun it on conflict.

    Each attempt opens a session from ``session_factory`` (a ``sessionmaker``), runs
    ``work`` inside ``session.begin()`` (committed when it returns) and closes it. An
    attempt that fails with :class:`~statesignals.StaleTransitionError`,
    :class:`~statesignals.DatabaseLockedError` or a PostgreSQL serialization failure or
    deadlock is rolled back and ``work`` runs again, on freshly loaded rows, after a
    short random pause; after ``attempts`` attempts the last error is raised. Anything
    else is raised at once. ``work`` must load the rows it changes itself (rows loaded
    before belong to a session that is gone). ``on_conflict(error, attempt)`` is called
    for each conflict, the last one included (for logs and metrics). Returns what
    ``work`` returned.
    """
    for attempt in range(1, attempts + 1):
        try:
            with session_factory() as session, session.begin():
                return work(session)
        except Exception as error:
            _conflicted(error, attempt, attempts, on_conflict)
        time.sleep(_pause(attempt, backoff))
    raise AssertionError("unreachable")  # pragma: no cover


async def retry_on_conflict_async(
    session_factory: c.Callable[[], AsyncSession],
    work: c.Callable[[AsyncSession], c.Awaitable[R]],
    *,
    attempts: int = 5,
    backoff: float = 0.002,
    on_conflict: c.Callable[[Exception, int], object] | None = None,
) -> R:
    """:func:`retry_on_conflict` for ``AsyncSession``: ``await work(session)``."""
    for attempt in range(1, attempts + 1):
        try:
            async with session_factory() as session, session.begin():
                return await work(session)
        except Exception as error:
            _conflicted(error, attempt, attempts, on_conflict)
        await asyncio.sleep(_pause(attempt, backoff))
    raise AssertionError("unreachable")  # pragma: no cover


__all__ = ["retry_on_conflict", "retry_on_conflict_async"]

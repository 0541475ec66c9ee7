"""Persisted workflows on SQLAlchemy 2.x: optimistic locking, committed signals, history.

Needs the ``sqlalchemy`` extra (``pip install "transitions-statesignals[sqlalchemy]"``).
See ``docs/persistence.md``.
"""

from __future__ import annotations

from .engines import sqlite_async_engine, sqlite_engine
from .model import PersistedWorkflow, StateType, state_column, version_mapper_args
from .retry import retry_on_conflict, retry_on_conflict_async

__all__ = [
    "PersistedWorkflow",
    "StateType",
    "retry_on_conflict",
    "retry_on_conflict_async",
    "sqlite_async_engine",
    "sqlite_engine",
    "state_column",
    "version_mapper_args",
]

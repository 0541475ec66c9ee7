"""Engines for persisted workflows, and the database errors they turn into clear ones.

:func:`sqlite_engine` is the embedded default. Python's ``sqlite3`` module starts
transactions itself, late and not before every statement, which breaks SAVEPOINT and
makes rollbacks lose track; the engine here turns that off and lets SQLAlchemy emit
``BEGIN`` explicitly (the recipe in SQLAlchemy's SQLite dialect documentation), and
sets WAL journaling (readers do not block the writer) and a busy timeout.

PostgreSQL needs nothing special: ``create_engine("postgresql+psycopg://...")``
(psycopg 3) or ``create_async_engine("postgresql+asyncpg://...")``.
"""

from __future__ import annotations

import os
import re
import typing as t

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from statesignals import DatabaseLockedError, MissingVersionColumnError

from .history import persisted_tables

BeginMode = t.Literal["DEFERRED", "IMMEDIATE", "EXCLUSIVE"]


def sqlite_engine(
    path: str | os.PathLike[str],
    *,
    busy_timeout: float = 5.0,
    begin: BeginMode = "DEFERRED",
    **engine_options: t.Any,
) -> Engine:
    """A SQLAlchemy engine on the SQLite file ``path`` with working transactions.

    ``BEGIN`` is emitted by SQLAlchemy (``begin="IMMEDIATE"`` takes the write lock at
    once, so units of work on one file queue instead of conflicting), savepoints work,
    the journal is WAL and a connection waits up to ``busy_timeout`` seconds for
    another's write lock; when it gives up, the error is a
    :class:`~statesignals.DatabaseLockedError` naming the file.
    """
    engine = create_engine(
        f"sqlite+pysqlite:///{os.fspath(path)}",
        connect_args={"timeout": busy_timeout},
        **engine_options,
    )
    _make_transactions_explicit(engine, begin, busy_timeout)
    _name_locked_database(engine, os.fspath(path), busy_timeout)
    return engine


def sqlite_async_engine(
    path: str | os.PathLike[str],
    *,
    busy_timeout: float = 5.0,
    begin: BeginMode = "DEFERRED",
    **engine_options: t.Any,
) -> AsyncEngine:
    """:func:`sqlite_engine` for ``AsyncSession``, on aiosqlite."""
    engine = create_async_engine(
        f"sqlite+aiosqlite:///{os.fspath(path)}",
        connect_args={"timeout": busy_timeout},
        **engine_options,
    )
    _make_transactions_explicit(engine.sync_engine, begin, busy_timeout)
    _name_locked_database(engine.sync_engine, os.fspath(path), busy_timeout)
    return engine


def _make_transactions_explicit(engine: Engine, begin: BeginMode, busy_timeout: float) -> None:
    @event.listens_for(engine, "connect")
    def connect(dbapi_connection: t.Any, record: t.Any) -> None:
        # No implicit BEGIN from the driver: SQLAlchemy's "begin" event below emits it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def begin_transaction(connection: t.Any) -> None:
        connection.exec_driver_sql(f"BEGIN {begin}")


def _name_locked_database(engine: Engine, path: str, busy_timeout: float) -> None:
    @event.listens_for(engine, "handle_error", retval=True)
    def locked(context: ExceptionContext) -> BaseException | None:
        original = context.original_exception
        if "database is locked" in str(original) or "database table is locked" in str(original):
            return DatabaseLockedError(
                f"{path}: database is locked: another connection is writing (waited up to "
                f"{busy_timeout:g} s, or this transaction read rows that another one has "
                "changed since); roll back and rerun the unit of work (retry_on_conflict does)"
            )
        return None


@event.listens_for(Engine, "handle_error", retval=True)
def _missing_version_column(context: ExceptionContext) -> BaseException | None:
    """A table of a persisted workflow that has no version column yet: say what to migrate."""
    text = str(context.original_exception).lower()
    missing = ("no such column", "has no column named", "does not exist", "unknown column")
    if not any(words in text for words in missing):
        return None
    statement = (context.statement or "").lower()
    for table, (cls, column) in persisted_tables().items():
        name = re.escape(table.lower())
        mentions = re.search(rf"(?<![\w.]){name}\.{column}\b", text) or any(
            words in text
            for words in (f"column: {column}", f'column "{column}"', f"column named {column}")
        )
        if mentions and re.search(rf"(?<![\w.]){name}\b", statement):
            return MissingVersionColumnError(
                f"table {table!r} of {cls.__qualname__} has no {column!r} column: it is older "
                f"than the workflow's optimistic locking. Add it (INTEGER NOT NULL DEFAULT 1; "
                "docs/persistence.md shows the Alembic migration)"
            )
    return None


__all__ = ["BeginMode", "sqlite_async_engine", "sqlite_engine"]

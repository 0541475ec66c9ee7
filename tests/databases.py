"""Databases for the persistence tests: SQLite files and PostgreSQL databases of their own.

Each PostgreSQL database is created by the test module that uses it, named with the
module and the process id (``ss_persist_<module>_<pid>``) so that people testing
against the same server at once never share one, and dropped afterwards.
"""

from __future__ import annotations

import collections.abc as c
import contextlib
import os
import typing as t
from pathlib import Path

from sqlalchemy import URL, Engine, create_engine, make_url, text
from sqlalchemy.orm import DeclarativeBase

from statesignals.sqlalchemy import sqlite_engine

from .services import require_postgres

DATABASE_PREFIX = "ss_persist"


def driver_url(url: str | URL, driver: str = "psycopg") -> URL:
    """``url`` with the SQLAlchemy driver named (``postgresql+psycopg://...``)."""
    return make_url(url).set(drivername=f"postgresql+{driver}")


@contextlib.contextmanager
def postgres_database(name: str) -> c.Iterator[URL]:
    """A new, empty PostgreSQL database for the block; skipped (or failed in CI) without a
    server. Yields its psycopg URL."""
    admin_url = driver_url(require_postgres())
    database = f"{DATABASE_PREFIX}_{name}_{os.getpid()}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{database}"'))
            # A test database needs no durability across a server crash: commits return
            # without waiting for the disk, so the tests measure the library, not fsync.
            connection.execute(text(f'ALTER DATABASE "{database}" SET synchronous_commit = off'))
        yield admin_url.set(database=database)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    finally:
        admin.dispose()


def sqlite_file(directory: Path, name: str = "workflows.db", **options: t.Any) -> Engine:
    """An engine on a new SQLite file in ``directory`` (see :func:`sqlite_engine`)."""
    return sqlite_engine(directory / name, **options)


def fresh_tables(engine: Engine, base: type[DeclarativeBase]) -> Engine:
    """Create ``base``'s tables on ``engine`` after dropping any left from an earlier test."""
    base.metadata.drop_all(engine)
    base.metadata.create_all(engine)
    return engine


__all__ = ["DATABASE_PREFIX", "driver_url", "fresh_tables", "postgres_database", "sqlite_file"]

"""Engines for a database named by URL, as the outbox's command line and workers open them."""

from __future__ import annotations

import urllib.parse

import sqlalchemy as sa

SQLITE_BUSY_TIMEOUT = 30.0
"""Seconds a relay or worker waits for an SQLite file's write lock before giving up."""


def engine_for(url: str | sa.URL) -> sa.Engine:
    """An engine for ``url``; SQLite files get :func:`statesignals.sqlalchemy.sqlite_engine`
    (``BEGIN IMMEDIATE``, WAL, a busy timeout), so a relay, its workers and the
    application can share one file."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        from .sqlalchemy import sqlite_engine

        database = parsed.database
        if parsed.query:  # uri=true, mode=ro ...: the driver's options, kept
            database = f"{database}?{urllib.parse.urlencode(parsed.query, doseq=True)}"
        # IMMEDIATE: a unit of work that reads before it writes (a receiver loading its
        # model) queues for the write lock instead of failing when a relay wrote first.
        return sqlite_engine(database, busy_timeout=SQLITE_BUSY_TIMEOUT, begin="IMMEDIATE")
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in ("", "psycopg2"):
        # psycopg 3 is the driver the relay's LISTEN needs (and the one installed).
        parsed = parsed.set(drivername="postgresql+psycopg")
    return sa.create_engine(parsed)


__all__ = ["engine_for"]

"""Engines for a database named by URL, as the command line and workers get them."""

from __future__ import annotations

import sqlalchemy as sa


def engine_for(url: str | sa.URL) -> sa.Engine:
    """An engine for ``url``; SQLite files get WAL and a busy timeout, so a relay, its
    workers and the application can share one file."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = sa.create_engine(parsed, connect_args={"timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _wal(dbapi_connection: object, record: object) -> None:
            cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in ("", "psycopg2"):
        # psycopg 3 is the driver the relay's LISTEN needs (and the one installed).
        parsed = parsed.set(drivername="postgresql+psycopg")
    return sa.create_engine(parsed)


__all__ = ["engine_for"]

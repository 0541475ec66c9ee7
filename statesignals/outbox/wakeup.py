"""Waking relays when outbox rows commit, so they need not poll fast to be quick.

Two paths, both only a hint (relays still poll, so a lost wake-up costs at
most one poll interval):

* in the process that committed: the writer calls :func:`announce` after the
  commit and every relay of the same database in this process wakes;
* across processes on PostgreSQL: a trigger on the outbox table sends
  ``NOTIFY statesignals_outbox`` with every row inserted for relays to claim,
  delivered on commit, and the relay's :class:`PostgresListener` hears it.

SQLite has no notifications between processes: a relay in another process than
the writers finds new rows by polling.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import typing as t
import weakref

import sqlalchemy as sa

from .tables import NOTIFY_CHANNEL

logger = logging.getLogger("statesignals.outbox.relay")

_listeners: dict[str, set[threading.Event]] = {}
_lock = threading.Lock()


def database_key(url: sa.URL) -> str:
    """One name for one database, whichever engine reaches it (SQLite: the file's path)."""
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return "sqlite:" + os.path.realpath(url.database)
    return url.set(drivername=url.get_backend_name()).render_as_string(hide_password=True)


_engine_keys: weakref.WeakKeyDictionary[sa.Engine, str] = weakref.WeakKeyDictionary()


def engine_key(engine: sa.Engine) -> str:
    """:func:`database_key` of ``engine``'s URL, worked out once per engine (writers ask
    for it in every transaction that writes an outbox row)."""
    try:
        return _engine_keys[engine]
    except KeyError:
        key = _engine_keys[engine] = database_key(engine.url)
        return key


def announce(key: str) -> None:
    """Wake every relay in this process that serves the database ``key`` names."""
    for event in _listeners.get(key, ()):
        event.set()


def subscribe(key: str, event: threading.Event) -> None:
    """Set ``event`` whenever outbox rows for database ``key`` commit in this process."""
    with _lock:
        _listeners.setdefault(key, set()).add(event)


def unsubscribe(key: str, event: threading.Event) -> None:
    with _lock:
        _listeners.get(key, set()).discard(event)


class PostgresListener:
    """Sets ``event`` whenever a ``NOTIFY statesignals_outbox`` arrives (a thread of its own)."""

    def __init__(self, engine: sa.Engine, event: threading.Event) -> None:
        self._engine = engine
        self._event = event
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="outbox-listen", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)

    def _listen(self) -> None:
        while not self._stopped.is_set():
            try:
                self._listen_once()
            except Exception as error:  # the server went away: poll until it is back
                logger.warning("LISTEN %s lost (%s); polling meanwhile", NOTIFY_CHANNEL, error)
                self._stopped.wait(1.0)

    def _listen_once(self) -> None:
        raw = self._engine.raw_connection()
        try:
            connection: t.Any = raw.driver_connection
            connection.autocommit = True
            connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
            # A row committed while we were not listening is found by the next poll.
            self._event.set()
            while not self._stopped.is_set():
                for _ in connection.notifies(timeout=0.5, stop_after=1):
                    self._event.set()
        finally:
            with contextlib.suppress(Exception):
                raw.invalidate()


def listens(engine: sa.Engine) -> bool:
    """Whether relays on ``engine`` can hear commits from other processes."""
    return engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg"


__all__ = [
    "PostgresListener",
    "announce",
    "database_key",
    "engine_key",
    "listens",
    "subscribe",
    "unsubscribe",
]

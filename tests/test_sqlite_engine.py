"""sqlite_engine: transactions that SQLite and SQLAlchemy agree on, WAL, a busy timeout."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from statesignals.sqlalchemy import sqlite_engine


def test_the_file_is_in_wal_mode_with_the_busy_timeout(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path / "wal.db", busy_timeout=2.5)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 2500
    finally:
        engine.dispose()


def test_savepoints_and_rollbacks_undo_exactly_what_they_should(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path / "savepoints.db")
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE notes (body TEXT)"))
        with engine.connect() as connection:
            transaction = connection.begin()
            connection.execute(text("INSERT INTO notes VALUES ('kept')"))
            savepoint = connection.begin_nested()
            connection.execute(text("INSERT INTO notes VALUES ('undone')"))
            savepoint.rollback()
            transaction.commit()
            # pysqlite on its own emits no BEGIN before a SAVEPOINT, so releasing it
            # commits: the outer rollback would then undo nothing.
            transaction = connection.begin()
            savepoint = connection.begin_nested()
            connection.execute(text("INSERT INTO notes VALUES ('released, then rolled back')"))
            savepoint.commit()
            transaction.rollback()
        with engine.connect() as connection:
            assert connection.execute(text("SELECT body FROM notes")).scalars().all() == ["kept"]
    finally:
        engine.dispose()

"""Writers racing on the same rows: no lost update; versions = commits = history rows."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
from pathlib import Path

from sqlalchemy import create_engine

from .databases import fresh_tables, postgres_database, sqlite_file
from .persisted_models import Base
from .persistence_race import Tally, create_rows, final_counts, race, race_in_process

WRITERS = 4
TRIGGERS = 500
ROWS = 50


def check_and_report(label: str, tally: Tally, counts: dict[str, int]) -> None:
    conflicts = sum(tally.conflicts.values())
    print(
        f"\n{label}: {WRITERS} writers x {TRIGGERS} triggers on {ROWS} rows: "
        f"{tally.attempts} attempts = {tally.commits} commits + {conflicts} conflicts "
        f"({dict(tally.conflicts)}); versions count {counts['version_transitions']} "
        f"transitions; history has {counts['history_transitions']} transitions and "
        f"{counts['history_creations']} creations"
    )
    assert tally.gave_up == 0
    assert tally.commits == WRITERS * TRIGGERS
    # Every attempt either committed or failed with a conflict, nothing else.
    assert tally.attempts == tally.commits + conflicts
    # No lost update: every commit added exactly one version and one history row.
    assert counts["version_transitions"] == tally.commits
    assert counts["history_transitions"] == tally.commits
    assert counts["history_creations"] == ROWS


def test_processes_racing_on_postgresql_lose_no_update() -> None:
    with postgres_database("race") as url:
        engine = create_engine(url)
        try:
            Base.metadata.create_all(engine)
            keys = create_rows(engine, ROWS)
            context = multiprocessing.get_context("spawn")
            tally = Tally()
            with concurrent.futures.ProcessPoolExecutor(WRITERS, mp_context=context) as pool:
                url_text = url.render_as_string(hide_password=False)
                runs = [
                    pool.submit(race_in_process, url_text, keys, TRIGGERS, seed)
                    for seed in range(WRITERS)
                ]
                for run in runs:
                    tally.add(run.result())
            counts = final_counts(engine, keys)
        finally:
            engine.dispose()
    assert set(tally.conflicts) <= {"StaleTransitionError"}
    check_and_report("PostgreSQL, processes", tally, counts)


def test_threads_racing_on_a_sqlite_file_lose_no_update(tmp_path: Path) -> None:
    engine = fresh_tables(sqlite_file(tmp_path, "race.db"), Base)
    try:
        keys = create_rows(engine, ROWS)
        tally = Tally()
        with concurrent.futures.ThreadPoolExecutor(WRITERS) as pool:
            runs = [pool.submit(race, engine, keys, TRIGGERS, seed) for seed in range(WRITERS)]
            for run in runs:
                tally.add(run.result())
        counts = final_counts(engine, keys)
    finally:
        engine.dispose()
    assert set(tally.conflicts) <= {"StaleTransitionError", "DatabaseLockedError"}
    check_and_report("SQLite file, threads", tally, counts)

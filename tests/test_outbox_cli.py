"""``statesignals relay`` and ``statesignals outbox``: run as operators run them."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from statesignals.cli import main

from .outbox_support import (
    FAILS,
    ROOT,
    child_environment,
    commit_events,
    effect_counts,
    sqlite_database,
    tally,
    wait_for,
)


def test_status_counts_events_by_state(tmp_path, capsys):
    url, engine = sqlite_database(tmp_path)
    commit_events(engine, range(3))
    assert main(["outbox", "status", "--database", url]) == 0
    shown = capsys.readouterr().out.splitlines()
    assert shown[:6] == [
        "pending: 3",
        "claimed: 0",
        "failed: 0",
        "dead: 0",
        "published: 0",
        "in flight: 0",
    ]
    assert shown[6].startswith("oldest pending age: ")


def test_relay_drains_in_process_then_status_shows_dead_and_retry_revives(tmp_path, capsys):
    url, engine = sqlite_database(tmp_path)
    commit_events(engine, range(4))
    (dead,) = commit_events(engine, [9], receiver=FAILS)
    options = ["--database", url, "--in-process", "--drain", "--max-attempts", "1"]
    assert main(["relay", *options, "--poll-interval", "0.05"]) == 0
    capsys.readouterr()
    assert main(["outbox", "status", "--database", url]) == 0
    shown = capsys.readouterr().out
    assert "published: 4" in shown
    assert "dead: 1" in shown
    assert f"dead {dead} tests.outbox_support:always_fails after 1 attempts: RuntimeError" in shown
    assert main(["outbox", "retry", dead, "--database", url]) == 0
    assert capsys.readouterr().out == f"{dead} due again\n"
    assert main(["outbox", "status", "--database", url]) == 0
    assert "pending: 1" in capsys.readouterr().out
    assert main(["outbox", "retry", "--dead", "--database", url]) == 0
    assert capsys.readouterr().out == "0 dead events due again\n"


def test_errors_are_one_line_naming_the_problem(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert main(["outbox", "status", "--database", url]) == 2
    error = capsys.readouterr().err
    assert f"no such file {str(tmp_path / 'empty.db')!r}" in error
    assert not (tmp_path / "empty.db").exists()  # a mistyped path makes no database
    sa.create_engine(url).connect().close()  # an empty database file
    assert main(["outbox", "status", "--database", url]) == 2
    error = capsys.readouterr().err
    assert "no such table: statesignals_outbox" in error
    assert "statesignals outbox create --database URL" in error
    assert main(["outbox", "retry", "--database", url]) == 2
    assert "give either an EVENT_ID or --dead" in capsys.readouterr().err
    assert main(["outbox", "create", "--database", url]) == 0
    assert main(["outbox", "retry", "nope", "--database", url]) == 2
    assert "no outbox event 'nope'" in capsys.readouterr().err


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_relay_stops_cleanly_on_a_signal(tmp_path, stop):
    url, engine = sqlite_database(tmp_path)
    ids = commit_events(engine, range(5))
    relay = subprocess.Popen(
        [sys.executable, "-m", "statesignals", "relay", "--database", url, "--in-process"],
        cwd=ROOT,
        env=child_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: sum(effect_counts(engine).values()) == 5, "the relay to publish")
        more = commit_events(engine, range(5, 8))  # found by polling: another process
        wait_for(lambda: sum(effect_counts(engine).values()) == 8, "the later events")
    finally:
        relay.send_signal(stop)
        out, err = relay.communicate(timeout=30)
    assert relay.returncode == 0, err
    assert f"{stop.name}, stopping" in err
    assert "published 5 events" in err
    assert "stopped; totals: published 8, failed 0, dead 0" in err
    assert "'published': 8" in out
    assert tally(f"relay stopped by {stop.name}", ids + more, engine) == (8, 0, 0)


def test_the_relay_says_what_is_wrong_in_one_line_before_it_starts(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    sa.create_engine(url).connect().close()
    assert main(["relay", "--database", url, "--in-process", "--drain"]) == 2
    error = capsys.readouterr().err
    assert "has no statesignals_outbox and no statesignals_inbox table" in error
    assert "statesignals outbox create --database URL" in error
    assert main(["relay", "--database", url, "--celery", "shop_tasks"]) == 2
    assert "--celery takes MODULE:APP (shop.tasks:app), not 'shop_tasks'" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize(
    ("option", "value", "problem"),
    [
        ("--batch-size", "0", "argument --batch-size: must be 1 or more, not 0"),
        ("--max-attempts", "x", "argument --max-attempts: not a whole number: 'x'"),
        ("--lease", "-1", "argument --lease: must be a positive number of seconds, not -1"),
        ("--poll-interval", "0", "must be a positive number of seconds, not 0"),
        ("--republish-after", "inf", "must be a positive number of seconds, not inf"),
    ],
)
def test_relay_options_out_of_range_are_refused(tmp_path, capsys, option, value, problem):
    url = f"sqlite:///{tmp_path / 'outbox.db'}"
    with pytest.raises(SystemExit) as exit_:
        main(["relay", "--database", url, "--in-process", option, value])
    assert exit_.value.code == 2
    assert problem in capsys.readouterr().err


def test_the_installed_relay_imports_receivers_from_the_current_directory(tmp_path):
    (tmp_path / "shop_receivers.py").write_text(
        "from tests.outbox_support import record_effect\n"
        "def ship(event, session):\n"
        "    record_effect(event, session)\n"
    )
    url, engine = sqlite_database(tmp_path)
    ids = commit_events(engine, range(3), receiver="shop_receivers:ship")
    command = Path(sys.executable).with_name("statesignals")
    environment = child_environment()
    environment["PYTHONPATH"] = str(ROOT)  # this checkout, and not the current directory
    done = subprocess.run(
        [str(command), "relay", "--database", url, "--in-process", "--drain"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert tally("installed relay, receivers of the current directory", ids, engine) == (3, 0, 0)


def test_a_mistyped_sqlite_uri_makes_no_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    url = "sqlite:///file:typo.db?uri=true"
    assert main(["outbox", "status", "--database", url]) == 2
    assert "no such file 'typo.db'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_status_reads_the_database_a_sqlite_uri_names(tmp_path, capsys):
    url, engine = sqlite_database(tmp_path)
    commit_events(engine, range(2))
    engine.dispose()
    path = sa.make_url(url).database
    uri = f"sqlite:///file:{path}?mode=ro&uri=true"
    assert main(["outbox", "status", "--database", uri]) == 0
    assert "pending: 2" in capsys.readouterr().out

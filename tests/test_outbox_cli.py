"""``statesignals relay`` and ``statesignals outbox``: run as operators run them."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

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

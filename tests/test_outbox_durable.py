"""Durable receivers: the outbox row is written with the state change, or not at all."""

from __future__ import annotations

import collections.abc as c
import json
import subprocess
import sys
import threading
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from statesignals import (
    DurableReceiverError,
    OutboxPayloadError,
    SignalingMachine,
    transition_committed,
)
from statesignals.outbox import InProcessPublisher, OutboxRelay, RetryPolicy, outbox_table

from . import outbox_models
from .outbox_models import Base, Carrier, Letter, Parcel, count_shipment, new_parcel, notify_carrier
from .outbox_support import ROOT, child_environment, effects, sqlite_database, tally, wait_for

FAST = RetryPolicy(max_attempts=3, initial=0.01, maximum=0.05)


@pytest.fixture
def engine(tmp_path: Path) -> c.Iterator[sa.Engine]:
    _, engine = sqlite_database(tmp_path)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: sa.Engine) -> sessionmaker[Session]:
    return sessionmaker(engine)


def outbox_rows(engine: sa.Engine) -> list[sa.Row[t.Any]]:
    with engine.connect() as connection:
        return list(connection.execute(sa.select(outbox_table).order_by(outbox_table.c.id)))


def test_a_committed_trigger_writes_one_row_per_durable_receiver(sessions, engine):
    Parcel.on_commit("ship", durable=True)(notify_carrier)
    Parcel.on_commit("ship", durable=True)(count_shipment)
    key = new_parcel(sessions)
    with sessions() as session, session.begin():
        session.get(Parcel, key).ship(carrier="DHL")
    rows = outbox_rows(engine)
    assert [row.receiver for row in rows] == [
        "tests.outbox_models:notify_carrier",
        "tests.outbox_models:count_shipment",
    ]
    row = rows[0]
    assert (row.aggregate_type, json.loads(row.aggregate_id)) == ("tests.outbox_models:Parcel", key)
    assert (row.trigger, row.source, row.dest, row.sequence) == ("ship", "packed", "shipped", 2)
    assert json.loads(row.payload) == {"args": [], "kwargs": {"carrier": "DHL"}}
    assert row.attempts == 0
    assert row.published_at is None and row.dead_at is None
    assert len({row.event_id for row in rows}) == 2
    assert {row.transition_id for row in rows} == {rows[0].transition_id}


def test_other_triggers_and_other_classes_write_nothing(sessions, engine):
    Parcel.on_commit("ship", durable=True)(notify_carrier)
    key = new_parcel(sessions)
    with sessions() as session, session.begin():
        letter = Letter()
        session.add(letter)
        session.flush()
        letter.ship()
    with sessions() as session, session.begin():
        parcel = session.get(Parcel, key)
        parcel.advance()  # packed -> shipped, but not through "ship"
    assert outbox_rows(engine) == []


def test_a_rolled_back_transaction_leaves_no_row(sessions, engine):
    Parcel.on_commit("ship", durable=True)(notify_carrier)
    key = new_parcel(sessions)
    with sessions() as session:
        session.begin()
        session.get(Parcel, key).ship()
        session.rollback()
    with sessions() as session, session.begin():
        parcel = session.get(Parcel, key)
        savepoint = session.begin_nested()
        parcel.ship()
        savepoint.rollback()
    assert outbox_rows(engine) == []


@pytest.mark.parametrize(
    "trigger",
    [
        "ship",
        # Made on first use: the to_delivered transition from "packed" does not
        # exist yet when the receiver is connected.
        "to_delivered",
    ],
)
def test_a_payload_json_cannot_hold_fails_the_trigger_before_anything_changes(
    sessions, engine, trigger
):
    Parcel.on_commit(trigger, durable=True)(notify_carrier)
    key = new_parcel(sessions)
    with sessions() as session, session.begin():
        parcel = session.get(Parcel, key)
        with pytest.raises(
            OutboxPayloadError, match=rf"Parcel.{trigger}\(\): keyword argument 'when'"
        ):
            getattr(parcel, trigger)(when=object())
        assert parcel.state == "packed"
    with sessions() as session:
        assert session.get(Parcel, key).state == "packed"
    assert outbox_rows(engine) == []


@pytest.mark.parametrize(
    ("receiver", "problem"),
    [
        (lambda event, session: None, "is a lambda"),
        (Carrier().pick_up, "is a bound method"),
        (print, "is not a function"),
    ],
)
def test_receivers_a_worker_could_not_import_are_refused_when_connected(receiver, problem):
    with pytest.raises(DurableReceiverError, match=problem):
        Parcel.on_commit("ship", durable=True)(receiver)


def test_a_local_function_is_refused_when_connected():
    def local(event: t.Any, session: t.Any) -> None:
        pass

    with pytest.raises(DurableReceiverError, match="not defined at the top level"):
        Parcel.on_commit("ship", durable=True)(local)


def test_a_receiver_defined_in_the_script_being_run_is_refused_when_connected():
    script = (
        "from tests.outbox_models import Parcel\n"
        "def in_main(event, session): ...\n"
        "Parcel.on_commit('ship', durable=True)(in_main)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=child_environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "DurableReceiverError: durable receiver in_main is defined in the script being " in (
        done.stderr
    )


def test_a_model_that_is_not_persisted_cannot_have_durable_receivers():
    class Toggle(SignalingMachine):
        states = ["off", "on"]
        initial = "off"
        transitions = [["flip", "off", "on"]]

    with pytest.raises(DurableReceiverError, match="Toggle is not persisted"):
        Toggle.on_commit("flip", durable=True)(outbox_models.not_a_receiver)


def test_durable_on_transition_committed_filters_by_class(sessions, engine):
    transition_committed.connect_durable(Parcel)(count_shipment)
    key = new_parcel(sessions)
    with sessions() as session, session.begin():
        session.get(Parcel, key).ship()
        letter = Letter()
        session.add(letter)
        session.flush()
        letter.ship()
    with sessions() as session, session.begin():
        session.get(Parcel, key).deliver()
    assert [(row.trigger, row.aggregate_type) for row in outbox_rows(engine)] == [
        ("ship", "tests.outbox_models:Parcel"),
        ("deliver", "tests.outbox_models:Parcel"),
    ]


def test_the_receiver_gets_the_committed_event_and_a_session_to_load_the_model(sessions, engine):
    Parcel.on_commit("ship", durable=True)(notify_carrier)
    key = new_parcel(sessions)
    with sessions() as session, session.begin():
        session.get(Parcel, key).ship(carrier="DHL")
    OutboxRelay(engine, InProcessPublisher(FAST)).drain(timeout=30)
    with engine.connect() as connection:
        (effect,) = connection.execute(sa.select(effects)).all()
    assert json.loads(effect.aggregate) == {"state": "shipped", "carrier": "DHL"}
    assert effect.sequence == 2


def test_a_commit_wakes_the_relay_of_the_same_process(sessions, engine):
    Parcel.on_commit("ship", durable=True)(notify_carrier)
    key = new_parcel(sessions)
    relay = OutboxRelay(engine, InProcessPublisher(FAST), poll_interval=3600)
    thread = threading.Thread(target=relay.run)
    thread.start()
    try:
        with sessions() as session, session.begin():
            session.get(Parcel, key).ship()
        # An hour between polls: only the commit's wake-up can have published it.
        wait_for(lambda: relay.metrics.published == 1, "the woken relay to publish")
    finally:
        relay.stop()
        thread.join()
    ids = [row.event_id for row in outbox_rows(engine)]
    assert tally("wake on commit (SQLite, in-process)", ids, engine) == (1, 0, 0)

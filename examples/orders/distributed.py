"""The shop distributed: PostgreSQL, Celery workers on Redis, a relay, concurrent clients.

``python -m examples.orders.distributed [--orders N] [--clients K]`` (``make
demo-distributed``) starts every process itself and stops them at the end:

1. a fresh database of its own (``statesignals_demo``) with the shop's and the
   outbox's tables, and an empty Redis database of its own (number 11);
2. one Celery worker (``celery -A examples.orders.worker``) with several
   processes, which runs the durable receivers;
3. one relay (``statesignals relay --celery examples.orders.worker:app``), woken
   by PostgreSQL's ``NOTIFY`` when outbox rows commit;
4. K client processes (:mod:`.client`) that place N orders and race each other
   to move them along their plans, retrying conflicts (with ``--publish-after-commit``
   they publish their own events as each commit returns, and the relay publishes
   what they leave).

It waits until every outbox event has had its effect, then checks every effect
against the events (none lost, none doubled) and prints throughput and the
latency from a transition to its effects. PostgreSQL and Redis must be running;
if one is not, it says so in one line and exits with status 2.
"""

from __future__ import annotations

import argparse
import collections.abc as c
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import typing as t
import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from statesignals.databases import engine_for
from statesignals.outbox import inbox_table, outbox_table

from . import client, receivers, settings, shop
from .effects import DURABLE_EFFECTS, AuditEntry
from .models import Order
from .receivers import DURABLE_RECEIVERS

ROOT = Path(__file__).resolve().parents[2]


class Unreachable(Exception):
    """A server the demo needs does not answer (its one line is the message)."""


def check_reachable(service: str, url: sa.URL | str, default_port: int, how: str) -> None:
    parsed = sa.make_url(url) if service == "PostgreSQL" else None
    if parsed is not None:
        host, port = parsed.host or "127.0.0.1", parsed.port or default_port
    else:
        from urllib.parse import urlsplit

        parts = urlsplit(str(url))
        host, port = parts.hostname or "127.0.0.1", parts.port or default_port
    try:
        with socket.create_connection((host, port), timeout=2):
            return
    except OSError as error:
        raise Unreachable(
            f"demo-distributed needs {service} on {host}:{port} ({error.strerror or error}); "
            f"start it ({how}) or point {settings.DATABASE if parsed else settings.BROKER} at one"
        ) from None


def administer(url: str, *statements: str) -> None:
    """Run ``statements`` on the server of ``url``, outside any transaction."""
    target = sa.make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)
    finally:
        admin.dispose()


def fresh_database(url: str) -> None:
    """Drop and create the demo's database (it is the demo's own: nobody else uses it)."""
    name = sa.make_url(url).database
    administer(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    administer(url, f'DROP DATABASE IF EXISTS "{sa.make_url(url).database}" WITH (FORCE)')


def empty_broker(url: str) -> None:
    """Empty the demo's Redis database: no message of an earlier run is left to deliver."""
    import redis

    with contextlib.closing(redis.Redis.from_url(url)) as connection:
        connection.flushdb()


class Process:
    """A child process of the demo, its output in a log file."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], logs: Path) -> None:
        self.name = name
        self.log_path = logs / f"{name}.log"
        self._log = self.log_path.open("w")
        self.popen = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE if name.startswith("client") else self._log,
            stderr=self._log,
            text=True,
        )

    def check_alive(self) -> None:
        if self.popen.poll() is not None:
            self._log.flush()
            tail = self.log_path.read_text()[-2000:]
            raise RuntimeError(f"{self.name} exited with {self.popen.returncode}:\n{tail}")

    def stop(self, timeout: float = 20) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self._log.close()


def child_environment(database: str, broker: str, queue: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(
        {settings.DATABASE: database, settings.BROKER: broker, settings.QUEUE: queue}, **extra
    )
    return env


def wait_for(condition: c.Callable[[], bool], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


def counts(engine: sa.Engine) -> tuple[int, int]:
    """(outbox events, events whose receiver committed its effect)."""
    with engine.connect() as connection:
        events = connection.execute(sa.select(sa.func.count()).select_from(outbox_table))
        done = connection.execute(sa.select(sa.func.count()).select_from(inbox_table))
        return int(events.scalar_one()), int(done.scalar_one())


class Check(t.NamedTuple):
    receiver: str
    events: int
    effects: int
    lost: int
    doubled: int


def should_leave_rows(receiver: str, trigger: str, source: str, lines: int) -> int:
    """How many rows one event of ``receiver`` must leave (what the receivers promise)."""
    if receiver in ("mail_customer", "audit_transition"):
        return 1
    if receiver == "keep_stock":
        return lines if trigger != "cancel" or source == "paid" else 0
    return 1 if source == "paid" else 0  # refund_payment, alert_operations: paid cancellations


def check_effects(engine: sa.Engine) -> list[Check]:
    """For each durable receiver: its events, the rows they left, how many events left
    fewer rows than they should (lost) and how many more (doubled)."""
    prefix = "examples.orders.receivers:"
    with engine.connect() as connection:
        lines: dict[int, int] = {
            key: count
            for key, count in connection.execute(
                sa.select(Order.id, sa.func.count()).join(Order.lines).group_by(Order.id)
            )
        }
        rows: dict[str, int] = {}
        for table in DURABLE_EFFECTS.values():
            query = sa.select(table.event_id, sa.func.count()).group_by(table.event_id)
            for event_id, count in connection.execute(query):
                rows[event_id] = rows.get(event_id, 0) + count
        events = connection.execute(
            sa.select(
                outbox_table.c.event_id,
                outbox_table.c.receiver,
                outbox_table.c.trigger,
                outbox_table.c.source,
                outbox_table.c.aggregate_id,
            )
        ).all()
    checks = {name: Check(name, 0, 0, 0, 0) for name in DURABLE_RECEIVERS}
    for event in events:
        name = event.receiver.removeprefix(prefix)
        should = should_leave_rows(
            name, event.trigger, event.source, lines.get(json.loads(event.aggregate_id), 0)
        )
        found = rows.get(event.event_id, 0)
        check = checks[name]
        checks[name] = Check(
            name,
            check.events + 1,
            check.effects + found,
            check.lost + (found < should),
            check.doubled + (found > should),
        )
    return list(checks.values())


def latencies(engine: sa.Engine, batch: int) -> list[float]:
    """Seconds from each transition of ``batch``'s orders to each of its effects."""
    found: list[float] = []
    with engine.connect() as connection:
        for table in DURABLE_EFFECTS.values():
            query = (
                sa.select(table.occurred_at, table.recorded_at)
                .join(Order, Order.number == table.order_number)
                .where(Order.batch == batch)
            )
            found.extend(
                (done - occurred).total_seconds() for occurred, done in connection.execute(query)
            )
    return sorted(found)


PROBES = 20
"""Orders paid one at a time once the clients are done, to time an idle pipeline."""
PROBE_BATCH = 2


def probe(engine: sa.Engine, options: argparse.Namespace) -> None:
    """Pay :data:`PROBES` orders one after the other, each once the last one's audit entry
    is in: the latency of a transition that waits behind no other."""
    receivers.connect_receivers()
    sessions = sessionmaker(engine)
    with contextlib.ExitStack() as publishing:
        if options.publish_after_commit:
            publishing.enter_context(client.publishing_after_commit(options.broker, options.queue))
        _pay_one_at_a_time(engine, sessions)


def _pay_one_at_a_time(engine: sa.Engine, sessions: sessionmaker[t.Any]) -> None:
    for index in range(PROBES):
        number = f"P-{index:03d}"
        with sessions.begin() as session:
            order = shop.place_order(
                session, number, "probe@example.com", {"SKU00": 1}, batch=PROBE_BATCH
            )
            order.pay(order.total)

        def audited(number: str = number) -> bool:
            with engine.connect() as connection:
                query = sa.select(AuditEntry.id).where(AuditEntry.order_number == number)
                return connection.execute(query).first() is not None

        wait_for(audited, f"the audit entry of {number}", 60)


def percentile(values: c.Sequence[float], fraction: float) -> float:
    return values[min(len(values) - 1, round(fraction * (len(values) - 1)))]


def run(options: argparse.Namespace) -> int:
    database, broker, queue = options.database, options.broker, options.queue
    check_reachable("PostgreSQL", database, 5432, "pg_ctlcluster <version> main start")
    check_reachable("Redis", broker, 6379, "redis-server --daemonize yes")
    logs = Path(tempfile.mkdtemp(prefix="statesignals-demo-"))
    print(
        f"Database {sa.make_url(database).render_as_string()}, broker {broker}, "
        f"queue {queue}; logs in {logs}"
    )
    fresh_database(database)
    empty_broker(broker)
    engine = engine_for(database)
    shop.create_tables(engine)
    with sessionmaker(engine).begin() as session:
        shop.restock(session, client.CATALOGUE)

    ready = logs / "worker-ready"
    env = child_environment(database, broker, queue, **{settings.READY_FILE: str(ready)})
    processes: list[Process] = []
    try:
        worker = Process(
            "worker",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "examples.orders.worker",
                "worker",
                "-Q",
                queue,
                f"--concurrency={options.worker_processes}",
                "--pool=prefork",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=WARNING",
                f"--hostname=orders-{uuid.uuid4().hex[:6]}@%h",
            ],
            env,
            logs,
        )
        processes.append(worker)

        def worker_ready() -> bool:
            worker.check_alive()
            return ready.exists()

        wait_for(worker_ready, "the Celery worker", 60)
        print(
            f"Started a Celery worker (pid {worker.popen.pid}, "
            f"{options.worker_processes} processes)"
        )
        relay = Process(
            "relay",
            [
                sys.executable,
                "-m",
                "statesignals",
                "relay",
                "--database",
                database,
                "--celery",
                "examples.orders.worker:app",
                "--queue",
                queue,
                "--batch-size",
                "200",
                "--poll-interval",
                "0.5",
                "--log-level",
                "WARNING",
            ],
            env,
            logs,
        )
        processes.append(relay)
        print(f"Started the relay (pid {relay.popen.pid})")
        if options.publish_after_commit:
            print("The clients publish their own events after commit; the relay, what they leave")

        print(f"Placing {options.orders} orders from {options.clients} client processes ...")
        started = time.perf_counter()
        clients = [
            Process(
                f"client-{index}",
                [
                    sys.executable,
                    "-m",
                    "examples.orders.client",
                    "--index",
                    str(index),
                    "--clients",
                    str(options.clients),
                    "--orders",
                    str(options.orders),
                    *(["--publish-after-commit"] if options.publish_after_commit else []),
                ],
                env,
                logs,
            )
            for index in range(options.clients)
        ]
        processes.extend(clients)
        results = []
        for process in clients:
            output, _ = process.popen.communicate(timeout=options.timeout)
            if process.popen.returncode != 0:
                process.check_alive()
            results.append(json.loads(output.strip().splitlines()[-1]))
        clients_done = time.perf_counter()
        committed = sum(result["committed"] for result in results)
        conflicts = sum(result["conflicts"] for result in results)
        attempts = sum(result["attempts"] for result in results)
        print(
            f"Clients done: {committed} transitions committed in "
            f"{clients_done - started:.1f} s, {conflicts} conflicts retried "
            f"({attempts} attempts)"
        )

        last_shown = -1.0
        deadline = time.monotonic() + options.timeout

        def all_delivered() -> bool:
            nonlocal last_shown
            for process in (worker, relay):
                process.check_alive()
            events, done = counts(engine)
            if time.monotonic() - last_shown >= 1 or done == events:
                print(f"    effects committed for {done} of {events} events")
                last_shown = time.monotonic()
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {done} of {events} events had their effect")
            return done == events

        wait_for(all_delivered, "every effect", options.timeout)
        effects_done = time.perf_counter()
        events_of_clients = counts(engine)[0]
        print(f"Timing {PROBES} more orders paid one at a time, each after the last one's effects")
        probe(engine, options)
        wait_for(all_delivered, "the probes' effects", options.timeout)
    finally:
        for process in reversed(processes):
            process.stop()
    print("Stopped the relay, the worker and the clients\n")

    with sessionmaker(engine)() as session:
        per_state = shop.orders_by_state(session, batch=1)
    print("Orders per state: " + ", ".join(f"{s} {n}" for s, n in per_state.items()))
    expected = client.expected_transitions(options.orders)
    print(f"Transitions committed: {committed} (the plans need {expected})")

    print(f"\nDurable receivers ({PROBES} timing orders included)")
    print("                        events  effects  lost  doubled")
    checks = check_effects(engine)
    for check in checks:
        print(
            f"    {check.receiver:<20}{check.events:>7}{check.effects:>9}"
            f"{check.lost:>6}{check.doubled:>9}"
        )
    events, done = counts(engine)
    lost = sum(check.lost for check in checks)
    doubled = sum(check.doubled for check in checks)
    print(
        f"Every event had its effect once: {events} events in, {done} in the inbox, "
        f"{lost} lost, {doubled} doubled"
    )

    elapsed = clients_done - started
    print(
        f"\nThroughput: {committed / elapsed:.0f} transitions/s committed by "
        f"{options.clients} clients ({conflicts / max(1, attempts):.0%} of attempts "
        f"conflicted); {events_of_clients / (effects_done - started):.0f} durable events/s "
        "delivered"
    )
    for label, batch in (("under the clients' load", 1), ("one at a time", PROBE_BATCH)):
        delays = latencies(engine, batch)
        print(
            f"Transition to effect, {label}: p50 {percentile(delays, 0.5) * 1000:.0f} ms, "
            f"p95 {percentile(delays, 0.95) * 1000:.0f} ms, "
            f"p99 {percentile(delays, 0.99) * 1000:.0f} ms, "
            f"max {delays[-1] * 1000:.0f} ms ({len(delays)} effects)"
        )

    print("\nOutbox:")
    for line in shop.outbox_status(engine).lines():
        print(f"    {line}")
    engine.dispose()
    if options.drop:
        drop_database(database)
        empty_broker(broker)
    ok = lost == 0 and doubled == 0 and committed == expected and done == events
    return 0 if ok else 1


def main(argv: c.Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m examples.orders.distributed",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--orders", type=int, default=200, help="orders to place (%(default)s)")
    parser.add_argument("--clients", type=int, default=4, help="client processes (%(default)s)")
    parser.add_argument(
        "--worker-processes",
        type=int,
        default=4,
        help="processes of the Celery worker (%(default)s)",
    )
    parser.add_argument(
        "--database",
        default=settings.database_url(),
        help="PostgreSQL URL of a database the demo may drop (%(default)s)",
    )
    parser.add_argument(
        "--broker",
        default=settings.broker_url(),
        help="Redis URL of a database number the demo may empty (%(default)s)",
    )
    parser.add_argument("--queue", default=settings.queue(), help="Celery queue (%(default)s)")
    parser.add_argument(
        "--publish-after-commit",
        action="store_true",
        help="clients publish their own events as each commit returns; the relay publishes "
        "what they leave",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=300,
        help="seconds to wait for the clients, then for the effects",
    )
    parser.add_argument(
        "--drop",
        action="store_true",
        help="drop the database and empty the broker's database at the end",
    )
    options = parser.parse_args(argv)
    try:
        return run(options)
    except Unreachable as error:
        print(error, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

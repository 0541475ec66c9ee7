"""The outbox's commands: ``statesignals relay`` and ``statesignals outbox ...``.

::

    statesignals relay --database postgresql+psycopg://localhost/shop --celery shop.tasks:app
    statesignals relay --database sqlite:///shop.db --in-process
    statesignals outbox status --database sqlite:///shop.db
    statesignals outbox retry 0b5c...-... --database sqlite:///shop.db
    statesignals outbox retry --dead --database sqlite:///shop.db

Nothing here imports SQLAlchemy or Celery until a command runs, so the other
commands work without the ``celery`` extra.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import typing as t
import urllib.parse

from .errors import OutboxError

if t.TYPE_CHECKING:
    import sqlalchemy as sa

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _engine(url: str, *, existing: bool = True) -> sa.Engine:
    """An engine for ``url``; with ``existing``, an SQLite file must be there already
    (opening a mistyped path would create an empty database)."""
    import sqlalchemy as sa

    from .databases import engine_for

    try:
        parsed = sa.make_url(url)
        path = _sqlite_file(parsed) if existing else None
        if path is not None and not os.path.exists(path):
            raise OutboxError(
                f"database {url!r}: no such file {path!r}; create the tables with: "
                "statesignals outbox create --database URL"
            )
        return engine_for(url)
    except OutboxError:
        raise
    except Exception as error:  # a malformed URL or a driver that is not installed
        raise OutboxError(f"cannot open database {url!r}: {error}") from error


def _sqlite_file(url: sa.URL) -> str | None:
    """The file an SQLite URL opens (``file:`` URIs too), None for a database in memory."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    path = url.database
    if path.startswith("file:"):
        options = dict(urllib.parse.parse_qsl(path.partition("?")[2]))
        options.update({key: str(value) for key, value in url.query.items()})
        if options.get("mode") == "memory":
            return None
        path = urllib.parse.unquote(path[len("file:") :].partition("?")[0])
        if path.startswith("//"):  # file://host/path: the host is empty or localhost
            path = "/" + path[2:].partition("/")[2]
        if path in ("", ":memory:"):
            return None
    return path


def _require_tables(engine: sa.Engine, url: str) -> None:
    import sqlalchemy as sa

    from .outbox import inbox_table, outbox_table

    with _database_errors(url), engine.connect() as connection:
        inspector = sa.inspect(connection)
        missing = [
            table.name
            for table in (outbox_table, inbox_table)
            if not inspector.has_table(table.name)
        ]
    if missing:
        raise OutboxError(
            f"database {url!r} has no {' and no '.join(missing)} table; create the tables "
            "with: statesignals outbox create --database URL"
        )


def _database_errors(url: str) -> t.Any:
    """Turn the database's errors into one-line OutboxErrors naming the database."""
    import contextlib

    import sqlalchemy as sa

    @contextlib.contextmanager
    def translate() -> t.Iterator[None]:
        try:
            yield
        except sa.exc.DBAPIError as error:
            text = str(error.orig).strip().splitlines()[0]
            hint = ""
            if "statesignals_outbox" in text or "statesignals_inbox" in text:
                hint = "; create the tables with: statesignals outbox create --database URL"
            raise OutboxError(f"database {url!r}: {text}{hint}") from error

    return translate()


def run_relay(options: argparse.Namespace, out: t.TextIO) -> int:
    from .outbox import InProcessPublisher, OutboxRelay, RetryPolicy
    from .outbox.publishers import Publisher

    logging.basicConfig(level=options.log_level, format=LOG_FORMAT, stream=sys.stderr)
    policy = RetryPolicy(max_attempts=options.max_attempts)
    # Like ``python -m``, find the app's and the receivers' modules here.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    publisher: Publisher
    if options.celery:
        from .celery import CeleryPublisher
        from .outbox.events import import_reference

        module, _, name = options.celery.partition(":")
        if not module or not name:
            raise OutboxError(f"--celery takes MODULE:APP (shop.tasks:app), not {options.celery!r}")
        publisher = CeleryPublisher(import_reference(options.celery), queue=options.queue)
    else:
        publisher = InProcessPublisher(policy)
    engine = _engine(options.database)
    _require_tables(engine, options.database)
    relay = OutboxRelay(
        engine,
        publisher,
        batch_size=options.batch_size,
        lease=options.lease,
        poll_interval=options.poll_interval,
        policy=policy,
        republish_after=options.republish_after,
    )
    with _database_errors(options.database):
        if options.drain:
            relay.drain()
        else:
            relay.run()
    out.write(f"{relay.metrics.snapshot()}\n")
    return 0


def run_status(options: argparse.Namespace, out: t.TextIO) -> int:
    from .outbox.store import dead_events, status

    engine = _engine(options.database)
    with _database_errors(options.database), engine.connect() as connection:
        counts = status(connection)
        dead = dead_events(connection, limit=5) if counts.dead else []
    for line in counts.lines():
        out.write(f"{line}\n")
    for row in dead:
        error = (row.last_error or "").strip().splitlines()
        last = error[-1] if error else "?"
        out.write(f"dead {row.event_id} {row.receiver} after {row.attempts} attempts: {last}\n")
    return 0


def run_retry(options: argparse.Namespace, out: t.TextIO) -> int:
    from .outbox.store import retry, retry_dead

    if bool(options.event_id) == bool(options.dead):
        raise OutboxError("give either an EVENT_ID or --dead")
    engine = _engine(options.database)
    with _database_errors(options.database), engine.begin() as connection:
        if options.dead:
            count = retry_dead(connection)
            out.write(f"{count} dead events due again\n")
        else:
            retry(connection, options.event_id)
            out.write(f"{options.event_id} due again\n")
    return 0


def run_purge(options: argparse.Namespace, out: t.TextIO) -> int:
    import datetime as dt

    from .outbox.store import purge

    if not options.older_than > 0:
        raise OutboxError(
            f"--older-than must be a positive number of days, not {options.older_than}"
        )
    engine = _engine(options.database)
    with _database_errors(options.database):
        purged = purge(engine, dt.timedelta(days=options.older_than), dead=options.dead)
    out.write(
        f"deleted {purged.outbox} outbox rows and {purged.inbox} inbox rows "
        f"older than {options.older_than:g} days\n"
    )
    return 0


def run_create(options: argparse.Namespace, out: t.TextIO) -> int:
    from .outbox import create_tables

    engine = _engine(options.database, existing=False)
    with _database_errors(options.database):
        create_tables(engine)
    out.write("outbox and inbox tables ready\n")
    return 0


def _at_least_one(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def _seconds(text: str) -> float:
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return value


def _database_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database", required=True, metavar="URL", help="SQLAlchemy URL of the outbox's database"
    )


def add_commands(commands: t.Any) -> None:
    """Add ``relay`` and ``outbox`` to the ``statesignals`` command's subcommands."""
    relay = commands.add_parser(
        "relay",
        help="publish committed outbox events to Celery (or run them in-process)",
        description=(
            "Publish the outbox's committed events until SIGTERM or SIGINT (or, with "
            "--drain, until none is left). Several relays may run at once."
        ),
    )
    _database_option(relay)
    target = relay.add_mutually_exclusive_group(required=True)
    target.add_argument(
        "--celery", metavar="MODULE:APP", help="the Celery app to send the tasks with"
    )
    target.add_argument(
        "--in-process", action="store_true", help="run the durable receivers in the relay"
    )
    relay.add_argument("--queue", help="the Celery queue to send to (default: the app's route)")
    relay.add_argument("--batch-size", type=_at_least_one, default=100, help="rows per claim (100)")
    relay.add_argument("--lease", type=_seconds, default=30.0, help="seconds a claim lasts (30)")
    relay.add_argument(
        "--poll-interval", type=_seconds, default=1.0, help="seconds between polls when idle (1)"
    )
    relay.add_argument(
        "--max-attempts",
        type=_at_least_one,
        default=10,
        help="failures before the dead letter (10)",
    )
    relay.add_argument(
        "--republish-after",
        type=_seconds,
        default=900.0,
        help="seconds after which a published event without effect is published again (900)",
    )
    relay.add_argument("--drain", action="store_true", help="stop once nothing is left")
    relay.add_argument("--log-level", default="INFO", help="INFO (default), DEBUG, WARNING ...")
    relay.set_defaults(run=run_relay)

    outbox = commands.add_parser(
        "outbox", help="inspect and repair the outbox", description="Inspect and repair the outbox."
    )
    actions = outbox.add_subparsers(dest="action", required=True, metavar="ACTION")
    show = actions.add_parser(
        "status",
        help="count pending, claimed, failed, dead and published events",
        description="Count the outbox's events by state; show the last dead ones' errors.",
    )
    _database_option(show)
    show.set_defaults(run=run_status)
    again = actions.add_parser(
        "retry",
        help="make a dead or failed event (or every dead one) due again",
        description=(
            "Reset an event's attempts and make it due now: a dead or failed one, or a "
            "published one whose receiver never had its effect (its message was lost)."
        ),
    )
    again.add_argument("event_id", nargs="?", metavar="EVENT_ID")
    again.add_argument("--dead", action="store_true", help="every dead-lettered event")
    _database_option(again)
    again.set_defaults(run=run_retry)
    clean = actions.add_parser(
        "purge",
        help="delete events done with long ago, and their inbox rows",
        description=(
            "Delete the events published and recorded in the inbox before the cut-off, "
            "with their inbox rows. Events to publish, in flight or failed stay; dead "
            "ones stay unless --dead is given. Keep the age above the longest time your "
            "broker may redeliver a message (inbox rows are what make a redelivery a no-op)."
        ),
    )
    clean.add_argument(
        "--older-than",
        type=float,
        required=True,
        metavar="DAYS",
        help="how old, in days, an event must be to go (fractions allowed: 0.5)",
    )
    clean.add_argument(
        "--dead", action="store_true", help="also delete events dead-lettered before the cut-off"
    )
    _database_option(clean)
    clean.set_defaults(run=run_purge)
    create = actions.add_parser(
        "create",
        help="create the outbox and inbox tables",
        description="Create the outbox and inbox tables that do not exist yet.",
    )
    _database_option(create)
    create.set_defaults(run=run_create)


__all__ = ["add_commands"]

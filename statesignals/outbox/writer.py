"""Writing a durable receiver's outbox row in the flush that writes the state change.

Three hooks, installed when the first durable receiver of a class is connected:

* a ``prepare`` callback on the class's transitions for the trigger, which
  encodes the trigger's arguments as JSON before anything happens, so a value
  JSON cannot hold fails the trigger with an
  :class:`~statesignals.OutboxPayloadError` while the model is unchanged;
* a receiver of ``transition_flushed`` (the persistence layer's in-flush hook),
  which inserts one outbox row per matching durable receiver on the flush's
  connection: it commits with the state change, or rolls back with it;
* after the outermost transaction ends, a wake-up for relays in this process.

While publishing after commit is on (:mod:`statesignals.outbox.after_commit`), the
rows are written claimed by this process, which publishes them once they committed.
"""

from __future__ import annotations

import collections.abc as c
import functools
import threading
import typing as t

import sqlalchemy as sa
from sqlalchemy.orm import Session, SessionTransaction
from transitions.core import EventData

from ..committed import PERSISTED, TransitionRecord
from ..compiled import CompiledTransition, on_every_transition
from ..errors import DurableReceiverError
from ..signals import transition_flushed
from . import after_commit
from .durable import durable_routes, encode_payload, outbox_rows
from .tables import outbox_table
from .wakeup import announce, engine_key

_WROTE = "statesignals.outbox.wrote"
"""In ``session.info``: the database an outbox row was written to in this transaction."""

_INSERT = outbox_table.insert()
_lock = threading.Lock()
_checked: set[tuple[int, str]] = set()
"""(id of a compiled machine, trigger) pairs whose transitions carry the payload check."""


class PayloadCheck:
    """A ``prepare`` callback: the trigger's arguments must encode as JSON.

    Checks only while some durable receiver listens for the trigger (connections
    can change after the callback is in place).
    """

    def __init__(self, model_class: type, trigger: str, send_event: bool) -> None:
        self.model_class = model_class
        self.trigger = trigger
        self.send_event = send_event

    def __call__(self, *args: t.Any, **kwargs: t.Any) -> None:
        if self.send_event and args and isinstance(args[0], EventData):
            event_data = args[0]
            args, kwargs = tuple(event_data.args), dict(event_data.kwargs)
            model_class: type = type(event_data.model)
        else:
            model_class = self.model_class
        if durable_routes(model_class, self.trigger):
            encode_payload(model_class, self.trigger, args, kwargs)


def _subclasses(cls: type) -> c.Iterator[type]:
    yield cls
    subclasses: list[type] = type.__subclasses__(cls)
    for subclass in subclasses:
        yield from _subclasses(subclass)


def _check_first(check: PayloadCheck, found: CompiledTransition) -> None:
    found.transition.prepare.insert(0, check)


def _check_payloads(model_class: type, trigger: str | None) -> None:
    """Put the payload check on the transitions of ``trigger`` (every trigger when None)
    of ``model_class`` and the subclasses it has so far."""
    for klass in _subclasses(model_class):
        machine = klass.__dict__.get("machine")
        if machine is None:
            continue
        triggers = [trigger] if trigger is not None else list(machine.events)
        for name in triggers:
            if (id(machine), name) in _checked:
                continue
            check = PayloadCheck(klass, name, bool(machine.send_event))
            # Also on the to_<state> transitions a declared class makes later.
            on_every_transition(machine, functools.partial(_check_first, check), name)
            _checked.add((id(machine), name))


def watch(model_class: type, trigger: str | None) -> None:
    """Make committed transitions of ``model_class`` write the outbox rows of its
    durable receivers (called when one is connected)."""
    if not getattr(model_class, PERSISTED, False):
        raise DurableReceiverError(
            f"{model_class.__qualname__} is not persisted: a durable receiver's events are "
            "written in the database transaction of the state change; make it a "
            "statesignals.sqlalchemy.PersistedWorkflow (or use a plain on_commit receiver)"
        )
    with _lock:
        _check_payloads(model_class, trigger)
        transition_flushed.connect(write_outbox_rows, weak=False)


def write_outbox_rows(
    model: object,
    /,
    *,
    transition: TransitionRecord,
    session: Session,
    connection: sa.Connection,
    committed: bool = False,
    **_: t.Any,
) -> None:
    """Receiver of ``transition_flushed``: insert the transition's outbox rows."""
    routes = durable_routes(transition.model_class, transition.trigger)
    if not routes:
        return
    primary_key = transition.primary_key or ()
    rows = outbox_rows(
        routes,
        model_class=transition.model_class,
        primary_key=primary_key[0] if len(primary_key) == 1 else list(primary_key),
        sequence=transition.version or 0,
        trigger=transition.trigger,
        source=transition.source,
        dest=transition.dest,
        transition_id=transition.event_id,
        occurred_at=transition.occurred_at,
        payload=encode_payload(
            transition.model_class, transition.trigger, transition.args, transition.kwargs
        ),
    )
    publishing = after_commit.active()
    claimed = None
    if (
        publishing is not None
        # Already sent as committed (the model moved before it was in a session): no
        # commit is left to publish after.
        and not committed
        # A session joined to a transaction of the application's own commits nothing:
        # the rows are committed (or not) later, out of sight.
        and not isinstance(session.get_bind(mapper=transition.model_class), sa.Connection)
    ):
        claimed = publishing.write(model, transition, connection, rows)
    if claimed is None:
        # One row (the common case) goes as one statement, not as an executemany.
        connection.execute(_INSERT, rows[0] if len(rows) == 1 else rows)
    if claimed != len(rows):
        session.info[_WROTE] = engine_key(connection.engine)


@sa.event.listens_for(Session, "after_transaction_end")
def _wake_relays(session: Session, transaction: SessionTransaction) -> None:
    # A rolled-back transaction wakes relays for nothing: they find no row, which is
    # cheaper than telling the two ends apart here.
    if transaction.parent is None and _WROTE in session.info:
        announce(session.info.pop(_WROTE))


__all__ = ["PayloadCheck", "watch", "write_outbox_rows"]

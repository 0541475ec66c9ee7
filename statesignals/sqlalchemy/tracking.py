"""Where a persisted transition is between its trigger and its commit.

A transition of a persisted workflow goes through three places:

1. **unflushed**, on the model, from the moment the transition completes until the
   flush that writes the new state and version (the trigger flushes when it returns);
2. **flushed**, on the innermost database transaction open during that flush: the
   root transaction, or the savepoint (``session.begin_nested()``) the flush wrote in.
   A savepoint that is released hands its transitions to the transaction around it;
   one that is rolled back drops them;
3. **committed**, when the outermost transaction that holds it commits:
   ``transition_committed`` is sent for each, in the order they were flushed.

SQLAlchemy's ``after_commit`` event fires on every savepoint release as well as on the
real commit, so it is not the moment to send: here it only marks the transaction that
is ending as committed, and ``after_transaction_end`` decides whether the transitions
move outwards, are sent, or are dropped. A transaction that ends in any other way
(rollback, an exception inside ``session.begin()``, ``close()`` without commit) sends
nothing.

In the flush itself, right after SQLAlchemy executed the INSERT/UPDATE statements and
before the transaction goes on, :func:`after_flush` writes the history rows and sends
``transition_flushed`` (the in-transaction hook; its contract is in that docstring).
"""

from __future__ import annotations

import typing as t
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import event, select
from sqlalchemy import exc as sa_exc
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import async_object_session
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.util import concurrency

from statesignals import (
    DatabaseLockedError,
    ReceiverError,
    StaleTransitionError,
    TransitionRecord,
    transition_committed,
    transition_flushed,
)
from statesignals.committed import AsyncWrapper
from statesignals.routes import routed
from statesignals.scope import log_receiver_errors

from . import history

UNFLUSHED = "_statesignals_unflushed"
"""On a model: its transitions not flushed yet, each with whether it was already sent
as committed (an instance outside any session commits when its trigger returns)."""
_CREATED = "_statesignals_created"
"""On a model: when it was constructed, while its creation is not written to history."""
_TO_WRITE = "statesignals.to_write"
"""In ``session.info``: the models with something for the next flush, by id."""
_FLUSHED = "statesignals.flushed"
"""In ``session.info``: per open transaction, the transitions it wrote so far."""
_COMMITTING = "statesignals.committing"
"""In ``session.info``: the transactions whose ``after_commit`` fired (a real commit
or a savepoint release) and that have not ended yet."""


def mark_created(model: t.Any) -> None:
    """Note that ``model`` was constructed (not loaded): its creation is history."""
    model.__dict__[_CREATED] = datetime.now(UTC)


def keep_unflushed(session: Session | None, model: t.Any, record: TransitionRecord) -> None:
    """Keep ``record`` on ``model`` until the flush that writes it.

    Without a ``session`` the model is outside any transaction: the record was already
    sent as committed, and is kept only for the model's first flush (history, hook).
    """
    model.__dict__.setdefault(UNFLUSHED, []).append((record, session is None))
    if session is not None:
        _to_write(session)[id(model)] = model


def _to_write(session: Session) -> dict[int, t.Any]:
    found: dict[int, t.Any] | None = session.info.get(_TO_WRITE)
    if found is None:
        found = session.info[_TO_WRITE] = {}
    return found


def _has_unflushed(model: t.Any) -> bool:
    return any(not committed for _, committed in model.__dict__.get(UNFLUSHED, ()))


# The trigger's flush, and the errors a conflict raises.


def flush(model: t.Any, trigger: str) -> None:
    """Flush ``model``'s session if the trigger left transitions to write."""
    if not model.__dict__.get(UNFLUSHED):
        return
    session = instance_state(model).session
    if session is None:
        return
    try:
        session.flush()
    except (StaleDataError, DatabaseLockedError) as error:
        _raise_conflict(model, trigger, error, read_version(session, model))
    except BaseException:
        _drop_unflushed(model)
        raise


async def flush_async(model: t.Any, trigger: str) -> None:
    """:func:`flush` for a model held by an ``AsyncSession``."""
    session = async_object_session(model)
    if session is None or not model.__dict__.get(UNFLUSHED):
        return
    try:
        await session.flush()
    except (StaleDataError, DatabaseLockedError) as error:
        found = await session.run_sync(lambda sync_session: read_version(sync_session, model))
        _raise_conflict(model, trigger, error, found)
    except BaseException:
        _drop_unflushed(model)
        raise


def _raise_conflict(model: t.Any, trigger: str, error: Exception, found: int | None) -> t.NoReturn:
    """Raise the error for a trigger's flush that a concurrent writer made fail: stale, or
    still locked. ``found`` is the row's version in the database now."""
    records = _drop_unflushed(model)
    expected = records[0].version - 1 if records and records[0].version is not None else None
    # SQLite refuses the write of a transaction that read the row before another
    # transaction changed it ("database is locked"): a stale row, said as such.
    if isinstance(error, StaleDataError) or found != expected:
        raise stale_error(model, trigger, records, found) from error
    error.add_note(f"while {_describe(model)} wrote {trigger!r}")
    raise error


def _drop_unflushed(model: t.Any) -> list[TransitionRecord]:
    return [record for record, _ in model.__dict__.pop(UNFLUSHED, ())]


def _describe(model: t.Any) -> str:
    state = sa_inspect(model)
    key = state.identity or state.mapper.primary_key_from_instance(model)
    return f"{type(model).__qualname__} {','.join(str(value) for value in key)}"


def read_version(session: Session, model: t.Any) -> int | None:
    """The version of ``model``'s row in the database now, read on a connection of its own
    (the session's transaction failed); None if the row is gone."""
    state = sa_inspect(model)
    mapper = state.mapper
    key = state.identity or mapper.primary_key_from_instance(model)
    bind = session.get_bind(mapper=mapper)
    engine = bind.engine if isinstance(bind, Connection) else bind
    assert isinstance(engine, Engine)
    columns = mapper.primary_key
    query = select(mapper.columns["version"]).where(
        *(column == value for column, value in zip(columns, key, strict=True))
    )
    with engine.connect() as connection:
        found = connection.execute(query).scalar_one_or_none()
    return None if found is None else int(found)


def stale_error(
    model: t.Any, trigger: str, records: list[TransitionRecord], found: int | None
) -> StaleTransitionError:
    """The error for a trigger whose row changed since it was loaded."""
    state = sa_inspect(model)
    key = tuple(state.identity or state.mapper.primary_key_from_instance(model))
    expected = records[0].version - 1 if records and records[0].version else None
    name = type(model).__qualname__
    shown = ",".join(str(value) for value in key)
    if found is None:
        what = "the row was deleted by another transaction"
    else:
        what = f"another transaction changed it to version {found}"
    loaded = "" if expected is None else f"loaded at version {expected}, "
    message = (
        f"{name} {shown}: {trigger!r} was not written: {loaded}"
        f"{what}. Nothing of it is in the database; roll the session back and rerun the "
        "unit of work with fresh rows (retry_on_conflict does)"
    )
    return StaleTransitionError(
        message,
        model_class=type(model),
        primary_key=key,
        trigger=trigger,
        expected_version=expected,
        found_version=found,
    )


# Session events, for every Session (AsyncSession runs one underneath).


def _target_transaction(session: Session) -> SessionTransaction:
    """The transaction a flush writes in now: the innermost savepoint, else the root."""
    transaction = session.get_nested_transaction() or session.get_transaction()
    assert transaction is not None
    return transaction


@event.listens_for(Session, "transient_to_pending")
def _added(session: Session, model: t.Any) -> None:
    instance = model.__dict__
    if instance.get(_CREATED) or instance.get(UNFLUSHED):
        _to_write(session)[id(model)] = model


def after_flush(session: Session, flush_context: t.Any) -> None:
    """Write what the flushed models' transitions need, inside the flush that writes them.

    Runs as SQLAlchemy's ``after_flush`` event: the INSERT and UPDATE statements of the
    flush have been executed on the transaction's connection, nothing is committed.
    For the models flushed, it writes their history rows (:mod:`.history`), then sends
    ``transition_flushed`` once per transition, in the order the transitions happened.

    **The hook's contract** (``transition_flushed``, for writing more rows atomically
    with the state change, as a transactional outbox does):

    - sender: the model instance; keywords ``transition`` (the
      :class:`~statesignals.TransitionRecord`, with ``primary_key`` and ``version``
      set), ``session`` (the :class:`~sqlalchemy.orm.Session`; for an ``AsyncSession``
      its ``sync_session``) and ``connection`` (the :class:`~sqlalchemy.engine.Connection`
      of this transaction; ``connection.execute(...)`` writes in it, also under
      ``AsyncSession``, where the hook runs inside SQLAlchemy's greenlet), and
      ``committed``, whether ``transition_committed`` was already sent for it;
    - it runs for every transition this flush writes, including those of a model that
      was transient when it moved (``committed=True``: their ``transition_committed``
      was sent when the trigger returned), and never for a transition whose flush fails
      before its statements ran;
    - receivers must not flush, commit, roll back or add ORM objects to ``session``:
      write with Core statements on ``connection``;
    - a receiver that raises fails the flush (every receiver runs first; the errors come
      as one :class:`~statesignals.ReceiverError`): the session must be rolled back and
      nothing of the transaction is committed;
    - the transition may still be undone (rollback, a rolled-back savepoint): what must
      happen only once it is committed belongs in ``transition_committed``.
    """
    waiting = session.info.get(_TO_WRITE)
    if not waiting:
        return
    models = list(waiting.values())
    waiting.clear()
    flushed: list[tuple[TransitionRecord, bool]] = []
    rows: list[tuple[t.Any, dict[str, t.Any]]] = []
    for model in models:
        instance = model.__dict__
        created = instance.pop(_CREATED, None)
        pending = instance.pop(UNFLUSHED, ())
        state = instance_state(model)
        if state.session is not session or flush_context.is_deleted(state):
            continue  # expunged, or deleted in this very flush: nothing to record
        key = tuple(state.mapper.primary_key_from_instance(model))
        table = getattr(type(model), "history_table", None)
        if table is not None and created is not None:
            rows.append((table, history.creation_row(model, key, pending, created)))
        for record, committed in pending:
            final = replace(record, primary_key=key)
            flushed.append((final, committed))
            if table is not None:
                rows.append((table, history.transition_row(final)))
    if not flushed and not rows:
        return
    # Per model in order; across the models of one flush, in the order they happened.
    flushed.sort(key=lambda entry: entry[0].occurred_at)
    connection = session.connection()
    history.write(connection, rows)
    if transition_flushed.receivers:
        for record, committed in flushed:
            transition_flushed.send(
                record.instance,
                transition=record,
                session=session,
                connection=connection,
                committed=committed,
            )
    uncommitted = [record for record, committed in flushed if not committed]
    if uncommitted:
        _flushed_in(session).setdefault(_target_transaction(session), []).extend(uncommitted)


event.listen(Session, "after_flush", after_flush)


def _flushed_in(session: Session) -> dict[SessionTransaction, list[TransitionRecord]]:
    found: dict[SessionTransaction, list[TransitionRecord]] | None = session.info.get(_FLUSHED)
    if found is None:
        found = session.info[_FLUSHED] = {}
    return found


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    # Also fired when a savepoint is released: only note which transaction it was.
    flushed = session.info.get(_FLUSHED)
    if flushed:
        transaction = _target_transaction(session)
        if transaction in flushed:
            session.info.setdefault(_COMMITTING, set()).add(transaction)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    flushed = session.info.get(_FLUSHED)
    if not flushed:
        return
    records = flushed.pop(transaction, None)
    if records is None:
        return
    committing: set[SessionTransaction] = session.info.get(_COMMITTING, set())
    committed = transaction in committing
    committing.discard(transaction)
    if not committed:
        return  # rolled back: its transitions never happened
    outer = transaction.parent
    while outer is not None and not (outer.nested or outer.parent is None):
        outer = outer.parent
    if outer is not None:
        # A released savepoint: its transitions wait for the transaction around it.
        flushed.setdefault(outer, []).extend(records)
        return
    send_committed(records)


def _greenlet_wrapper() -> AsyncWrapper | None:
    """Under AsyncSession the events run in SQLAlchemy's greenlet: coroutine receivers
    are awaited through it."""
    if not concurrency.in_greenlet():
        return None
    await_ = getattr(concurrency, "await_", None) or concurrency.await_only

    def wrap(receiver: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
        def call(*args: t.Any, **kwargs: t.Any) -> t.Any:
            return await_(receiver(*args, **kwargs))

        return call

    return wrap


def send_committed(records: list[TransitionRecord]) -> None:
    """Send ``transition_committed`` for each of ``records``, in order.

    Every receiver runs; then the errors of classes whose ``receiver_errors`` is
    ``"raise"`` are raised as one ReceiverError, the others logged. The commit stands.
    """
    routed_receivers = transition_committed.name in routed
    wrapper = _greenlet_wrapper() if transition_committed.receivers or routed_receivers else None
    raising: list[Exception] = []
    logging: list[Exception] = []
    for record in records:
        errors = transition_committed.send_record(record, wrapper)
        if errors:
            policy = getattr(record.model_class, "receiver_errors", "raise")
            (logging if policy == "log" else raising).extend(errors)
    if logging:
        log_receiver_errors(logging)
    if raising:
        count = (
            "1 committed receiver" if len(raising) == 1 else f"{len(raising)} committed receivers"
        )
        raise ReceiverError(f"{count} raised after the commit (which stands)", raising)


def is_conflict(error: BaseException) -> bool:
    """Whether ``error`` means a concurrent writer won: rerunning the work may succeed."""
    if isinstance(error, (StaleTransitionError, DatabaseLockedError, StaleDataError)):
        return True
    if isinstance(error, sa_exc.DBAPIError):
        code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
        # serialization_failure, deadlock_detected
        return code in {"40001", "40P01"}
    return False


__all__ = [
    "after_flush",
    "flush",
    "flush_async",
    "is_conflict",
    "keep_unflushed",
    "mark_created",
    "read_version",
    "send_committed",
    "stale_error",
]

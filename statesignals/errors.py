"""The exceptions statesignals raises, under one base class.

Every message names what to fix: the model class, the state, the trigger or
the definition entry involved.
"""

from __future__ import annotations

import collections.abc as c


class StateSignalsError(Exception):
    """Base class of every error statesignals raises itself."""


class WorkflowDefinitionError(StateSignalsError, ValueError):
    """A workflow declared on a :class:`~statesignals.SignalingMachine` subclass is wrong.

    Raised when the class is created, naming the class and the bad entry.
    ``location`` is where the mistake sits in the declaration, as keys and
    indexes (``("transitions", 3, "dest")``), and ``problem`` says what is wrong
    there (``"'shiped' is not a state"``), when the check knows them.
    ``mistakes`` holds every mistake of the same kind found at once (each guard
    or callback name the class does not define), this error alone otherwise.
    """

    def __init__(
        self,
        message: str,
        *,
        location: c.Sequence[str | int] = (),
        problem: str | None = None,
        mistakes: c.Sequence[WorkflowDefinitionError] = (),
    ) -> None:
        super().__init__(message)
        self.location = tuple(location)
        self.problem = problem if problem is not None else message
        self.mistakes: tuple[WorkflowDefinitionError, ...] = tuple(mistakes) or (self,)


class WorkflowFileError(WorkflowDefinitionError):
    """A workflow file (or dict) cannot be loaded: it names the file and the path inside it,
    as in ``order.yaml: transitions[3].dest: 'shiped' is not a state``."""


class DiagramError(StateSignalsError):
    """A diagram cannot be drawn or rendered, saying what to install or fix."""


class WorkflowLookupError(StateSignalsError, LookupError):
    """A receiver was connected to a trigger or state that the workflow does not have."""


class AsyncReceiverError(StateSignalsError, TypeError):
    """A coroutine function is connected to a signal that a synchronous machine sends.

    A synchronous machine cannot await the coroutine, and dropping it silently
    would lose the receiver's work: connect a plain function, or use an
    asynchronous machine.
    """


class GuardCallError(StateSignalsError, TypeError):
    """A guard could not be called with what ``transitions`` passes it.

    A guard given by name is a method of the model; a callable guard is called
    with the trigger's arguments (``gate.lift(5)`` calls ``guard(5)``), or with
    the ``EventData`` alone when ``send_event`` is set, never with the model.
    The message names the model class, the trigger, the transition and the guard;
    the ``TypeError`` of the call is the ``__cause__``.
    """


class StateAttributeError(StateSignalsError, AttributeError):
    """The model's state attribute was deleted while a trigger ran (by a receiver or a
    callback), so the model would silently read a default state it is not in.

    Raised when the trigger returns; the attribute is set back to the state the
    transition reached.
    """


class ReceiverCancelledError(StateSignalsError):
    """A receiver raised ``asyncio.CancelledError`` although its task was not cancelled.

    It awaited a task or future that was cancelled elsewhere; the trigger's own
    task goes on, so this is one more receiver error (the ``CancelledError`` is
    its ``__cause__``), raised with the others once the trigger finished.
    """


class PersistenceError(StateSignalsError):
    """A persisted workflow (:mod:`statesignals.sqlalchemy`) cannot be loaded or written.

    Messages name the model class, the table and the row's primary key.
    """


class StaleTransitionError(PersistenceError):
    """A trigger's row was changed (or deleted) by someone else since it was loaded.

    Raised when the trigger returns, from the flush that writes the change; the
    SQLAlchemy error is chained. Nothing of the trigger was written: roll the session
    back and rerun the unit of work with fresh rows
    (:func:`~statesignals.sqlalchemy.retry_on_conflict` does).
    ``expected_version`` is the version the row had when loaded; ``found_version`` the
    one in the database now (None when the row is gone).
    """

    def __init__(
        self,
        message: str,
        *,
        model_class: type | None = None,
        primary_key: tuple[object, ...] | None = None,
        trigger: str | None = None,
        expected_version: int | None = None,
        found_version: int | None = None,
    ) -> None:
        super().__init__(message)
        self.model_class = model_class
        self.primary_key = primary_key
        self.trigger = trigger
        self.expected_version = expected_version
        self.found_version = found_version


class DatabaseLockedError(PersistenceError):
    """SQLite gave up waiting for another connection's write lock ("database is locked").

    Like a :class:`StaleTransitionError`, it means a concurrent writer won: roll back and
    rerun the unit of work (:func:`~statesignals.sqlalchemy.retry_on_conflict` does).
    """


class UnknownStoredStateError(PersistenceError, LookupError):
    """A row holds a state that its workflow does not have (renamed or removed states)."""


class ProtectedStateError(PersistenceError, AttributeError):
    """A protected state column was assigned directly instead of through a trigger."""


class DetachedWorkflowError(PersistenceError):
    """A trigger was fired on a persisted model that no session holds any more.

    Its row may have changed since it was loaded, and its change could not be written:
    load it again in a session (or ``session.add()`` it back) and fire the trigger there.
    """


class MissingVersionColumnError(PersistenceError):
    """The table of a persisted workflow has no version column (an existing table that was
    not migrated): add it, as ``docs/persistence.md`` shows for Alembic."""


class ReceiverError(ExceptionGroup[Exception], StateSignalsError):
    """One or more receivers raised while a trigger was processed.

    Every receiver of every signal still ran and the model is in the state the
    transition left it in; the exceptions are gathered here and raised once the
    trigger has finished. ``except* SomeError`` picks out single errors.
    """

    def __new__(cls, message: str, exceptions: c.Sequence[Exception]) -> ReceiverError:
        return super().__new__(cls, message, exceptions)

    def derive(self, excs: c.Sequence[Exception]) -> ReceiverError:  # type: ignore[override]
        return ReceiverError(self.message, excs)


class DurableReceiverError(StateSignalsError, TypeError):
    """A durable receiver cannot be imported by name where it must run.

    Workers import a durable receiver from its module by its qualified name, so
    it must be a function defined at the top level of a module: not a lambda, a
    function local to another, or a bound method. Raised when it is connected.
    """


class OutboxPayloadError(StateSignalsError, TypeError):
    """A transition bound for a durable receiver carries a payload JSON cannot encode.

    Raised when the trigger is called, before the state changes or anything is
    written, naming the model class, the trigger and the value at fault.
    """


class OutboxError(StateSignalsError):
    """The outbox cannot do what was asked: an unknown event id, a receiver that
    cannot be imported, a database without the outbox tables."""


class EarlierEventPendingError(OutboxError):
    """An earlier event of the same model for the same receiver has not had its effect
    yet (:meth:`~statesignals.outbox.DurableEvent.check_order`): the receiver's
    transaction rolls back and the event is tried again after its backoff."""


__all__ = [
    "AsyncReceiverError",
    "DatabaseLockedError",
    "DetachedWorkflowError",
    "DiagramError",
    "DurableReceiverError",
    "EarlierEventPendingError",
    "GuardCallError",
    "MissingVersionColumnError",
    "OutboxError",
    "OutboxPayloadError",
    "PersistenceError",
    "ProtectedStateError",
    "ReceiverCancelledError",
    "ReceiverError",
    "StaleTransitionError",
    "StateAttributeError",
    "StateSignalsError",
    "UnknownStoredStateError",
    "WorkflowDefinitionError",
    "WorkflowFileError",
    "WorkflowLookupError",
]

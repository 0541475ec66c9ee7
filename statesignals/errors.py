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
    """

    def __init__(
        self,
        message: str,
        *,
        location: c.Sequence[str | int] = (),
        problem: str | None = None,
    ) -> None:
        super().__init__(message)
        self.location = tuple(location)
        self.problem = problem if problem is not None else message


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


__all__ = [
    "AsyncReceiverError",
    "DiagramError",
    "GuardCallError",
    "ReceiverCancelledError",
    "ReceiverError",
    "StateAttributeError",
    "StateSignalsError",
    "WorkflowDefinitionError",
    "WorkflowFileError",
    "WorkflowLookupError",
]

"""Remembering the transition that led each model to its current state.

:func:`remember_last_transitions` makes a workflow class record, on each
instance, the last transition it took; :func:`last_transition` reads it back.
Diagrams of an instance highlight it. Classes that do not ask pay nothing per
trigger.
"""

from __future__ import annotations

import collections.abc as c
import inspect
import typing as t
import weakref

from transitions.core import EventData, Machine

from .compiled import CompiledTransition, on_every_transition
from .errors import WorkflowLookupError
from .naming import model_state_names


class LastTransition(t.NamedTuple):
    """The transition that led a model to its current state."""

    trigger: str
    source: str
    dest: str


# The last transition of each model is recorded only for classes that ask for it
# (remember_last_transitions), so other classes' triggers pay nothing.

_LAST_TRANSITION = "_statesignals_last_transition"
_recording: weakref.WeakSet[Machine] = weakref.WeakSet()


def _remember(model: t.Any, value: LastTransition | None) -> None:
    try:
        attributes = vars(model)
    except TypeError:  # a model with __slots__ has nowhere to keep it
        return
    if value is None:
        attributes.pop(_LAST_TRANSITION, None)
    else:
        attributes[_LAST_TRANSITION] = value


def _recording_change_state(found: CompiledTransition) -> c.Callable[[EventData], t.Any]:
    transition = found.transition
    change_state = transition._change_state
    # Only transitions with a destination change state (internal ones never get here).
    # Full names: a transition declared inside a compound state names states relative to it.
    led = LastTransition(found.trigger, found.source, t.cast(str, found.dest))

    def state_of(event_data: EventData) -> tuple[str, ...]:
        return model_state_names(getattr(event_data.model, event_data.machine.model_attribute))

    def record(event_data: EventData) -> tuple[LastTransition | None, tuple[str, ...]]:
        model = event_data.model
        previous = getattr(model, _LAST_TRANSITION, None)
        # Recorded before the state changes, so that receivers of the
        # transition's own signals already see it.
        _remember(model, led)
        return t.cast(LastTransition | None, previous), state_of(event_data)

    def undo(event_data: EventData, before: tuple[LastTransition | None, tuple[str, ...]]) -> None:
        # A callback raised: if the model never left where it was, nothing led anywhere.
        previous, state = before
        if state_of(event_data) == state:
            _remember(event_data.model, previous)

    if inspect.iscoroutinefunction(change_state):

        async def change_state_async(event_data: EventData) -> t.Any:
            before = record(event_data)
            try:
                return await change_state(event_data)
            except BaseException:
                undo(event_data, before)
                raise

        return change_state_async

    def change_state_sync(event_data: EventData) -> t.Any:
        before = record(event_data)
        try:
            return change_state(event_data)
        except BaseException:
            undo(event_data, before)
            raise

    return change_state_sync


def _record(found: CompiledTransition) -> None:
    if found.dest is None:
        return  # an internal transition leads nowhere new
    # Per transition object of this class's machine only: other
    # classes' transitions keep transitions' own method.
    found.transition._change_state = _recording_change_state(found)  # type: ignore[method-assign,assignment]


M = t.TypeVar("M", bound=type)


def remember_last_transitions(model_class: M) -> M:
    """Make instances of ``model_class`` remember the transition that led to their state.

    Use it as a class decorator; classes that do not ask pay nothing per trigger.
    In a nested workflow, transitions declared inside compound states are
    remembered too, under full state names; a transition into a compound state
    keeps the dest it declares (``"review"`` while the model is in
    ``"review_reading"``).
    A subclass has its own workflow: decorate each class whose instances you
    draw. Models with ``__slots__`` cannot remember (their diagrams show the
    current state only). Returns ``model_class``.
    """
    machine = getattr(model_class, "machine", None)
    if not isinstance(machine, Machine):
        raise WorkflowLookupError(f"{model_class.__qualname__} declares no workflow")
    if machine in _recording:
        return model_class
    on_every_transition(machine, _record)
    _recording.add(machine)
    return model_class


def last_transition(model: t.Any) -> LastTransition | None:
    """The transition that led ``model`` to its current state, if it was remembered."""
    recorded = getattr(model, _LAST_TRANSITION, None)
    return recorded if isinstance(recorded, LastTransition) else None


__all__ = ["LastTransition", "last_transition", "remember_last_transitions"]

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

from transitions.core import EventData, Machine, Transition

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


def _recording_change_state(transition: Transition) -> c.Callable[[EventData], t.Any]:
    change_state = transition._change_state
    # Only transitions with a destination change state (internal ones never get here).
    source, dest = transition.source, t.cast(str, transition.dest)

    def record(event_data: EventData) -> LastTransition | None:
        model = event_data.model
        previous = getattr(model, _LAST_TRANSITION, None)
        # Recorded before the state changes, so that receivers of the
        # transition's own signals already see it.
        _remember(model, LastTransition(event_data.event.name, source, dest))
        return t.cast(LastTransition | None, previous)

    def undo(event_data: EventData, previous: LastTransition | None) -> None:
        # A callback raised: if the model never left the source, nothing led anywhere.
        model = event_data.model
        if model_state_names(getattr(model, event_data.machine.model_attribute)) == (source,):
            _remember(model, previous)

    if inspect.iscoroutinefunction(change_state):

        async def change_state_async(event_data: EventData) -> t.Any:
            previous = record(event_data)
            try:
                return await change_state(event_data)
            except BaseException:
                undo(event_data, previous)
                raise

        return change_state_async

    def change_state_sync(event_data: EventData) -> t.Any:
        previous = record(event_data)
        try:
            return change_state(event_data)
        except BaseException:
            undo(event_data, previous)
            raise

    return change_state_sync


M = t.TypeVar("M", bound=type)


def remember_last_transitions(model_class: M) -> M:
    """Make instances of ``model_class`` remember the transition that led to their state.

    Use it as a class decorator; classes that do not ask pay nothing per trigger.
    A subclass has its own workflow: decorate each class whose instances you
    draw. Models with ``__slots__`` cannot remember (their diagrams show the
    current state only). Returns ``model_class``.
    """
    machine = getattr(model_class, "machine", None)
    if not isinstance(machine, Machine):
        raise WorkflowLookupError(f"{model_class.__qualname__} declares no workflow")
    if machine in _recording:
        return model_class
    for event in machine.events.values():
        for transitions in event.transitions.values():
            for transition in transitions:
                # Per transition object of this class's machine only: other
                # classes' transitions keep transitions' own method.
                transition._change_state = _recording_change_state(transition)  # type: ignore[method-assign,assignment]
    _recording.add(machine)
    return model_class


def last_transition(model: t.Any) -> LastTransition | None:
    """The transition that led ``model`` to its current state, if it was remembered."""
    recorded = getattr(model, _LAST_TRANSITION, None)
    return recorded if isinstance(recorded, LastTransition) else None


__all__ = ["LastTransition", "last_transition", "remember_last_transitions"]

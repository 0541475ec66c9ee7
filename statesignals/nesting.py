"""Signals for ``transitions``' nested states (``HierarchicalMachine``).

A nested state's name is its full path (``shipping_packed`` with the default
separator): ``NestedState.name`` is scoped while its callbacks run, so the
state signals carry full names as they are. What differs from a flat machine
is how a trigger runs: ``HierarchicalMachine.trigger_event`` visits every
(parallel) region and calls ``NestedEvent._process`` once per region that has a
transition. The events here only record what happened; the machine
(:class:`~statesignals.SignalingMixin`) sends ``transition_completed`` once per
trigger, after every region, and reports denials with the reasons a flat
machine gives.
"""

from __future__ import annotations

import functools
import typing as t

from transitions.core import EventData
from transitions.extensions.nesting import (
    NestedEvent,
    NestedEventData,
    NestedState,
    NestedTransition,
)

from .mixin import SignalingState, SignalingTransition
from .receivers import listened
from .signals import transition_completed


class SignalingNestedState(SignalingState, NestedState):
    """A nested state that sends ``state_exited`` and ``state_entered`` with its full name."""


class SignalingNestedTransition(SignalingTransition, NestedTransition):
    """A nested transition; also reports ``HierarchicalMachine.to_state`` moves."""

    def execute(self, event_data: EventData) -> bool:
        if isinstance(event_data.event, NestedEvent):
            return super().execute(event_data)
        # HierarchicalMachine.to_state runs a transition outside any event: it is
        # the outermost trigger, and nothing else reports its completion.
        return t.cast(
            bool, event_data.machine._outermost(functools.partial(self._move, event_data))
        )

    def _move(self, event_data: EventData) -> bool:
        result = super().execute(event_data)
        if result:
            event_data.transition = self
            if listened(transition_completed, event_data.model, event_data.event.name):
                event_data.machine._send_completed(event_data)
        return result


def record_transition_names(event_data: EventData) -> None:
    """Keep the full source and dest names of the first region's transition.

    The machine is still scoped to the region here; by the time
    ``transition_completed`` is sent it is back at the root.
    """
    if event_data.result and not hasattr(event_data, "transition_names"):
        names = event_data.machine._qualified_names(event_data.transition)
        event_data.transition_names = names  # type: ignore[attr-defined]


class SignalingNestedEvent(NestedEvent):
    """A nested event that records the transition it made in each region."""

    def _process(self, event_data: NestedEventData) -> t.Any:  # type: ignore[override]
        result = super()._process(event_data)
        record_transition_names(event_data)
        return result


SIGNALING_VARIANTS: dict[type, type] = {
    NestedState: SignalingNestedState,
    NestedTransition: SignalingNestedTransition,
    NestedEvent: SignalingNestedEvent,
}
"""Signaling classes for the classes of ``transitions.extensions.nesting``."""

__all__ = [
    "SIGNALING_VARIANTS",
    "SignalingNestedEvent",
    "SignalingNestedState",
    "SignalingNestedTransition",
    "record_transition_names",
]

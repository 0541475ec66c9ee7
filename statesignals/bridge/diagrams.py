"""Signals for ``transitions.extensions.diagrams`` (``GraphMachine`` and combinations).

Graph machines keep their own features (``get_graph``, styling of the current
state and the last transition, the markup export of ``MarkupMachine``); the
signaling transitions below add the signals and let models that were never
added to the machine (instances of a :class:`~statesignals.SignalingMachine`)
transition without a per-model graph.
"""

from __future__ import annotations

import typing as t

from transitions.core import EventData
from transitions.extensions.diagrams import (
    GraphMachine,
    NestedGraphTransition,
    TransitionGraphSupport,
)

from .core import SignalingTransition
from .nesting import SignalingNestedTransition


class _UngraphedModels(TransitionGraphSupport):
    def _change_state(self, event_data: EventData) -> None:
        if id(event_data.model) in event_data.machine.model_graphs:
            super()._change_state(event_data)
        else:
            # No graph to style: change state as the transition class after the graph support.
            super(TransitionGraphSupport, self)._change_state(event_data)


class GraphStandIn:
    """The graph of a model that has none, for code that styles it unconditionally.

    ``AsyncTransition._change_state`` styles ``machine.model_graphs[id(model)]``
    whenever the machine has graphs; for a model without one it stands in for the
    duration of the change, and the styling goes nowhere.
    """

    def reset_styling(self) -> None:
        pass

    def set_previous_transition(self, source: str, dest: str) -> None:
        pass

    def set_node_style(self, state: t.Any, style: str) -> None:
        pass


def lacks_graph(event_data: EventData) -> bool:
    """Whether the machine draws graphs but holds none for this event's model."""
    machine = event_data.machine
    # isinstance, not getattr: a missing attribute goes through Machine.__getattr__.
    return isinstance(machine, GraphMachine) and id(event_data.model) not in machine.model_graphs


class SignalingGraphTransition(SignalingTransition, _UngraphedModels):
    """A transition that styles the model's graph and reports refusing guards."""


class SignalingNestedGraphTransition(
    SignalingNestedTransition, _UngraphedModels, NestedGraphTransition
):
    """A nested transition that styles the model's graph and reports refusing guards."""


SIGNALING_VARIANTS: dict[type, type] = {
    NestedGraphTransition: SignalingNestedGraphTransition,
    TransitionGraphSupport: SignalingGraphTransition,
}
"""Signaling classes for the classes of ``transitions.extensions.diagrams``."""

__all__ = [
    "SIGNALING_VARIANTS",
    "GraphStandIn",
    "SignalingGraphTransition",
    "SignalingNestedGraphTransition",
    "lacks_graph",
]

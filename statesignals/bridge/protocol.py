"""What the signaling State, Transition and Event classes call on their machine.

``transitions`` types ``EventData.machine`` as ``Any``; the bridge's classes
annotate it with :class:`SignalingMachineProtocol` instead, so that mypy checks
every call they make on the machine (a misspelt hook name is a type error).
"""

from __future__ import annotations

import collections.abc as c
import typing as t

from transitions.core import EventData, State, Transition

from ..dispatch import WorkflowSignal
from .history import Entering


class SignalingMachineProtocol(t.Protocol):
    """The machine side of the bridge: the hooks its State/Transition/Event classes call."""

    model_attribute: str

    def _send_state_signal(
        self, signal: WorkflowSignal, state: State, event_data: EventData
    ) -> None: ...

    def _begin_entering(self, state: State, event_data: EventData) -> Entering: ...

    def _send_entered(self, entry: Entering) -> None: ...

    def _send(
        self,
        signal: WorkflowSignal,
        name: str,
        event_data: EventData,
        extra: dict[str, t.Any],
        overtaking: bool = True,
    ) -> None: ...

    def _plan_entering(
        self, event_data: EventData, transition: Transition, enters: list[t.Any]
    ) -> None: ...

    def _send_planned(self, event_data: EventData) -> None: ...

    def _send_completed(self, event_data: EventData) -> None: ...

    def _report_unsuccessful(self, event_data: EventData) -> None: ...

    def _check_state_kept(self, event_data: EventData) -> None: ...

    def _outermost(self, run: c.Callable[[], bool]) -> bool: ...

    def _qualified_names(self, transition: Transition) -> tuple[str, str]: ...

    async def _send_async(
        self,
        signal: WorkflowSignal,
        name: str,
        event_data: EventData,
        extra: dict[str, t.Any],
        overtaking: bool = True,
    ) -> None: ...

    async def _send_state_signal_async(
        self, signal: WorkflowSignal, state: State, event_data: EventData
    ) -> None: ...

    async def _send_entered_async(self, entry: Entering) -> None: ...

    async def _send_planned_async(self, event_data: EventData) -> None: ...

    async def _send_completed_async(self, event_data: EventData) -> None: ...

    async def _report_unsuccessful_async(self, event_data: EventData) -> None: ...


__all__ = ["SignalingMachineProtocol"]

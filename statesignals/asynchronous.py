"""Signals for ``transitions``' asyncio machines (``AsyncMachine``, ``HierarchicalAsyncMachine``).

Their states, conditions and events are coroutines; the signaling versions here
await :meth:`~statesignals.receivers.WorkflowSignal.send_async`, which awaits
coroutine receivers and calls plain ones, at the same points where the
synchronous classes send.

A trigger that ``transitions`` cancels because a newer trigger of the same model
is about to change its state sends no ``transition_completed``: it never got
there, and the cancellation is not a failure of the model's callbacks, so no
``transition_failed`` either.
"""

from __future__ import annotations

import asyncio
import typing as t

from transitions.extensions.asyncio import (
    AsyncCondition,
    AsyncEvent,
    AsyncEventData,
    AsyncState,
    AsyncTransition,
    NestedAsyncEvent,
    NestedAsyncState,
    NestedAsyncTransition,
)

from .graph_machines import GraphStandIn, lacks_graph
from .mixin import bind_next_methods, raise_if_guard_call_failed, record_refusal
from .nesting import record_transition_names
from .receivers import WorkflowSignal, class_listens, class_signals, listened
from .signals import state_entered, state_exited, transition_completed


class SignalingAsyncState(AsyncState):
    """An async state that sends ``state_exited`` and ``state_entered``."""

    _next_enter: t.Callable[[AsyncEventData], t.Awaitable[None]]
    _next_exit: t.Callable[[AsyncEventData], t.Awaitable[None]]

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        bind_next_methods(cls, SignalingAsyncState, "enter", "exit")

    async def enter(self, event_data: AsyncEventData) -> None:  # type: ignore[override]
        await self._next_enter(event_data)
        if state_entered.receivers or (
            class_signals and class_listens(type(event_data.model), state_entered.name)
        ):
            await event_data.machine._send_state_signal_async(state_entered, self, event_data)

    async def exit(self, event_data: AsyncEventData) -> None:  # type: ignore[override]
        await self._next_exit(event_data)
        if state_exited.receivers or (
            class_signals and class_listens(type(event_data.model), state_exited.name)
        ):
            await event_data.machine._send_state_signal_async(state_exited, self, event_data)


bind_next_methods(SignalingAsyncState, SignalingAsyncState, "enter", "exit")


class SignalingNestedAsyncState(SignalingAsyncState, NestedAsyncState):
    """A nested async state; its signals carry its full name."""


class SignalingAsyncCondition(AsyncCondition):
    """An async guard that records its label on the event data when it refuses."""

    _next_check: t.Callable[[AsyncEventData], t.Awaitable[bool]]

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        bind_next_methods(cls, SignalingAsyncCondition, "check")

    async def check(self, event_data: AsyncEventData) -> bool:  # type: ignore[override]
        try:
            if await self._next_check(event_data):
                return True
        except TypeError as error:
            raise_if_guard_call_failed(self, event_data, error)
            raise
        record_refusal(event_data, self)
        return False


bind_next_methods(SignalingAsyncCondition, SignalingAsyncCondition, "check")


class SignalingAsyncTransition(AsyncTransition):
    """An async transition whose guards report which of them refused."""

    condition_cls = SignalingAsyncCondition

    def _change_state(self, event_data: AsyncEventData) -> t.Awaitable[None]:  # type: ignore[override]
        if lacks_graph(event_data):
            return self._change_state_without_graph(event_data)
        return t.cast(t.Awaitable[None], super()._change_state(event_data))

    async def _change_state_without_graph(self, event_data: AsyncEventData) -> None:
        # An async graph machine styles the model's graph unconditionally; instances
        # of a SignalingMachine share the machine without being added to it, so
        # have none: a stand-in takes the styling while the state changes.
        graphs = event_data.machine.model_graphs
        graphs[id(event_data.model)] = GraphStandIn()
        try:
            await super()._change_state(event_data)
        finally:
            del graphs[id(event_data.model)]


class SignalingNestedAsyncTransition(SignalingAsyncTransition, NestedAsyncTransition):  # type: ignore[misc]
    """A nested async transition whose guards report which of them refused."""


class SignalingAsyncEvent(AsyncEvent):
    """An async event that reports how its trigger ended."""

    _next__process: t.Callable[[AsyncEventData], t.Awaitable[bool]]
    _next__trigger: t.Callable[[AsyncEventData], t.Awaitable[bool]]

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        bind_next_methods(cls, SignalingAsyncEvent, "_process", "_trigger")

    async def _process(self, event_data: AsyncEventData) -> bool:  # type: ignore[override]
        result = await self._next__process(event_data)
        if event_data.result and listened(
            transition_completed, event_data.model, event_data.event.name
        ):
            await event_data.machine._send_completed_async(event_data)
        return result

    async def _trigger(self, event_data: AsyncEventData) -> bool:  # type: ignore[override]
        # Reporting is skipped when no signal has a receiver: it would send nothing.
        try:
            result = await self._next__trigger(event_data)
        except asyncio.CancelledError:
            raise
        except BaseException:
            if event_data.error is not None and WorkflowSignal.connected:
                await event_data.machine._report_unsuccessful_async(event_data)
            raise
        if not WorkflowSignal.connected:
            return result
        if result:
            event_data.machine._check_state_kept(event_data)
        elif not isinstance(event_data.error, asyncio.CancelledError):
            await event_data.machine._report_unsuccessful_async(event_data)
        return result


bind_next_methods(SignalingAsyncEvent, SignalingAsyncEvent, "_process", "_trigger")


class SignalingNestedAsyncEvent(NestedAsyncEvent):
    """A nested async event that records the transition it made in each region."""

    async def _process(self, event_data: AsyncEventData) -> bool:  # type: ignore[override]
        result = await super()._process(event_data)
        record_transition_names(event_data)
        return result


SIGNALING_VARIANTS: dict[type, type] = {
    NestedAsyncState: SignalingNestedAsyncState,
    AsyncState: SignalingAsyncState,
    AsyncCondition: SignalingAsyncCondition,
    NestedAsyncTransition: SignalingNestedAsyncTransition,
    AsyncTransition: SignalingAsyncTransition,
    NestedAsyncEvent: SignalingNestedAsyncEvent,
    AsyncEvent: SignalingAsyncEvent,
}
"""Signaling classes for the classes of ``transitions.extensions.asyncio``."""

__all__ = [
    "SIGNALING_VARIANTS",
    "SignalingAsyncCondition",
    "SignalingAsyncEvent",
    "SignalingAsyncState",
    "SignalingAsyncTransition",
    "SignalingNestedAsyncEvent",
    "SignalingNestedAsyncState",
    "SignalingNestedAsyncTransition",
]

"""Signals for ``transitions.extensions.asyncio`` (``AsyncMachine``, ``HierarchicalAsyncMachine``).

Their states, conditions and events are coroutines; the signaling versions here
await :meth:`~statesignals.dispatch.WorkflowSignal.send_payload_async`, which awaits
coroutine receivers and calls plain ones, at the same points where the
synchronous classes send. :class:`AsyncMachineHooks` routes each signal with the
same step as a synchronous machine (which signals, which payload) and differs
only in awaiting the sends; it also keeps one receiver-error scope per task.

A trigger that ``transitions`` cancels because a newer trigger of the same model
is about to change its state never completes: it sends ``transition_failed`` with
the ``asyncio.CancelledError`` in ``error``, after the ``state_entered`` of a state
it had entered (sent before the newer trigger's signals, see
:mod:`statesignals.bridge.history`).
"""

from __future__ import annotations

import asyncio
import collections.abc as c
import typing as t
from collections import deque

from transitions.core import EventData, State
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

from ..dispatch import WorkflowSignal
from ..errors import ReceiverError
from ..naming import state_name
from ..routes import listened, listens, routed
from ..scope import PendingReceiverErrors, current_task, pending_receiver_errors
from ..signals import state_entered, state_exited, transition_completed
from .core import (
    ReprAsUpstream,
    bind_next_methods,
    raise_if_guard_call_failed,
    raised,
    record_refusal,
)
from .diagrams import GraphStandIn, lacks_graph
from .history import Entering, overtaken, settle, this_thread
from .nesting import (
    NestedMachineHooks,
    PlansEntering,
    hold_exit,
    record_transition_names,
)
from .protocol import SignalingMachineProtocol


class SignalingAsyncState(ReprAsUpstream, AsyncState):
    """An async state that sends ``state_exited`` and ``state_entered``."""

    _next_enter: t.Callable[[AsyncEventData], t.Awaitable[None]]
    _next_exit: t.Callable[[AsyncEventData], t.Awaitable[None]]

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        bind_next_methods(cls, SignalingAsyncState, "enter", "exit")

    async def enter(self, event_data: AsyncEventData) -> None:  # type: ignore[override]
        if not (
            state_entered.receivers
            or (
                state_entered.name in routed and listens(type(event_data.model), state_entered.name)
            )
        ):
            await self._next_enter(event_data)
            return
        machine: SignalingMachineProtocol = event_data.machine
        entry = machine._begin_entering(self, event_data)
        try:
            await self._next_enter(event_data)
        finally:
            # Also when on_enter raised or the trigger was cancelled while it awaited.
            await machine._send_entered_async(entry)

    async def exit(self, event_data: AsyncEventData) -> None:  # type: ignore[override]
        await self._next_exit(event_data)
        if state_exited.receivers or (
            state_exited.name in routed and listens(type(event_data.model), state_exited.name)
        ):
            machine: SignalingMachineProtocol = event_data.machine
            await machine._send_state_signal_async(state_exited, self, event_data)


bind_next_methods(SignalingAsyncState, SignalingAsyncState, "enter", "exit")


class SignalingNestedAsyncState(SignalingAsyncState, NestedAsyncState):
    """A nested async state; its signals carry its full name, and in a transition its
    ``state_exited`` waits until the model's state is set
    (:class:`~statesignals.bridge.nesting.PlansEntering`)."""

    async def exit(self, event_data: AsyncEventData) -> None:  # type: ignore[override]
        await self._next_exit(event_data)
        if state_exited.receivers or (
            state_exited.name in routed and listens(type(event_data.model), state_exited.name)
        ):
            if hold_exit(self, event_data):
                return
            machine: SignalingMachineProtocol = event_data.machine
            await machine._send_state_signal_async(state_exited, self, event_data)


class SignalingAsyncCondition(ReprAsUpstream, AsyncCondition):
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


class SignalingAsyncTransition(ReprAsUpstream, AsyncTransition):
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


# fmt: off
class SignalingNestedAsyncTransition(  # type: ignore[misc]
    SignalingAsyncTransition, PlansEntering, NestedAsyncTransition
):
    # fmt: on
    """A nested async transition whose guards report which of them refused."""

    async def _release_exits(self, event_data: EventData) -> None:  # type: ignore[override]
        held: list[str] = vars(event_data).pop("held_exits", [])
        machine: SignalingMachineProtocol = event_data.machine
        for name in held:
            await machine._send_async(state_exited, name, event_data, {"state": name})


class SignalingAsyncEvent(ReprAsUpstream, AsyncEvent):
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
            machine: SignalingMachineProtocol = event_data.machine
            await machine._send_completed_async(event_data)
        return result

    async def _trigger(self, event_data: AsyncEventData) -> bool:  # type: ignore[override]
        # Reporting is skipped when no signal has a receiver: it would send nothing.
        try:
            result = await self._next__trigger(event_data)
        except BaseException:
            if raised(event_data) is not None and WorkflowSignal.connected:
                machine: SignalingMachineProtocol = event_data.machine
                await machine._report_unsuccessful_async(event_data)
            raise
        if not WorkflowSignal.connected:
            return result
        machine = event_data.machine
        if result:
            machine._check_state_kept(event_data)
        else:
            await machine._report_unsuccessful_async(event_data)
        return result


bind_next_methods(SignalingAsyncEvent, SignalingAsyncEvent, "_process", "_trigger")


class SignalingNestedAsyncEvent(ReprAsUpstream, NestedAsyncEvent):
    """A nested async event that records the transition it made in each region."""

    _next__process: t.Callable[[AsyncEventData], t.Awaitable[bool]]

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        bind_next_methods(cls, SignalingNestedAsyncEvent, "_process")

    async def _process(self, event_data: AsyncEventData) -> bool:  # type: ignore[override]
        result = await self._next__process(event_data)
        if WorkflowSignal.connected:
            record_transition_names(event_data)
        return result


bind_next_methods(SignalingNestedAsyncEvent, SignalingNestedAsyncEvent, "_process")


class AsyncMachineHooks(NestedMachineHooks):
    """The hooks of an asyncio machine: awaited sends, one receiver-error scope per task."""

    _next_process_context: t.Callable[
        [t.Callable[[], t.Any], object], c.Coroutine[t.Any, t.Any, bool]
    ]
    _next__process_async: t.Callable[
        [t.Callable[[], t.Any], object], c.Coroutine[t.Any, t.Any, bool]
    ]

    def process_context(
        self, func: t.Callable[[], t.Any], model: object
    ) -> c.Coroutine[t.Any, t.Any, bool]:
        """``AsyncMachine.process_context`` in a receiver-error scope of its own task.

        Returns the coroutine to await (no extra coroutine while nobody listens).
        """
        if not WorkflowSignal.connected:
            return self._next_process_context(func, model)
        pending = pending_receiver_errors.get()
        if pending is not None and pending.owner is current_task():
            return self._next_process_context(func, model)
        return self._process_outermost_context(func, model)

    async def _process_outermost_context(self, func: t.Callable[[], t.Any], model: object) -> bool:
        with self._receiver_error_scope() as pending:
            result = await self._next_process_context(func, model)
        if pending:
            self._surface_receiver_errors(pending)
        return result

    def _queue_models_apart(self) -> None:
        super()._queue_models_apart()
        if self._asynchronous:
            # What transitions keeps for queued="model": a queue per model, in place
            # of the one queue of queued=True.
            t.cast(t.Any, self)._transition_queue_dict = {}

    def _process_async(
        self, trigger: t.Callable[[], t.Any], model: object
    ) -> c.Coroutine[t.Any, t.Any, bool]:
        """``AsyncMachine._process_async``, also for models the machine does not hold.

        With ``queued="model"`` (and ``queued=True`` on the machine of a
        :class:`~statesignals.SignalingMachine`) transitions keeps a queue per added
        model; instances of a declared class are never added, so each gets a
        queue while it has events to process.
        """
        machine: t.Any = self
        if (
            not self._queue_per_model and machine.has_queue != "model"
        ) or id(model) in machine._transition_queue_dict:
            return self._next__process_async(trigger, model)
        return self._process_with_own_queue(trigger, model)

    async def _process_with_own_queue(self, trigger: t.Callable[[], t.Any], model: object) -> bool:
        queues: dict[int, deque[t.Any]] = t.cast(t.Any, self)._transition_queue_dict
        queues[id(model)] = deque()
        try:
            return await self._next__process_async(trigger, model)
        finally:
            if not queues.get(id(model)):
                queues.pop(id(model), None)

    def _receiver_error_scope(self) -> PendingReceiverErrors:
        pending = PendingReceiverErrors()
        pending.owner = current_task() if self._asynchronous else None
        return pending

    # Sending: the routing step of every machine, then awaited sends.

    async def _send_async(
        self,
        signal: WorkflowSignal,
        name: str,
        event_data: EventData,
        extra: dict[str, t.Any],
        overtaking: bool = True,
    ) -> None:
        """Send ``signal`` about ``name`` with ``extra`` in the payload (kept, not copied),
        as :meth:`CoreMachineHooks._send`."""
        if overtaking and this_thread.entering:
            for entry in overtaken(event_data):
                await self._send_async(state_entered, entry[0], entry[1], entry[2], False)
        sending, payload = self._route(signal, name, event_data, extra)
        model = event_data.model
        for each in sending:
            try:
                await each.send_payload_async(model, payload)
            except ReceiverError as group:
                self._defer_from(each, model, payload, group)
            except BaseException as interrupt:
                # The task's own cancellation goes on at once, as transitions expects.
                if isinstance(interrupt, (Exception, asyncio.CancelledError)):
                    raise
                if not self._hold_interrupt(interrupt):
                    raise

    async def _send_entered_async(self, entry: Entering) -> None:
        if settle(entry):
            await self._send_entry_async(entry)

    async def _send_planned_async(self, event_data: EventData) -> None:
        for entry in self._planned_left(event_data):
            await self._send_entry_async(entry)

    async def _send_entry_async(self, entry: Entering) -> None:
        await self._send_async(state_entered, entry[0], entry[1], entry[2])

    async def _send_state_signal_async(
        self, signal: WorkflowSignal, state: State, event_data: EventData
    ) -> None:
        name = state_name(state)
        await self._send_async(signal, name, event_data, {"state": name})

    async def _send_completed_async(self, event_data: EventData) -> None:
        transition = event_data.transition
        extra = {"internal": transition is not None and transition.dest is None}
        await self._send_async(transition_completed, event_data.event.name, event_data, extra)

    async def _report_unsuccessful_async(self, event_data: EventData) -> None:
        signal, extra = self._unsuccessful(event_data)
        await self._send_async(signal, event_data.event.name, event_data, extra)

    # Nested asyncio machines: the composition root makes these their _trigger_event
    # and _trigger_event_nested.

    async def _trigger_event_async(self, event_data: EventData, trigger: str) -> t.Any:
        try:
            result = await self._next__trigger_event(event_data, trigger)
        except BaseException:
            if this_thread.entering:
                await self._send_planned_async(event_data)
            if raised(event_data) is not None:
                await self._report_unsuccessful_nested_async(event_data, trigger)
            raise
        if this_thread.entering:
            await self._send_planned_async(event_data)
        if not result:
            await self._report_unsuccessful_nested_async(event_data, trigger)
        elif WorkflowSignal.connected:
            self._check_state_kept(event_data)
        return result

    async def _trigger_event_nested_async(
        self, event_data: EventData, trigger: str, _state_tree: dict[str, t.Any] | None
    ) -> t.Any:
        result = await self._next__trigger_event_nested(event_data, trigger, _state_tree)
        if _state_tree is None:
            event_data.regions_result = result  # type: ignore[attr-defined]
            if result and listened(transition_completed, event_data.model, trigger):
                await self._send_completed_async(event_data)
        return result

    async def _report_unsuccessful_nested_async(self, event_data: EventData, trigger: str) -> None:
        found = self._unsuccessful_nested(event_data, trigger)
        if found is not None:
            event_data.event = self._named_event(event_data, trigger)
            await self._send_async(found[0], trigger, event_data, found[1])


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
    "AsyncMachineHooks",
    "SignalingAsyncCondition",
    "SignalingAsyncEvent",
    "SignalingAsyncState",
    "SignalingAsyncTransition",
    "SignalingNestedAsyncEvent",
    "SignalingNestedAsyncState",
    "SignalingNestedAsyncTransition",
]

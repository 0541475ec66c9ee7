"""Signals for ``transitions.core``: the signaling State, Condition, Transition and Event,
and the machine hooks every signaling machine has.

The classes send a signal at the point where ``transitions`` has just run the
matching callbacks, and change nothing else:

* ``state_exited`` / ``state_entered`` -- :meth:`SignalingState.exit` /
  :meth:`SignalingState.enter`, after the state's own callbacks;
* ``transition_completed`` -- :meth:`SignalingEvent._process`, after ``after`` and
  ``after_state_change`` and before ``finalize_event``;
* ``transition_denied`` / ``transition_failed`` -- once the trigger has been
  processed, after ``finalize_event``: only then is it known that no transition
  happened.

:class:`CoreMachineHooks` is the machine side: the receiver-error scope of the
outermost trigger, and the one routing step (which signals reach a receiver, with
which payload) that synchronous and asynchronous sends share.
"""

from __future__ import annotations

import functools
import inspect
import typing as t
from collections import deque

from transitions.core import (
    Condition,
    Event,
    EventData,
    Machine,
    MachineError,
    State,
    Transition,
)

from ..dispatch import WorkflowSignal
from ..errors import GuardCallError, ReceiverError, StateAttributeError, WorkflowDefinitionError
from ..naming import condition_label, model_state_name, state_name
from ..routes import listens, routed, targets
from ..scope import (
    RECEIVER_ERROR_POLICIES,
    PendingReceiverErrors,
    ReceiverErrorPolicy,
    defer_receiver_errors,
    hold_interrupt,
    pending_receiver_errors,
    surface_receiver_errors,
)
from ..signals import (
    state_entered,
    state_exited,
    transition_completed,
    transition_denied,
    transition_failed,
)
from .history import Entering, overtaken, settle, this_thread
from .protocol import SignalingMachineProtocol

_R = t.TypeVar("_R")

if t.TYPE_CHECKING:
    _MachineBase = Machine
else:
    _MachineBase = object


def bind_next_methods(cls: type, owner: type, *names: str) -> None:
    """Store on ``cls``, as ``_next_<name>``, the method ``super(owner, cls).<name>`` finds.

    The signaling methods run on every trigger. Calling the wrapped class's
    method through this alias is an ordinary method call, while a zero-argument
    ``super()`` call costs about 70 ns more on CPython 3.11. It finds the same
    method: the owner's ``__init_subclass__`` binds it again for every subclass
    and composed variant, from the classes after ``owner`` in its MRO. Unlike
    ``super()``, it does not see a method replaced on a base class after the
    subclass was created.
    """
    following = cls.__mro__[cls.__mro__.index(owner) + 1 :]
    for name in names:
        for klass in following:
            if name in vars(klass):
                setattr(cls, f"_next_{name}", vars(klass)[name])
                break


@functools.cache
def upstream_class_name(cls: type) -> str:
    """The name of the class a signaling class stands in for: the first class in its
    MRO that statesignals did not write (``State`` for ``SignalingState``)."""
    for klass in cls.__mro__:
        if not klass.__module__.startswith("statesignals.") and not vars(klass).get(
            "_signaling_variant"
        ):
            return klass.__name__
    return cls.__name__


class ReprAsUpstream:
    """Prints as the ``transitions`` class it stands in for: ``<State('A')@...>``,
    not ``<SignalingState('A')@...>``, as programs and their tests expect."""

    def __repr__(self) -> str:
        text = super().__repr__()
        cls: type = type(self)
        own = f"<{cls.__name__}("
        if text.startswith(own):
            return f"<{upstream_class_name(cls)}({text[len(own) :]}"
        return text


class SignalingState(ReprAsUpstream, State):
    """A state that sends ``state_exited`` and ``state_entered``."""

    _next_enter: t.Callable[[EventData], None]
    _next_exit: t.Callable[[EventData], None]

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        bind_next_methods(cls, SignalingState, "enter", "exit")

    def enter(self, event_data: EventData) -> None:
        if not (
            state_entered.receivers
            or (
                state_entered.name in routed and listens(type(event_data.model), state_entered.name)
            )
        ):
            self._next_enter(event_data)
            return
        machine: SignalingMachineProtocol = event_data.machine
        entry = machine._begin_entering(self, event_data)
        try:
            self._next_enter(event_data)
        finally:
            # Also when on_enter raised: the model is in the state all the same.
            entering = this_thread.entering
            if entering and entering[-1] is entry:
                # The usual case, written out: nothing overtook the entry.
                entering.pop()
                machine._send(state_entered, entry[0], event_data, entry[2])
            else:
                machine._send_entered(entry)

    def exit(self, event_data: EventData) -> None:
        self._next_exit(event_data)
        if state_exited.receivers or (
            state_exited.name in routed and listens(type(event_data.model), state_exited.name)
        ):
            machine: SignalingMachineProtocol = event_data.machine
            machine._send_state_signal(state_exited, self, event_data)


bind_next_methods(SignalingState, SignalingState, "enter", "exit")


class SignalingCondition(ReprAsUpstream, Condition):
    """A guard that records its label on the event data when it refuses."""

    _next_check: t.Callable[[EventData], bool]

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        bind_next_methods(cls, SignalingCondition, "check")

    def check(self, event_data: EventData) -> bool:
        try:
            if self._next_check(event_data):
                return True
        except TypeError as error:
            raise_if_guard_call_failed(self, event_data, error)
            raise
        record_refusal(event_data, self)
        return False


bind_next_methods(SignalingCondition, SignalingCondition, "check")


def raised(event_data: EventData) -> BaseException | None:
    """The exception a callback raised while ``event_data``'s trigger was processed.

    None also when an ``on_exception`` handler deleted ``event.error``, as
    ``transitions``' README shows: :func:`error_dismissed` tells that case apart.
    """
    return getattr(event_data, "error", None)


def error_dismissed(event_data: EventData) -> bool:
    """Whether an ``on_exception`` handler deleted the error of a failed trigger."""
    return not hasattr(event_data, "error")


def raise_if_guard_call_failed(
    condition: Condition, event_data: EventData, error: TypeError
) -> None:
    """Raise :class:`GuardCallError` (from ``error``) if ``error`` says the guard cannot
    take the arguments ``transitions`` passed; return if it came from inside the guard."""
    machine = event_data.machine
    try:
        guard = machine.resolve_callable(condition.func, event_data)
        passed = ((event_data,), {}) if machine.send_event else (event_data.args, event_data.kwargs)
        inspect.signature(guard).bind(*passed[0], **passed[1])
    except TypeError:
        pass  # the call itself does not fit
    except (ValueError, AttributeError):
        return  # no signature to compare, or no such method
    else:
        return
    transition = event_data.transition
    moves = f" ({transition.source} -> {transition.dest})" if transition is not None else ""
    what = (
        "the EventData (send_event is set)"
        if machine.send_event
        else f"the trigger's arguments (here {len(tuple(event_data.args))} positional, "
        f"{len(event_data.kwargs)} keyword), not the model"
    )
    raise GuardCallError(
        f"{type(event_data.model).__qualname__}.{event_data.event.name}{moves}: guard "
        f"{condition_label(condition)} cannot be called with what transitions passes a "
        f"callable guard: {what}; name a method of the model instead, or accept those "
        f"arguments ({error})"
    ) from error


def record_refusal(event_data: EventData, condition: Condition) -> None:
    """Add ``condition``'s label to ``event_data.failed_conditions``."""
    refused: list[str] | None = getattr(event_data, "failed_conditions", None)
    if refused is None:
        refused = []
        event_data.failed_conditions = refused  # type: ignore[attr-defined]
    refused.append(condition_label(condition))


class SignalingTransition(ReprAsUpstream, Transition):
    """A transition whose guards report which of them refused."""

    condition_cls = SignalingCondition


class SignalingEvent(ReprAsUpstream, Event):
    """An event that reports how its trigger ended."""

    _next__process: t.Callable[[EventData], bool]
    _next__trigger: t.Callable[[EventData], bool]

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        bind_next_methods(cls, SignalingEvent, "_process", "_trigger")

    def _process(self, event_data: EventData) -> bool:
        result = self._next__process(event_data)
        if event_data.result and (
            transition_completed.receivers
            or (
                transition_completed.name in routed
                and listens(
                    type(event_data.model), transition_completed.name, event_data.event.name
                )
            )
        ):
            machine: SignalingMachineProtocol = event_data.machine
            machine._send_completed(event_data)
        return result

    def _trigger(self, event_data: EventData) -> bool:
        # Reporting is skipped when no signal has a receiver: it would send nothing.
        try:
            result = self._next__trigger(event_data)
        except BaseException:
            if raised(event_data) is not None and WorkflowSignal.connected:
                machine: SignalingMachineProtocol = event_data.machine
                machine._report_unsuccessful(event_data)
            raise
        if WorkflowSignal.connected:
            if not result:
                machine = event_data.machine
                machine._report_unsuccessful(event_data)
            else:
                # Written out: the state is in the instance's dict after nearly every trigger.
                try:
                    kept = event_data.machine.model_attribute in event_data.model.__dict__
                except AttributeError:  # no __dict__: the state is in a slot
                    kept = True
                if not kept:
                    event_data.machine._check_state_kept(event_data)
        return result


bind_next_methods(SignalingEvent, SignalingEvent, "_process", "_trigger")


SIGNALING_VARIANTS: dict[type, type] = {
    State: SignalingState,
    Condition: SignalingCondition,
    Transition: SignalingTransition,
    Event: SignalingEvent,
}
"""Signaling classes for the classes of ``transitions.core``."""

Sending = tuple[tuple[WorkflowSignal, ...], dict[str, t.Any]]
"""The signals that reach a receiver, and the payload to send them."""
_NOTHING: Sending = ((), {})


def denial(
    reason: str, failed_conditions: list[str], error: MachineError | None
) -> dict[str, t.Any]:
    """The extra payload of ``transition_denied``."""
    return {"reason": reason, "failed_conditions": failed_conditions, "error": error}


class CoreMachineHooks(_MachineBase):
    """The machine hooks of every signaling machine (see :class:`~statesignals.SignalingMixin`)."""

    receiver_errors: ReceiverErrorPolicy
    _next__process: t.Callable[[t.Callable[[], bool]], bool]

    _asynchronous: t.ClassVar[bool] = False
    """Whether states, events and triggers are coroutines (an ``AsyncMachine``)."""
    _nested: t.ClassVar[bool] = False
    """Whether triggers run through ``HierarchicalMachine.trigger_event``."""

    def __init__(
        self, *args: t.Any, receiver_errors: ReceiverErrorPolicy = "raise", **kwargs: t.Any
    ) -> None:
        if receiver_errors not in RECEIVER_ERROR_POLICIES:
            # A declared workflow's machine is named after the model class.
            owner = kwargs.get("name") or type(self).__qualname__
            raise WorkflowDefinitionError(
                f"{owner}: receiver_errors must be 'raise' or 'log', not {receiver_errors!r}"
            )
        self.receiver_errors = receiver_errors
        super().__init__(*args, **kwargs)

    # Receiver errors are raised only when the outermost trigger returns.

    def _process(self, trigger: t.Callable[[], bool]) -> bool:
        if not WorkflowSignal.connected or pending_receiver_errors.get() is not None:
            return self._next__process(trigger)
        # The outermost trigger, written out rather than through _outermost(): it
        # runs on every trigger while any receiver is connected.
        pending = PendingReceiverErrors()
        pending.owner = None
        token = pending_receiver_errors.set(pending)
        try:
            result = self._next__process(trigger)
        except BaseException as error:
            winner = pending.winner(error)
            if winner is error:
                raise
            raise winner from error
        finally:
            pending_receiver_errors.reset(token)
        if pending:
            self._surface_receiver_errors(pending)
        return result

    _queue_per_model: bool = False
    """Whether ``queued=True`` queues each model's triggers on their own (the machine
    shared by a declared class's instances: a trigger of one instance fired from
    another's callback runs at once, as with a machine per instance)."""

    def _queue_models_apart(self) -> None:
        """Make ``queued=True`` queue each model's triggers on their own."""
        self._queue_per_model = True
        # On the instance, so that the machines that queue together ask nothing per trigger.
        self._process = self._process_per_model  # type: ignore[method-assign]

    def _process_per_model(self, trigger: t.Callable[[], bool]) -> bool:
        return self._outermost(functools.partial(self._process_in_model_queue, trigger))

    def _process_in_model_queue(self, trigger: t.Callable[[], bool]) -> bool:
        """``Machine._process`` with ``queued=True``, with one queue per model."""
        # Every trigger transitions queues is a partial of the event data (or of the
        # nested machine's _trigger_event) first.
        model_id = id(t.cast(functools.partial[bool], trigger).args[0].model)
        queues: dict[int, deque[t.Callable[[], bool]]] = vars(self).setdefault("_model_queues", {})
        queue = queues.get(model_id)
        if queue is not None:
            queue.append(trigger)
            return True
        queue = queues[model_id] = deque([trigger])
        try:
            while queue:
                queue[0]()
                queue.popleft()
        finally:
            # After an exception the model's queued triggers are dropped, as
            # transitions clears its queue.
            del queues[model_id]
        return True

    def _outermost(self, run: t.Callable[[], _R]) -> _R:
        """Run the outermost trigger; then raise (or log) what its receivers raised."""
        if not WorkflowSignal.connected or pending_receiver_errors.get() is not None:
            return run()
        with self._receiver_error_scope() as pending:
            result = run()
        if pending:
            self._surface_receiver_errors(pending)
        return result

    def _receiver_error_scope(self) -> PendingReceiverErrors:
        """A new collection for the receiver errors of the trigger about to run."""
        pending = PendingReceiverErrors()
        pending.owner = None
        return pending

    def _defer_receiver_errors(self, errors: t.Sequence[Exception]) -> None:
        defer_receiver_errors(errors, per_task=self._asynchronous)

    def _hold_interrupt(self, interrupt: BaseException) -> bool:
        """Keep ``interrupt`` (raised by a receiver) until the outermost trigger returns;
        False outside the processing of a trigger."""
        return hold_interrupt(interrupt, per_task=self._asynchronous)

    def _surface_receiver_errors(self, errors: list[BaseException]) -> None:
        surface_receiver_errors(errors, self.receiver_errors)

    def _check_state_kept(self, event_data: EventData) -> None:
        """Raise :class:`StateAttributeError` if the trigger left the model without its
        state attribute, setting it back first to the state the trigger reached.

        Only receivers run while signals have any, so only then is it checked. A
        model of a declared workflow would read the initial state from its class.
        """
        attribute = self.model_attribute
        stored = getattr(event_data.model, "__dict__", None)
        if stored is None or attribute in stored:
            return  # the common case, first: this runs after every trigger while receivers exist
        transition = event_data.transition
        if transition is None or transition.dest is None:
            return  # an internal transition sets no state
        declared = inspect.getattr_static(type(event_data.model), attribute, None)
        if hasattr(declared, "__set__"):
            return  # held by a descriptor (a mapped column, a property), not the instance
        model = event_data.model
        reached = self._reached_state(event_data)
        setattr(model, attribute, reached)
        raise StateAttributeError(
            f"{type(model).__qualname__}.{event_data.event.name} "
            f"({transition.source} -> {transition.dest}): the model's {attribute!r} "
            "attribute was deleted while the trigger ran (by a receiver or a callback); "
            f"it is set back to {model_state_name(reached)!r}"
        )

    def _reached_state(self, event_data: EventData) -> t.Any:
        """The value the trigger set the model's state attribute to (a nested machine
        has its own: its dest may be a compound state whose children were entered)."""
        return self.get_state(t.cast(str, event_data.transition.dest)).value  # type: ignore[union-attr]

    # Routing: which signals reach a receiver, and with which payload.

    def _payload(self, event_data: EventData, signal: WorkflowSignal) -> dict[str, t.Any]:
        """What every signal about ``event_data`` carries (a nested machine has its own)."""
        transition = event_data.transition
        if transition is None:
            source = dest = state_name(event_data.state)
        else:
            source = transition.source
            target = transition.dest
            dest = target if target is not None and signal is not transition_denied else source
        return {
            "trigger": event_data.event.name,
            "source": source,
            "dest": dest,
            "machine": self,
            "event_data": event_data,
        }

    def _route(
        self, signal: WorkflowSignal, name: str, event_data: EventData, extra: dict[str, t.Any]
    ) -> Sending:
        """The signals to send for ``signal`` about ``name`` (the global one first, then
        the per-class routes), and the payload; no signals when nobody listens."""
        # routed holds a signal's name only while a per-class receiver of it is connected.
        routes = targets(type(event_data.model), signal.name, name) if signal.name in routed else ()
        if signal.receivers:
            sending = (signal, *routes) if routes else signal.alone
        elif routes:
            sending = routes
        else:
            return _NOTHING
        payload = self._payload(event_data, signal)
        payload.update(extra)
        return sending, payload

    def _send(
        self,
        signal: WorkflowSignal,
        name: str,
        event_data: EventData,
        extra: dict[str, t.Any],
        overtaking: bool = True,
    ) -> None:
        """Send ``signal`` about ``name`` with ``extra`` in the payload (kept, not copied),
        after the ``state_entered`` that other triggers of the model left pending
        (``overtaking``; not for those themselves, which are sent in the order entered)."""
        if overtaking and this_thread.entering:
            for entry in overtaken(event_data):
                self._send(state_entered, entry[0], entry[1], entry[2], False)
        model = event_data.model
        # _route, written out: this runs for every signal of every trigger.
        routes = targets(type(model), signal.name, name) if signal.name in routed else ()
        if signal.receivers:
            sending = (signal, *routes) if routes else signal.alone
        elif routes:
            sending = routes
        else:
            return
        payload = self._payload(event_data, signal)
        payload.update(extra)
        for each in sending:
            try:
                each.send_payload(model, payload)
            except ReceiverError as group:
                self._defer_from(each, model, payload, group)
            except BaseException as interrupt:
                if isinstance(interrupt, Exception) or not self._hold_interrupt(interrupt):
                    raise

    def _defer_from(
        self,
        signal: WorkflowSignal,
        model: object,
        payload: dict[str, t.Any],
        group: ReceiverError,
    ) -> None:
        where = (
            f"{type(model).__qualname__} {payload['trigger']} "
            f"({payload['source']} -> {payload['dest']})"
        )
        for error in group.exceptions:
            error.add_note(f"raised by a receiver of {signal.name} for {where}")
        self._defer_receiver_errors(group.exceptions)

    # What is sent.

    def _begin_entering(self, state: State, event_data: EventData) -> Entering:
        """Note that the model entered ``state``; its ``on_enter`` callbacks run next."""
        name = state.name
        entry = (name, event_data, {"state": name})
        this_thread.entering.append(entry)
        return entry

    def _send_entered(self, entry: Entering) -> None:
        """Send ``state_entered`` for ``entry``, unless a later signal already did."""
        if settle(entry):
            self._send(state_entered, entry[0], entry[1], entry[2])

    def _send_entry(self, entry: Entering) -> None:
        self._send(state_entered, entry[0], entry[1], entry[2])

    def _send_state_signal(
        self, signal: WorkflowSignal, state: State, event_data: EventData
    ) -> None:
        name = state_name(state)
        self._send(signal, name, event_data, {"state": name})

    def _send_completed(self, event_data: EventData) -> None:
        transition = event_data.transition
        extra = {"internal": transition is not None and transition.dest is None}
        self._send(transition_completed, event_data.event.name, event_data, extra)

    def _unsuccessful(self, event_data: EventData) -> tuple[WorkflowSignal, dict[str, t.Any]]:
        """Which signal reports an unsuccessful flat trigger, and its extra payload."""
        if error_dismissed(event_data):
            return transition_failed, {"error": None}
        error = event_data.error
        trigger = event_data.event.name
        state = event_data.state
        invalid = state is not None and state.name not in event_data.event.transitions
        if invalid and isinstance(error, MachineError):
            # Raised by transitions' source check: nothing else runs for an invalid source.
            return transition_denied, denial("invalid_trigger", [], error)
        if error is not None:
            return transition_failed, {"error": error}
        if refused := getattr(event_data, "failed_conditions", None):
            return transition_denied, denial("conditions", list(refused), None)
        # ignore_invalid_triggers swallowed the error: hand receivers the one
        # transitions would have raised.
        message = f"{self.name}Can't trigger event {trigger} from state {state_name(state)}!"
        return transition_denied, denial("invalid_trigger", [], MachineError(message))

    def _report_unsuccessful(self, event_data: EventData) -> None:
        """Send ``transition_denied`` or ``transition_failed`` for an unsuccessful trigger."""
        signal, extra = self._unsuccessful(event_data)
        self._send(signal, event_data.event.name, event_data, extra)


__all__ = [
    "SIGNALING_VARIANTS",
    "CoreMachineHooks",
    "ReprAsUpstream",
    "Sending",
    "SignalingCondition",
    "SignalingEvent",
    "SignalingState",
    "SignalingTransition",
    "bind_next_methods",
    "denial",
    "error_dismissed",
    "raise_if_guard_call_failed",
    "raised",
    "record_refusal",
    "upstream_class_name",
]

"""The bridge from ``transitions`` callbacks to the workflow signals.

:class:`SignalingMixin` goes in front of a ``transitions`` machine class::

    class AuditedMachine(SignalingMixin, Machine): ...

It swaps the machine's ``state_cls``, ``transition_cls`` and ``event_cls`` for
subclasses that send a signal at the point where ``transitions`` has just run
the matching callbacks, and changes nothing else: return values, exceptions,
callback order, queued processing, ``may_*`` checks and pickling stay as the
wrapped class has them.

Where each signal comes from:

* ``state_exited`` / ``state_entered`` -- :meth:`State.exit` / :meth:`State.enter`,
  after the state's own callbacks;
* ``transition_completed`` -- the event's processing, after ``after`` and
  ``after_state_change`` and before ``finalize_event``;
* ``transition_denied`` / ``transition_failed`` -- once the trigger has been
  processed, after ``finalize_event``: only then is it known that no transition
  happened.

The same holds for every ``transitions`` extension. Their state, transition and
event classes get the signaling class written for them (:func:`signaling_variants`:
``nesting``, ``asynchronous``, ``locking`` and ``graph_machines`` hold the extension ones),
and the few machine methods that differ are hooked here: a nested machine's
``trigger_event`` sends one ``transition_completed`` per trigger, however many
parallel regions moved; an async machine's ``process_context`` gathers receiver
errors per asyncio task.
"""

from __future__ import annotations

import asyncio
import collections.abc as c
import functools
import inspect
import logging
import typing as t
from collections import deque
from contextvars import ContextVar, Token
from enum import Enum

from transitions.core import (
    Condition,
    Event,
    EventData,
    Machine,
    MachineError,
    State,
    Transition,
)
from transitions.extensions.asyncio import AsyncMachine
from transitions.extensions.locking import LockedMachine
from transitions.extensions.nesting import HierarchicalMachine

from .errors import GuardCallError, ReceiverError, StateAttributeError, WorkflowDefinitionError
from .receivers import WorkflowSignal, class_listens, class_signals, class_targets, listened
from .signals import (
    state_entered,
    state_exited,
    transition_completed,
    transition_denied,
    transition_failed,
)

ReceiverErrorPolicy = t.Literal["raise", "log"]
"""What happens to receiver exceptions once a trigger finished: raise them as one
:class:`~statesignals.ReceiverError`, or log each on the ``statesignals`` logger."""

RECEIVER_ERROR_POLICIES: tuple[ReceiverErrorPolicy, ...] = ("raise", "log")

_LOGGER = logging.getLogger("statesignals")


def log_receiver_errors(errors: c.Iterable[BaseException]) -> None:
    """Log each receiver error, with its traceback, on the ``statesignals`` logger."""
    for error in errors:
        _LOGGER.error("receiver raised %r", error, exc_info=error)


class PendingReceiverErrors(list[BaseException]):
    """The receiver errors of the trigger being processed, raised when it returns.

    It also holds what a receiver raised that is not an error (KeyboardInterrupt,
    SystemExit, GeneratorExit): the transition finishes first, so the model is
    never left between two states, then the first of them is raised as it is.

    Entering it makes it the current collection; if the block raises, the errors
    gathered so far are logged (and noted on the exception) instead of being lost.
    ``owner`` is the asyncio task that opened it (None in synchronous code): a task
    created inside a trigger inherits the context variable, but its triggers must
    surface their own errors, not add to a list the creating trigger may already
    have raised.
    """

    __slots__ = ("_token", "owner")

    owner: object
    _token: Token[PendingReceiverErrors | None]

    def __enter__(self) -> PendingReceiverErrors:
        self._token = _pending_receiver_errors.set(self)
        return self

    def __exit__(self, kind: object, error: BaseException | None, traceback: object) -> None:
        _pending_receiver_errors.reset(self._token)
        if error is not None:
            self.log_beside(error)

    def log_beside(self, error: BaseException) -> None:
        """Log the gathered errors, noting on ``error`` (which wins) that they were."""
        if self:
            log_receiver_errors(self)
            error.add_note(
                f"{len(self)} receiver error(s) of the same trigger were logged "
                "on the 'statesignals' logger"
            )


# Receiver errors of the trigger being processed in this context (None outside
# any trigger). Triggers fired from inside callbacks or receivers add to the
# outermost trigger's list, so a receiver's error never interrupts a transition.
_pending_receiver_errors: ContextVar[PendingReceiverErrors | None] = ContextVar(
    "statesignals_pending_receiver_errors", default=None
)


def _current_task() -> object:
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None


if t.TYPE_CHECKING:
    _MachineBase = Machine
else:
    _MachineBase = object


def state_name(state: State | str | Enum | None) -> str:
    """The name a payload, a diagram or a test uses for ``state``: Enum members by their
    ``name``, anything else as text."""
    if isinstance(state, (State, Enum)):
        return state.name
    return state if isinstance(state, str) else str(state)


def model_state_name(value: t.Any) -> str:
    """The name of a model's state attribute; parallel states joined by ``", "``."""
    if isinstance(value, list):
        return ", ".join(model_state_name(item) for item in value)
    return state_name(value)


def condition_label(condition: Condition) -> str:
    """How a guard is named in ``failed_conditions``: ``is_funded``, ``not is_blocked``."""
    func = condition.func
    name = func if isinstance(func, str) else getattr(func, "__qualname__", repr(func))
    return name if condition.target else f"not {name}"


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


class SignalingState(State):
    """A state that sends ``state_exited`` and ``state_entered``."""

    _next_enter: t.Callable[[EventData], None]
    _next_exit: t.Callable[[EventData], None]

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        bind_next_methods(cls, SignalingState, "enter", "exit")

    def enter(self, event_data: EventData) -> None:
        self._next_enter(event_data)
        if state_entered.receivers or (
            class_signals and class_listens(type(event_data.model), state_entered.name)
        ):
            event_data.machine._send_state_signal(state_entered, self, event_data)

    def exit(self, event_data: EventData) -> None:
        self._next_exit(event_data)
        if state_exited.receivers or (
            class_signals and class_listens(type(event_data.model), state_exited.name)
        ):
            event_data.machine._send_state_signal(state_exited, self, event_data)


bind_next_methods(SignalingState, SignalingState, "enter", "exit")


class SignalingCondition(Condition):
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


class SignalingTransition(Transition):
    """A transition whose guards report which of them refused."""

    condition_cls = SignalingCondition


class SignalingEvent(Event):
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
                class_signals
                and class_listens(
                    type(event_data.model), transition_completed.name, event_data.event.name
                )
            )
        ):
            event_data.machine._send_completed(event_data)
        return result

    def _trigger(self, event_data: EventData) -> bool:
        # Reporting is skipped when no signal has a receiver: it would send nothing.
        try:
            result = self._next__trigger(event_data)
        except BaseException:
            if event_data.error is not None and WorkflowSignal.connected:
                event_data.machine._report_unsuccessful(event_data)
            raise
        if WorkflowSignal.connected:
            if not result:
                event_data.machine._report_unsuccessful(event_data)
            else:
                event_data.machine._check_state_kept(event_data)
        return result


bind_next_methods(SignalingEvent, SignalingEvent, "_process", "_trigger")


_CT = t.TypeVar("_CT", bound=type)
_R = t.TypeVar("_R")


@functools.cache
def signaling_variants() -> dict[type, type]:
    """The signaling class written for each ``transitions`` state, transition,
    condition and event class (a subclass of one gets the variant of its nearest
    ancestor here).

    Static classes, so that pickle finds them by module and name.
    """
    from . import asynchronous, graph_machines, locking, nesting

    return {
        **asynchronous.SIGNALING_VARIANTS,
        **graph_machines.SIGNALING_VARIANTS,
        **locking.SIGNALING_VARIANTS,
        **nesting.SIGNALING_VARIANTS,
        State: SignalingState,
        Condition: SignalingCondition,
        Transition: SignalingTransition,
        Event: SignalingEvent,
    }


def signaling_class(machine_cls: type, base: _CT, signaling: type) -> _CT:
    """``base`` with the signaling behaviour written for it (or its nearest
    ``transitions`` ancestor) added in front.

    The static class itself when ``base`` is a ``transitions`` class; otherwise
    a new subclass, named so that pickle finds it as an attribute of ``machine_cls``.
    ``signaling`` is the fallback for a ``base`` outside ``transitions``' hierarchy.
    """
    variants = signaling_variants()
    if issubclass(base, signaling) or any(issubclass(base, v) for v in variants.values()):
        return base
    ancestor = next((klass for klass in base.__mro__ if klass in variants), None)
    if ancestor is base:
        return t.cast(_CT, variants[base])
    if ancestor is not None:
        signaling = variants[ancestor]
    attributes: dict[str, t.Any] = {"__module__": machine_cls.__module__}
    if issubclass(base, Transition):
        attributes["condition_cls"] = signaling_class(
            machine_cls, base.condition_cls, SignalingCondition
        )
    variant = type(f"Signaling{base.__name__}", (signaling, base), attributes)
    slot = next(
        (
            name
            for kind, name in (
                (State, "state_cls"),
                (Transition, "transition_cls"),
                (Event, "event_cls"),
            )
            if issubclass(base, kind)
        ),
        None,
    )
    if slot is not None:
        variant.__qualname__ = f"{machine_cls.__qualname__}.{slot}"
    return t.cast(_CT, variant)


class SignalingMixin(_MachineBase):
    """Makes a ``transitions`` machine class send the workflow signals.

    Put it first among the bases: ``class M(SignalingMixin, Machine)``; any
    ``transitions`` machine class works (nested, async, locked, graph, markup and
    their combinations). It adds one keyword argument, ``receiver_errors``
    (``"raise"``, the default, or ``"log"``), saying what happens when receivers raise.
    """

    receiver_errors: ReceiverErrorPolicy
    _next__process: t.Callable[[t.Callable[[], bool]], bool]

    _asynchronous: t.ClassVar[bool] = False
    """Whether states, events and triggers are coroutines (an ``AsyncMachine``)."""
    _nested: t.ClassVar[bool] = False
    """Whether triggers run through ``HierarchicalMachine.trigger_event``."""
    _locked: t.ClassVar[bool] = False
    """Whether the machine is a ``LockedMachine``."""

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        bind_next_methods(cls, SignalingMixin, "_process")
        cls.state_cls = signaling_class(cls, cls.state_cls, SignalingState)
        cls.transition_cls = signaling_class(cls, cls.transition_cls, SignalingTransition)
        cls.event_cls = signaling_class(cls, cls.event_cls, SignalingEvent)
        cls._asynchronous = issubclass(cls, AsyncMachine)
        cls._nested = issubclass(cls, HierarchicalMachine)
        cls._locked = issubclass(cls, LockedMachine)

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
        if self._locked:
            from .locking import prepare_locked_machine

            prepare_locked_machine(self)

    # Receiver errors are raised only when the outermost trigger returns.

    def _process(self, trigger: t.Callable[[], bool]) -> bool:
        if not WorkflowSignal.connected or _pending_receiver_errors.get() is not None:
            return self._next__process(trigger)
        # The outermost trigger, written out rather than through _outermost(): it
        # runs on every trigger while any receiver is connected.
        pending = PendingReceiverErrors()
        pending.owner = None
        token = _pending_receiver_errors.set(pending)
        try:
            result = self._next__process(trigger)
        except BaseException as error:
            pending.log_beside(error)
            raise
        finally:
            _pending_receiver_errors.reset(token)
        if pending:
            self._surface_receiver_errors(pending)
        return result

    def _outermost(self, run: t.Callable[[], _R]) -> _R:
        """Run the outermost trigger; then raise (or log) what its receivers raised."""
        if not WorkflowSignal.connected or _pending_receiver_errors.get() is not None:
            return run()
        with self._receiver_error_scope() as pending:
            result = run()
        if pending:
            self._surface_receiver_errors(pending)
        return result

    def process_context(
        self, func: t.Callable[[], t.Any], model: object
    ) -> c.Coroutine[t.Any, t.Any, bool]:
        """``AsyncMachine.process_context`` in a receiver-error scope of its own task.

        Returns the coroutine to await (no extra coroutine while nobody listens).
        """
        upstream: t.Any = super()
        if not WorkflowSignal.connected:
            return t.cast(c.Coroutine[t.Any, t.Any, bool], upstream.process_context(func, model))
        pending = _pending_receiver_errors.get()
        if pending is not None and pending.owner is _current_task():
            return t.cast(c.Coroutine[t.Any, t.Any, bool], upstream.process_context(func, model))
        return self._process_outermost_context(upstream, func, model)

    async def _process_outermost_context(
        self, upstream: t.Any, func: t.Callable[[], t.Any], model: object
    ) -> bool:
        with self._receiver_error_scope() as pending:
            result = t.cast(bool, await upstream.process_context(func, model))
        if pending:
            self._surface_receiver_errors(pending)
        return result

    def _process_async(
        self, trigger: t.Callable[[], t.Any], model: object
    ) -> c.Coroutine[t.Any, t.Any, bool]:
        """``AsyncMachine._process_async``, also for models the machine does not hold.

        With ``queued="model"`` transitions keeps a queue per added model;
        instances of a :class:`~statesignals.SignalingMachine` are never added, so
        each gets a queue while it has events to process.
        """
        upstream: t.Any = super()
        machine: t.Any = self
        if machine.has_queue != "model" or id(model) in machine._transition_queue_dict:
            return t.cast(c.Coroutine[t.Any, t.Any, bool], upstream._process_async(trigger, model))
        return self._process_with_own_queue(upstream, trigger, model)

    async def _process_with_own_queue(
        self, upstream: t.Any, trigger: t.Callable[[], t.Any], model: object
    ) -> bool:
        queues: dict[int, deque[t.Any]] = t.cast(t.Any, self)._transition_queue_dict
        queues[id(model)] = deque()
        try:
            return t.cast(bool, await upstream._process_async(trigger, model))
        finally:
            if not queues.get(id(model)):
                queues.pop(id(model), None)

    def _receiver_error_scope(self) -> PendingReceiverErrors:
        """A new collection for the receiver errors of the trigger about to run."""
        pending = PendingReceiverErrors()
        pending.owner = _current_task() if self._asynchronous else None
        return pending

    def _defer_receiver_errors(self, errors: t.Sequence[Exception]) -> None:
        pending = _pending_receiver_errors.get()
        if pending is not None and (not self._asynchronous or pending.owner is _current_task()):
            pending.extend(errors)
        else:
            # Outside the processing of a trigger (or in one that began before any
            # receiver was connected) raising could interrupt a transition: log.
            log_receiver_errors(list(errors))

    def _hold_interrupt(self, interrupt: BaseException) -> bool:
        """Keep ``interrupt`` (raised by a receiver) until the outermost trigger returns.

        False outside the processing of a trigger: there is nothing to finish first.
        """
        pending = _pending_receiver_errors.get()
        if pending is None or (self._asynchronous and pending.owner is not _current_task()):
            return False
        pending.append(interrupt)
        return True

    def _surface_receiver_errors(self, errors: list[BaseException]) -> None:
        failures = [error for error in errors if isinstance(error, Exception)]
        if len(failures) < len(errors):
            interrupt = next(error for error in errors if not isinstance(error, Exception))
            if failures:
                log_receiver_errors(failures)
                interrupt.add_note(
                    f"{len(failures)} receiver error(s) of the same trigger were logged "
                    "on the 'statesignals' logger"
                )
            raise interrupt
        if self.receiver_errors == "log":
            log_receiver_errors(failures)
            return
        count = "1 receiver" if len(failures) == 1 else f"{len(failures)} receivers"
        raise ReceiverError(f"{count} raised while a trigger was processed", failures)

    def _check_state_kept(self, event_data: EventData, restore: bool = True) -> None:
        """Raise :class:`StateAttributeError` if the trigger left the model without its
        state attribute, setting it back first (``restore``) to the transition's dest.

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
        where = (
            f"{type(model).__qualname__}.{event_data.event.name} "
            f"({transition.source} -> {transition.dest})"
        )
        if restore:
            self.set_state(transition.dest, model)
            outcome = f"it is set back to {transition.dest!r}"
        else:
            outcome = f"the model now reads {getattr(model, attribute, None)!r}"
        raise StateAttributeError(
            f"{where}: the model's {attribute!r} attribute was deleted while the trigger "
            f"ran (by a receiver or a callback); {outcome}"
        )

    # Nested machines: HierarchicalMachine fires a trigger through trigger_event,
    # which visits every (parallel) region; one trigger sends one outcome.

    def _trigger_event(self, event_data: EventData, trigger: str) -> t.Any:
        upstream: t.Any = super()
        if self._asynchronous:
            return self._trigger_event_async(upstream, event_data, trigger)
        try:
            result = upstream._trigger_event(event_data, trigger)
        except BaseException:
            if event_data.error is not None:
                self._report_unsuccessful_nested(event_data, trigger)
            raise
        if not result:
            self._report_unsuccessful_nested(event_data, trigger)
        elif WorkflowSignal.connected:
            self._check_state_kept(event_data, restore=False)
        return result

    async def _trigger_event_async(
        self, upstream: t.Any, event_data: EventData, trigger: str
    ) -> t.Any:
        try:
            result = await upstream._trigger_event(event_data, trigger)
        except BaseException:
            if event_data.error is not None:
                await self._report_unsuccessful_nested_async(event_data, trigger)
            raise
        if not result:
            await self._report_unsuccessful_nested_async(event_data, trigger)
        return result

    def _trigger_event_nested(
        self, event_data: EventData, trigger: str, _state_tree: dict[str, t.Any] | None
    ) -> t.Any:
        upstream: t.Any = super()
        if self._asynchronous:
            return self._trigger_event_nested_async(upstream, event_data, trigger, _state_tree)
        result = upstream._trigger_event_nested(event_data, trigger, _state_tree)
        if _state_tree is None:
            # The outermost call: every region has been visited, finalize_event is next.
            event_data.regions_result = result  # type: ignore[attr-defined]
            if result and listened(transition_completed, event_data.model, trigger):
                self._send_completed(event_data)
        return result

    async def _trigger_event_nested_async(
        self,
        upstream: t.Any,
        event_data: EventData,
        trigger: str,
        _state_tree: dict[str, t.Any] | None,
    ) -> t.Any:
        result = await upstream._trigger_event_nested(event_data, trigger, _state_tree)
        if _state_tree is None:
            event_data.regions_result = result  # type: ignore[attr-defined]
            if result and listened(transition_completed, event_data.model, trigger):
                await self._send_completed_async(event_data)
        return result

    # Sending.

    def _nested_names(self, event_data: EventData, signal: WorkflowSignal) -> tuple[str, str]:
        """Full source and dest names for a signal of a nested machine."""
        if signal is transition_denied:
            # The model did not move; name the state(s) it is in.
            here = model_state_name(getattr(event_data.model, self.model_attribute))
            return here, here
        # Sent after every region ran: the names recorded in the first region.
        recorded = getattr(event_data, "transition_names", None)
        if recorded is not None and signal is transition_completed:
            return t.cast(tuple[str, str], recorded)
        if event_data.transition is not None:
            return self._qualified_names(event_data.transition)
        here = state_name(event_data.state)
        return here, here

    def _qualified_names(self, transition: Transition) -> tuple[str, str]:
        """Full names of a nested transition's source and dest, from the scope it runs in.

        Sources are local to the scope; a dest is local when its first part is a
        state of the scope and global otherwise, as ``NestedTransition`` resolves it.
        """
        prefix: list[str] = getattr(self, "prefix_path", [])
        source, dest = transition.source, transition.dest
        if not prefix:
            return source, source if dest is None else dest
        separator = self.state_cls.separator  # type: ignore[attr-defined]
        scope = separator.join(prefix)
        full_source = f"{scope}{separator}{source}"
        if dest is None:
            return full_source, full_source
        local = dest.split(separator, 1)[0] in self.states
        return full_source, f"{scope}{separator}{dest}" if local else dest

    def _payload(self, event_data: EventData, signal: WorkflowSignal) -> dict[str, t.Any]:
        transition = event_data.transition
        if self._nested:
            source, dest = self._nested_names(event_data, signal)
        elif transition is None:
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

    def _send(
        self, signal: WorkflowSignal, name: str, event_data: EventData, **extra: t.Any
    ) -> None:
        model = event_data.model
        # class_signals stays empty until a per-class receiver is connected.
        targeted = class_targets(type(model), signal.name, name) if class_signals else None
        if not (signal.receivers or targeted):
            return
        payload = self._payload(event_data, signal)
        payload.update(extra)
        if signal.receivers:
            self._deliver(signal, model, payload)
        for class_signal in targeted or ():
            self._deliver(class_signal, model, payload)

    async def _send_async(
        self, signal: WorkflowSignal, name: str, event_data: EventData, **extra: t.Any
    ) -> None:
        model = event_data.model
        targeted = class_targets(type(model), signal.name, name) if class_signals else None
        if not (signal.receivers or targeted):
            return
        payload = self._payload(event_data, signal)
        payload.update(extra)
        for each in (signal, *(targeted or ())):
            try:
                await each.send_async(model, **payload)
            except ReceiverError as group:
                self._defer_from(each, model, payload, group)
            except BaseException as interrupt:
                # The task's own cancellation goes on at once, as transitions expects.
                if isinstance(interrupt, (Exception, asyncio.CancelledError)):
                    raise
                if not self._hold_interrupt(interrupt):
                    raise

    def _deliver(self, signal: WorkflowSignal, model: object, payload: dict[str, t.Any]) -> None:
        try:
            signal.send_payload(model, payload)
        except ReceiverError as group:
            self._defer_from(signal, model, payload, group)
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

    def _send_state_signal(
        self, signal: WorkflowSignal, state: State, event_data: EventData
    ) -> None:
        name = state_name(state)
        self._send(signal, name, event_data, state=name)

    async def _send_state_signal_async(
        self, signal: WorkflowSignal, state: State, event_data: EventData
    ) -> None:
        name = state_name(state)
        await self._send_async(signal, name, event_data, state=name)

    def _send_completed(self, event_data: EventData) -> None:
        transition = event_data.transition
        internal = transition is not None and transition.dest is None
        self._send(transition_completed, event_data.event.name, event_data, internal=internal)

    async def _send_completed_async(self, event_data: EventData) -> None:
        transition = event_data.transition
        internal = transition is not None and transition.dest is None
        await self._send_async(
            transition_completed, event_data.event.name, event_data, internal=internal
        )

    def _unsuccessful(self, event_data: EventData) -> tuple[WorkflowSignal, dict[str, t.Any]]:
        """Which signal reports an unsuccessful flat trigger, and its extra payload."""
        error = event_data.error
        trigger = event_data.event.name
        state = event_data.state
        invalid = state is not None and state.name not in event_data.event.transitions
        if invalid and isinstance(error, MachineError):
            # Raised by transitions' source check: nothing else runs for an invalid source.
            return transition_denied, _denial("invalid_trigger", [], error)
        if error is not None:
            return transition_failed, {"error": error}
        if refused := getattr(event_data, "failed_conditions", None):
            return transition_denied, _denial("conditions", list(refused), None)
        # ignore_invalid_triggers swallowed the error: hand receivers the one
        # transitions would have raised.
        message = f"{self.name}Can't trigger event {trigger} from state {state_name(state)}!"
        return transition_denied, _denial("invalid_trigger", [], MachineError(message))

    def _report_unsuccessful(self, event_data: EventData) -> None:
        """Send ``transition_denied`` or ``transition_failed`` for an unsuccessful trigger."""
        signal, extra = self._unsuccessful(event_data)
        self._send(signal, event_data.event.name, event_data, **extra)

    async def _report_unsuccessful_async(self, event_data: EventData) -> None:
        signal, extra = self._unsuccessful(event_data)
        await self._send_async(signal, event_data.event.name, event_data, **extra)

    def _unsuccessful_nested(
        self, event_data: EventData, trigger: str
    ) -> tuple[WorkflowSignal, dict[str, t.Any]] | None:
        """As :meth:`_unsuccessful`, for a trigger fired through ``trigger_event``.

        None for a trigger name that no state of the machine knows: a flat machine
        raises AttributeError for it before any event runs, and sends nothing either.
        """
        error = event_data.error
        if isinstance(error, asyncio.CancelledError):
            return None
        if getattr(event_data, "regions_result", False) is None:
            if not t.cast(t.Any, self).has_trigger(trigger):
                return None
            if not isinstance(error, MachineError):
                here = getattr(event_data.model, self.model_attribute)
                error = MachineError(
                    f"{self.name}Can't trigger event '{trigger}' from state(s) {here}!"
                )
            return transition_denied, _denial("invalid_trigger", [], error)
        if error is not None:
            return transition_failed, {"error": error}
        refused = getattr(event_data, "failed_conditions", None) or []
        return transition_denied, _denial("conditions", list(refused), None)

    def _report_unsuccessful_nested(self, event_data: EventData, trigger: str) -> None:
        found = self._unsuccessful_nested(event_data, trigger)
        if found is not None:
            event_data.event = self._named_event(event_data, trigger)
            self._send(found[0], trigger, event_data, **found[1])

    async def _report_unsuccessful_nested_async(self, event_data: EventData, trigger: str) -> None:
        found = self._unsuccessful_nested(event_data, trigger)
        if found is not None:
            event_data.event = self._named_event(event_data, trigger)
            await self._send_async(found[0], trigger, event_data, **found[1])

    def _named_event(self, event_data: EventData, trigger: str) -> Event:
        # A trigger that no region accepted leaves event_data.event unset.
        event = event_data.event
        return event if event is not None else Event(trigger, t.cast(Machine, self))


def _denial(
    reason: str, failed_conditions: list[str], error: MachineError | None
) -> dict[str, t.Any]:
    return {"reason": reason, "failed_conditions": failed_conditions, "error": error}


class SignalingCoreMachine(SignalingMixin, Machine):
    """``transitions.Machine`` with the workflow signals."""


__all__ = [
    "RECEIVER_ERROR_POLICIES",
    "PendingReceiverErrors",
    "ReceiverErrorPolicy",
    "SignalingCondition",
    "SignalingCoreMachine",
    "SignalingEvent",
    "SignalingMixin",
    "SignalingState",
    "SignalingTransition",
    "bind_next_methods",
    "condition_label",
    "model_state_name",
    "raise_if_guard_call_failed",
    "record_refusal",
    "signaling_class",
    "signaling_variants",
    "state_name",
]

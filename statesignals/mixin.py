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
"""

from __future__ import annotations

import logging
import typing as t
from contextvars import ContextVar
from enum import Enum

from transitions.core import Condition, Event, EventData, Machine, MachineError, State, Transition

from .errors import ReceiverError, WorkflowDefinitionError
from .receivers import WorkflowSignal, class_listens, class_signals, dispatch_table
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

# Receiver errors of the trigger being processed in this context (None outside
# any trigger). Triggers fired from inside callbacks or receivers add to the
# outermost trigger's list, so a receiver's error never interrupts a transition.
_pending_receiver_errors: ContextVar[list[Exception] | None] = ContextVar(
    "statesignals_pending_receiver_errors", default=None
)

if t.TYPE_CHECKING:
    _MachineBase = Machine
else:
    _MachineBase = object


def state_name(state: State | str | Enum) -> str:
    """The name a payload uses for ``state``: Enum members by their ``name``."""
    if isinstance(state, State):
        return state.name
    if isinstance(state, Enum):
        return state.name
    return state


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
        if self._next_check(event_data):
            return True
        refused: list[str] | None = getattr(event_data, "failed_conditions", None)
        if refused is None:
            refused = []
            event_data.failed_conditions = refused  # type: ignore[attr-defined]
        refused.append(condition_label(self))
        return False


bind_next_methods(SignalingCondition, SignalingCondition, "check")


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
        if not result and WorkflowSignal.connected:
            event_data.machine._report_unsuccessful(event_data)
        return result


bind_next_methods(SignalingEvent, SignalingEvent, "_process", "_trigger")


_CT = t.TypeVar("_CT", bound=type)


def signaling_class(machine_cls: type, base: _CT, signaling: type) -> _CT:
    """``base`` with ``signaling``'s behaviour added in front of it.

    ``signaling`` itself when ``base`` is what it was written for; otherwise a
    new subclass, named so that pickle finds it as an attribute of ``machine_cls``.
    """
    if issubclass(base, signaling):
        return base
    if base in signaling.__bases__:
        return t.cast(_CT, signaling)
    attributes: dict[str, t.Any] = {"__module__": machine_cls.__module__}
    if issubclass(base, Transition):
        attributes["condition_cls"] = signaling_class(
            machine_cls, base.condition_cls, SignalingCondition
        )
    variant = type(f"Signaling{base.__name__}", (signaling, base), attributes)
    slot = {State: "state_cls", Transition: "transition_cls", Event: "event_cls"}.get(
        signaling.__bases__[0]
    )
    if slot is not None:
        variant.__qualname__ = f"{machine_cls.__qualname__}.{slot}"
    return t.cast(_CT, variant)


class SignalingMixin(_MachineBase):
    """Makes a ``transitions`` machine class send the workflow signals.

    Put it first among the bases: ``class M(SignalingMixin, Machine)``. It adds
    one keyword argument, ``receiver_errors`` (``"raise"``, the default, or
    ``"log"``), saying what happens when receivers raise.
    """

    receiver_errors: ReceiverErrorPolicy
    _next__process: t.Callable[[t.Callable[[], bool]], bool]

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        bind_next_methods(cls, SignalingMixin, "_process")
        cls.state_cls = signaling_class(cls, cls.state_cls, SignalingState)
        cls.transition_cls = signaling_class(cls, cls.transition_cls, SignalingTransition)
        cls.event_cls = signaling_class(cls, cls.event_cls, SignalingEvent)

    def __init__(
        self, *args: t.Any, receiver_errors: ReceiverErrorPolicy = "raise", **kwargs: t.Any
    ) -> None:
        if receiver_errors not in RECEIVER_ERROR_POLICIES:
            raise WorkflowDefinitionError(
                f"{type(self).__qualname__}: receiver_errors must be 'raise' or 'log', "
                f"not {receiver_errors!r}"
            )
        self.receiver_errors = receiver_errors
        super().__init__(*args, **kwargs)

    # Receiver errors are raised only when the outermost trigger returns.

    def _process(self, trigger: t.Callable[[], bool]) -> bool:
        if not WorkflowSignal.connected or _pending_receiver_errors.get() is not None:
            return self._next__process(trigger)
        pending: list[Exception] = []
        token = _pending_receiver_errors.set(pending)
        try:
            result = self._next__process(trigger)
        except BaseException as error:
            if pending:
                self._log_receiver_errors(pending)
                error.add_note(
                    f"{len(pending)} receiver error(s) of the same trigger were logged "
                    "on the 'statesignals' logger"
                )
            raise
        finally:
            _pending_receiver_errors.reset(token)
        if pending:
            self._surface_receiver_errors(pending)
        return result

    def _defer_receiver_errors(self, errors: t.Sequence[Exception]) -> None:
        pending = _pending_receiver_errors.get()
        if pending is not None:
            pending.extend(errors)
        else:
            # Outside the processing of a trigger (or in one that began before any
            # receiver was connected) raising could interrupt a transition: log.
            self._log_receiver_errors(list(errors))

    def _surface_receiver_errors(self, errors: list[Exception]) -> None:
        if self.receiver_errors == "log":
            self._log_receiver_errors(errors)
            return
        count = "1 receiver" if len(errors) == 1 else f"{len(errors)} receivers"
        raise ReceiverError(f"{count} raised while a trigger was processed", errors)

    def _log_receiver_errors(self, errors: list[Exception]) -> None:
        for error in errors:
            _LOGGER.error("receiver raised %r", error, exc_info=error)

    # Sending.

    def _payload(self, event_data: EventData, moved: bool) -> dict[str, t.Any]:
        transition = event_data.transition
        if transition is None:
            source = dest = state_name(event_data.state)
        else:
            source = transition.source
            dest = transition.dest if moved and transition.dest is not None else source
        return {
            "trigger": event_data.event.name,
            "source": source,
            "dest": dest,
            "model": event_data.model,
            "machine": self,
            "event_data": event_data,
        }

    def _send(
        self, signal: WorkflowSignal, name: str, event_data: EventData, **extra: t.Any
    ) -> None:
        model = event_data.model
        # class_signals stays empty until a per-class receiver is connected.
        targeted = dispatch_table(type(model)).get((signal.name, name)) if class_signals else None
        if not (signal.receivers or targeted):
            return
        payload = self._payload(event_data, moved=signal is not transition_denied)
        payload.update(extra)
        if signal.receivers:
            self._deliver(signal, model, payload)
        for class_signal in targeted or ():
            self._deliver(class_signal, model, payload)

    def _deliver(self, signal: WorkflowSignal, model: object, payload: dict[str, t.Any]) -> None:
        try:
            signal.send_payload(model, payload)
        except ReceiverError as group:
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

    def _send_completed(self, event_data: EventData) -> None:
        transition = event_data.transition
        internal = transition is not None and transition.dest is None
        self._send(transition_completed, event_data.event.name, event_data, internal=internal)

    def _report_unsuccessful(self, event_data: EventData) -> None:
        """Send ``transition_denied`` or ``transition_failed`` for an unsuccessful trigger."""
        error = event_data.error
        trigger = event_data.event.name
        state = event_data.state
        invalid = state is not None and state.name not in event_data.event.transitions
        if invalid and isinstance(error, MachineError):
            # Raised by transitions' source check: nothing else runs for an invalid source.
            self._send_denied(event_data, "invalid_trigger", [], error)
        elif error is not None:
            self._send(transition_failed, trigger, event_data, error=error)
        elif refused := getattr(event_data, "failed_conditions", None):
            self._send_denied(event_data, "conditions", list(refused), None)
        else:
            # ignore_invalid_triggers swallowed the error: hand receivers the one
            # transitions would have raised.
            message = f"{self.name}Can't trigger event {trigger} from state {state_name(state)}!"
            self._send_denied(event_data, "invalid_trigger", [], MachineError(message))

    def _send_denied(
        self,
        event_data: EventData,
        reason: str,
        failed_conditions: list[str],
        error: MachineError | None,
    ) -> None:
        self._send(
            transition_denied,
            event_data.event.name,
            event_data,
            reason=reason,
            failed_conditions=failed_conditions,
            error=error,
        )


class SignalingCoreMachine(SignalingMixin, Machine):
    """``transitions.Machine`` with the workflow signals."""


__all__ = [
    "RECEIVER_ERROR_POLICIES",
    "ReceiverErrorPolicy",
    "SignalingCondition",
    "SignalingCoreMachine",
    "SignalingEvent",
    "SignalingMixin",
    "SignalingState",
    "SignalingTransition",
    "bind_next_methods",
    "condition_label",
    "signaling_class",
    "state_name",
]

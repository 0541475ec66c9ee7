"""Signals for ``transitions.extensions.nesting`` (``HierarchicalMachine``).

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

from transitions.core import Event, EventData, Machine, MachineError, State, Transition
from transitions.extensions.nesting import (
    NestedEvent,
    NestedEventData,
    NestedState,
    NestedTransition,
)

from ..dispatch import WorkflowSignal
from ..naming import model_state_name, state_name
from ..routes import listened, listens, routed
from ..signals import (
    state_entered,
    state_exited,
    transition_completed,
    transition_denied,
    transition_failed,
)
from .core import (
    CoreMachineHooks,
    ReprAsUpstream,
    SignalingState,
    SignalingTransition,
    bind_next_methods,
    denial,
    error_dismissed,
    raised,
)
from .history import Entering, settle, this_thread
from .protocol import SignalingMachineProtocol


def hold_exit(state: State, event_data: EventData) -> bool:
    """Keep ``state``'s ``state_exited`` for the transition leaving it to send once the
    model's state is set (:class:`PlansEntering`); False outside such a transition."""
    held: list[str] | None = getattr(event_data, "held_exits", None)
    if held is None:
        return False
    held.append(state_name(state))
    return True


class SignalingNestedState(SignalingState, NestedState):
    """A nested state that sends ``state_exited`` and ``state_entered`` with its full name.

    In a transition, ``state_exited`` waits until the model's state is set
    (:class:`PlansEntering`): ``transitions`` leaves the model's state as it was when a
    parent's ``on_exit`` raises after its children were left.
    """

    def exit(self, event_data: EventData) -> None:
        self._next_exit(event_data)
        if state_exited.receivers or (
            state_exited.name in routed and listens(type(event_data.model), state_exited.name)
        ):
            if hold_exit(self, event_data):
                return
            machine: SignalingMachineProtocol = event_data.machine
            machine._send_state_signal(state_exited, self, event_data)


class PlansEntering(NestedTransition):
    """Sends the states left once all were left, and notes, when the model's state is
    set, the state it set and every state the transition will enter.

    ``transitions`` runs every ``on_exit`` of a nested transition before it sets the
    model's state, and keeps the state when one of them raises or the state cannot be
    set (a trigger fired while a parent is entered runs in the parent's scope): the
    ``state_exited`` signals are held until the model's state is set, so that none is
    sent for a state the model did not leave.

    A nested transition enters the states one level at a time, outermost first; a
    trigger fired from a parent's ``on_enter`` runs before the children are entered,
    although the model is in them already. Entered states noted here are signalled
    before that trigger's signals (:mod:`statesignals.bridge.history`).
    """

    _next__resolve_transition: t.Callable[[EventData], t.Any]

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        bind_next_methods(cls, PlansEntering, "_resolve_transition")

    def _resolve_transition(self, event_data: EventData) -> t.Any:
        tree, exits, enters = self._next__resolve_transition(event_data)
        if state_entered.receivers or state_entered.name in routed:
            event_data.planned_enters = enters  # type: ignore[attr-defined]
        if exits and (
            state_exited.receivers
            or (state_exited.name in routed and listens(type(event_data.model), state_exited.name))
        ):
            event_data.held_exits = []  # type: ignore[attr-defined]
            # Run once the model's state is set, before the first on_enter.
            enters = [functools.partial(self._release_exits, event_data), *enters]
        return tree, exits, enters

    def _release_exits(self, event_data: EventData) -> None:
        """Send the ``state_exited`` signals held while the transition left its states."""
        held: list[str] = vars(event_data).pop("held_exits", [])
        machine: SignalingMachineProtocol = event_data.machine
        for name in held:
            machine._send(state_exited, name, event_data, {"state": name})

    def _update_model(self, event_data: EventData, tree: t.Any) -> None:  # type: ignore[override]
        NestedTransition._update_model(event_data, tree)  # type: ignore[arg-type]
        if WorkflowSignal.connected:
            # What a receiver that deletes the model's state attribute gets back: the
            # dest may be a compound state, whose initial children were entered
            # (NestedMachineHooks._nested_reached_state).
            model_attribute = event_data.machine.model_attribute
            event_data.reached_state = getattr(event_data.model, model_attribute)  # type: ignore[attr-defined]
        enters = vars(event_data).pop("planned_enters", None)
        if enters and listened(state_entered, event_data.model, None):
            machine: SignalingMachineProtocol = event_data.machine
            machine._plan_entering(event_data, self, enters)


bind_next_methods(PlansEntering, PlansEntering, "_resolve_transition")


class SignalingNestedTransition(SignalingTransition, PlansEntering):
    """A nested transition; also reports ``HierarchicalMachine.to_state`` moves."""

    _next_execute: t.Callable[[EventData], bool]

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        bind_next_methods(cls, SignalingNestedTransition, "execute")

    def execute(self, event_data: EventData) -> bool:
        if isinstance(event_data.event, NestedEvent):
            return self._next_execute(event_data)
        # HierarchicalMachine.to_state runs a transition outside any event: it is
        # the outermost trigger, and nothing else reports its completion.
        event_data.transition = self
        machine: SignalingMachineProtocol = event_data.machine
        return machine._outermost(functools.partial(self._move, event_data))

    def _move(self, event_data: EventData) -> bool:
        machine: SignalingMachineProtocol = event_data.machine
        try:
            result = self._next_execute(event_data)
        finally:
            machine._send_planned(event_data)
        if result and listened(transition_completed, event_data.model, event_data.event.name):
            machine._send_completed(event_data)
        return result


bind_next_methods(SignalingNestedTransition, SignalingNestedTransition, "execute")


def record_transition_names(event_data: EventData) -> None:
    """Keep the full source and dest names of the first region's transition, for the
    signals sent once every region ran (called while any receiver is connected).

    The machine is still scoped to the region here; by the time
    ``transition_completed`` is sent it is back at the root.
    """
    if event_data.result and not hasattr(event_data, "transition_names"):
        machine: SignalingMachineProtocol = event_data.machine
        names = machine._qualified_names(t.cast(Transition, event_data.transition))
        event_data.transition_names = names  # type: ignore[attr-defined]


class SignalingNestedEvent(ReprAsUpstream, NestedEvent):
    """A nested event that records the transition it made in each region."""

    _next__process: t.Callable[[NestedEventData], t.Any]

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        bind_next_methods(cls, SignalingNestedEvent, "_process")

    def _process(self, event_data: NestedEventData) -> t.Any:  # type: ignore[override]
        result = self._next__process(event_data)
        if WorkflowSignal.connected:
            record_transition_names(event_data)
        return result


bind_next_methods(SignalingNestedEvent, SignalingNestedEvent, "_process")


class NestedMachineHooks(CoreMachineHooks):
    """The hooks of a nested machine: one outcome per trigger, full state names.

    ``HierarchicalMachine`` fires a trigger through ``_trigger_event``, which visits
    every (parallel) region; ``transition_completed`` is sent once, after the last.
    """

    _next__trigger_event: t.Callable[[EventData, str], t.Any]
    _next__trigger_event_nested: t.Callable[[EventData, str, dict[str, t.Any] | None], t.Any]

    def _trigger_event(self, event_data: EventData, trigger: str) -> t.Any:
        try:
            result = self._next__trigger_event(event_data, trigger)
        except BaseException:
            if this_thread.entering:
                self._send_planned(event_data)
            if raised(event_data) is not None:
                self._report_unsuccessful_nested(event_data, trigger)
            raise
        if this_thread.entering:
            self._send_planned(event_data)
        if not result:
            self._report_unsuccessful_nested(event_data, trigger)
        elif WorkflowSignal.connected:
            self._check_state_kept(event_data)
        return result

    def _plan_entering(
        self, event_data: EventData, transition: Transition, enters: list[functools.partial[t.Any]]
    ) -> None:
        """Note the states ``enters`` (``scoped_enter`` partials) will enter, in order."""
        source, dest = self._qualified_names(transition)
        separator = self.state_cls.separator  # type: ignore[attr-defined]
        plan: dict[int, Entering] = vars(event_data).setdefault("entering_plan", {})
        entering = this_thread.entering
        for enter in enters:
            state = enter.func.__self__  # type: ignore[attr-defined]
            # Its own name: NestedState.name prefixes the scope the state is entered in
            # at this moment, which an async trigger awaiting inside it still holds.
            own_name = State.name.fget(state)  # type: ignore[attr-defined]
            name = separator.join([*(enter.args[1] or []), own_name])
            entry = (name, event_data, {"state": name, "source": source, "dest": dest})
            plan[id(state)] = entry
            entering.append(entry)

    def _nested_begin_entering(self, state: State, event_data: EventData) -> Entering:
        """``_begin_entering`` of a nested machine: the entry its transition planned."""
        plan = vars(event_data).get("entering_plan")
        entry = plan.get(id(state)) if plan is not None else None
        return (
            entry
            if entry is not None
            else CoreMachineHooks._begin_entering(self, state, event_data)
        )

    def _planned_left(self, event_data: EventData) -> list[Entering]:
        """The planned entries of ``event_data`` not sent: an ``on_enter`` raised before
        the children were entered, but the model is in them."""
        plan = vars(event_data).pop("entering_plan", None)
        return [entry for entry in plan.values() if settle(entry)] if plan else []

    def _send_planned(self, event_data: EventData) -> None:
        for entry in self._planned_left(event_data):
            self._send_entry(entry)

    def _nested_reached_state(self, event_data: EventData) -> t.Any:
        """``_reached_state`` of a nested machine: what its last transition set (noted
        while receivers were connected; the dest, as for a flat machine, otherwise)."""
        reached = vars(event_data).get("reached_state")
        return reached if reached is not None else CoreMachineHooks._reached_state(self, event_data)

    def _trigger_event_nested(
        self, event_data: EventData, trigger: str, _state_tree: dict[str, t.Any] | None
    ) -> t.Any:
        result = self._next__trigger_event_nested(event_data, trigger, _state_tree)
        if _state_tree is None:
            # The outermost call: every region has been visited, finalize_event is next.
            event_data.regions_result = result  # type: ignore[attr-defined]
            if result and listened(transition_completed, event_data.model, trigger):
                self._send_completed(event_data)
        return result

    def _nested_payload(self, event_data: EventData, signal: WorkflowSignal) -> dict[str, t.Any]:
        """The payload of a nested machine's signal: full source and dest names."""
        payload = CoreMachineHooks._payload(self, event_data, signal)
        payload["source"], payload["dest"] = self._nested_names(event_data, signal)
        return payload

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

    def _unsuccessful_nested(
        self, event_data: EventData, trigger: str
    ) -> tuple[WorkflowSignal, dict[str, t.Any]] | None:
        """As :meth:`_unsuccessful`, for a trigger fired through ``trigger_event``.

        None for a trigger name that no state of the machine knows: a flat machine
        raises AttributeError for it before any event runs, and sends nothing either.
        """
        if error_dismissed(event_data):
            return transition_failed, {"error": None}
        error = event_data.error
        if getattr(event_data, "regions_result", False) is None:
            if not t.cast(t.Any, self).has_trigger(trigger):
                return None
            if not isinstance(error, MachineError):
                here = getattr(event_data.model, self.model_attribute)
                error = MachineError(
                    f"{self.name}Can't trigger event '{trigger}' from state(s) {here}!"
                )
            return transition_denied, denial("invalid_trigger", [], error)
        if error is not None:
            return transition_failed, {"error": error}
        refused = getattr(event_data, "failed_conditions", None) or []
        return transition_denied, denial("conditions", list(refused), None)

    def _report_unsuccessful_nested(self, event_data: EventData, trigger: str) -> None:
        found = self._unsuccessful_nested(event_data, trigger)
        if found is not None:
            event_data.event = self._named_event(event_data, trigger)
            self._send(found[0], trigger, event_data, found[1])

    def _named_event(self, event_data: EventData, trigger: str) -> Event:
        # A trigger that no region accepted leaves event_data.event unset.
        event = event_data.event
        return event if event is not None else Event(trigger, t.cast(Machine, self))


SIGNALING_VARIANTS: dict[type, type] = {
    NestedState: SignalingNestedState,
    NestedTransition: SignalingNestedTransition,
    NestedEvent: SignalingNestedEvent,
}
"""Signaling classes for the classes of ``transitions.extensions.nesting``."""

__all__ = [
    "SIGNALING_VARIANTS",
    "NestedMachineHooks",
    "PlansEntering",
    "SignalingNestedEvent",
    "SignalingNestedState",
    "SignalingNestedTransition",
    "hold_exit",
    "record_transition_names",
]

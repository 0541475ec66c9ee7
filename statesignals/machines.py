"""Signaling machines: :class:`SignalingMixin`, and one ready-made class for each
machine class ``transitions`` offers.

:class:`SignalingMixin` goes in front of any ``transitions`` machine class::

    class AuditedMachine(SignalingMixin, Machine): ...

It swaps the machine's ``state_cls``, ``transition_cls`` and ``event_cls`` for the
signaling class written for each (:data:`SIGNALING_VARIANTS`, gathered from the
:mod:`statesignals.bridge` modules) and adds the machine hooks of every extension;
it changes nothing else: return values, exceptions, callback order, queued
processing, ``may_*`` checks and pickling stay as the wrapped class has them.

Each ready-made class is ``SignalingMixin`` in front of the ``transitions`` class of
the same name (``SignalingHierarchicalMachine`` is ``HierarchicalMachine`` with
signals; the plain ``Machine`` one is :class:`SignalingCoreMachine`).
:func:`get_machine_class` picks one by feature, as ``transitions``'
``MachineFactory.get_predefined`` does.
"""

from __future__ import annotations

import typing as t

from transitions.core import Event, Machine, State, Transition
from transitions.extensions import (
    GraphMachine,
    HierarchicalGraphMachine,
    HierarchicalMachine,
    LockedGraphMachine,
    LockedHierarchicalGraphMachine,
    LockedHierarchicalMachine,
    LockedMachine,
)
from transitions.extensions.asyncio import AsyncMachine, HierarchicalAsyncMachine
from transitions.extensions.factory import AsyncGraphMachine, HierarchicalAsyncGraphMachine
from transitions.extensions.markup import HierarchicalMarkupMachine, MarkupMachine

from .bridge import asyncio as asyncio_bridge
from .bridge import core, diagrams, locking, nesting
from .bridge.asyncio import AsyncMachineHooks
from .bridge.nesting import NestedMachineHooks
from .errors import StateSignalsError
from .scope import ReceiverErrorPolicy

_CT = t.TypeVar("_CT", bound=type)

SIGNALING_VARIANTS: dict[type, type] = {
    **asyncio_bridge.SIGNALING_VARIANTS,
    **diagrams.SIGNALING_VARIANTS,
    **locking.SIGNALING_VARIANTS,
    **nesting.SIGNALING_VARIANTS,
    **core.SIGNALING_VARIANTS,
}
"""The signaling class written for each ``transitions`` state, transition, condition
and event class (a subclass of one gets the variant of its nearest ancestor here).

Static classes, so that pickle finds them by module and name."""


def signaling_class(machine_cls: type, base: _CT, signaling: type) -> _CT:
    """``base`` with the signaling behaviour written for it (or its nearest
    ``transitions`` ancestor) added in front.

    The static class itself when ``base`` is a ``transitions`` class; otherwise
    a new subclass, named so that pickle finds it as an attribute of ``machine_cls``.
    ``signaling`` is the fallback for a ``base`` outside ``transitions``' hierarchy.
    """
    variants = SIGNALING_VARIANTS
    if issubclass(base, signaling) or any(issubclass(base, v) for v in variants.values()):
        return base
    ancestor = next((klass for klass in base.__mro__ if klass in variants), None)
    if ancestor is base:
        return t.cast(_CT, variants[base])
    if ancestor is not None:
        signaling = variants[ancestor]
    attributes: dict[str, t.Any] = {
        "__module__": machine_cls.__module__,
        "_signaling_variant": True,  # prints as base (core.upstream_class_name)
    }
    if issubclass(base, Transition):
        attributes["condition_cls"] = signaling_class(
            machine_cls, base.condition_cls, core.SignalingCondition
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
        condition_cls = attributes.get("condition_cls")
        if condition_cls is not None and vars(condition_cls).get("_signaling_variant"):
            condition_cls.__qualname__ = f"{variant.__qualname__}.condition_cls"
    return t.cast(_CT, variant)


# The transitions methods the hooks wrap, called through _next_<name> (see
# bind_next_methods); a machine without one of them never calls its hook.
_WRAPPED = (
    "_process",
    "_trigger_event",
    "_trigger_event_nested",
    "process_context",
    "_process_async",
)


class SignalingMixin(AsyncMachineHooks):
    """Makes a ``transitions`` machine class send the workflow signals.

    Put it first among the bases: ``class M(SignalingMixin, Machine)``; any
    ``transitions`` machine class works (nested, async, locked, graph, markup and
    their combinations). It adds one keyword argument, ``receiver_errors``
    (``"raise"``, the default, or ``"log"``), saying what happens when receivers raise.
    """

    _locked: t.ClassVar[bool] = False
    """Whether the machine is a ``LockedMachine``."""

    def __init__(
        self, *args: t.Any, receiver_errors: ReceiverErrorPolicy = "raise", **kwargs: t.Any
    ) -> None:
        super().__init__(*args, receiver_errors=receiver_errors, **kwargs)
        if self._locked:
            locking.prepare_locked_machine(self)

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        core.bind_next_methods(cls, core.CoreMachineHooks, *_WRAPPED)
        cls.state_cls = signaling_class(cls, cls.state_cls, core.SignalingState)
        cls.transition_cls = signaling_class(cls, cls.transition_cls, core.SignalingTransition)
        cls.event_cls = signaling_class(cls, cls.event_cls, core.SignalingEvent)
        cls._asynchronous = issubclass(cls, AsyncMachine)
        cls._nested = issubclass(cls, HierarchicalMachine)
        cls._locked = issubclass(cls, LockedMachine)
        # Chosen once per class, so that no trigger asks whether its machine nests or awaits.
        if cls._nested:
            _choose(cls, "_payload", NestedMachineHooks._nested_payload)
            _choose(cls, "_begin_entering", NestedMachineHooks._nested_begin_entering)
            _choose(cls, "_reached_state", NestedMachineHooks._nested_reached_state)
        if cls._nested and cls._locked:
            locking.keep_scope_per_thread(cls)
        if cls._nested and cls._asynchronous:
            _choose(cls, "_trigger_event", AsyncMachineHooks._trigger_event_async)
            _choose(cls, "_trigger_event_nested", AsyncMachineHooks._trigger_event_nested_async)

    def add_states(self, *args: t.Any, **kwargs: t.Any) -> None:
        """``add_states`` as the wrapped class has it; state objects passed in (``State("A")``,
        ``NestedState("D")``, the states of an embedded machine) become signaling states."""
        super().add_states(*args, **kwargs)
        adopt_states(self)


def adopt_states(machine: t.Any) -> None:
    """Give every state of ``machine`` (children included) that was created outside it the
    signaling class for its own class, so that it sends state signals too.

    The object stays the one the program holds (its callbacks, its identity); only its
    class gains the signaling class in front, as the states the machine creates have.
    """
    scoped = locking.scoped_per_thread(type(machine))
    states = list(machine.states.values())
    while states:
        state = states.pop()
        if not isinstance(state, _STATE_VARIANTS) or (
            # A state of an embedded machine entered by this one's threads at once.
            scoped and not isinstance(state, locking.ScopedPerThread)
        ):
            state.__class__ = _adopted_class(type(machine), type(state))
        states.extend(getattr(state, "states", {}).values())


_STATE_VARIANTS = tuple(
    variant for base, variant in SIGNALING_VARIANTS.items() if issubclass(base, State)
)


_ADOPTED: dict[tuple[type, type], type] = {}


def _adopted_class(machine_cls: type, state_cls: type) -> type:
    key = (machine_cls, state_cls)
    if key not in _ADOPTED:
        adopted: t.Any = signaling_class(machine_cls, state_cls, core.SignalingState)
        made_here = bool(vars(adopted).get("_signaling_variant"))
        if locking.scoped_per_thread(machine_cls):
            adopted = locking.scoped_state_class(machine_cls, adopted)
            made_here = True
        if made_here:
            # Made at run time for the program's own class, so pickle cannot find it
            # by name: its states pickle as made again from the two classes.
            adopted.__qualname__ = f"{machine_cls.__qualname__}.<adopted {state_cls.__qualname__}>"
            adopted._adopted_from = key
            adopted.__reduce_ex__ = _reduce_adopted_state
        _ADOPTED[key] = adopted
    return _ADOPTED[key]


def _reduce_adopted_state(state: State, protocol: t.SupportsIndex) -> str | tuple[t.Any, ...]:
    """What pickle and ``copy`` store for a state of an adopted class: what its own
    class stores (its ``__reduce__``, if it has one), with the adopted class
    replaced by the classes :func:`_adopted_state` makes it from."""
    adopted = type(state)
    reduced = super(adopted, state).__reduce_ex__(protocol)
    if isinstance(reduced, str):
        return reduced
    construct, args, *rest = reduced
    machine_cls, state_cls = vars(adopted)["_adopted_from"]
    if construct is adopted:
        return (_adopted_state, (None, machine_cls, state_cls, *args), *rest)
    if args and args[0] is adopted:
        return (_adopted_state, (construct, machine_cls, state_cls, *args[1:]), *rest)
    return reduced


def _adopted_state(
    construct: t.Callable[..., State] | None, machine_cls: type, state_cls: type, *args: t.Any
) -> State:
    """A state of the adopted class for ``state_cls``, made as ``construct(cls, *args)``
    (``copyreg.__newobj__``, say), or as ``cls(*args)`` when ``construct`` is None.

    Stored pickles name this function: its name and arguments must stay as they are.
    """
    adopted = _adopted_class(machine_cls, state_cls)
    if construct is None:
        return t.cast(State, adopted(*args))
    return construct(adopted, *args)


def _choose(cls: type, name: str, hook: t.Callable[..., t.Any]) -> None:
    """Make ``hook`` the ``name`` method of ``cls``, unless a class in front of
    :class:`SignalingMixin` (``cls`` itself, or a signaling class it derives from)
    already defines one."""
    if not any(name in vars(klass) for klass in cls.__mro__[: cls.__mro__.index(SignalingMixin)]):
        setattr(cls, name, hook)


class SignalingCoreMachine(SignalingMixin, Machine):
    """``transitions.Machine`` with the workflow signals."""


class SignalingHierarchicalMachine(SignalingMixin, HierarchicalMachine):
    """``HierarchicalMachine`` (nested and parallel states) with the workflow signals."""


class SignalingAsyncMachine(SignalingMixin, AsyncMachine):
    """``AsyncMachine`` with the workflow signals, sent with ``send_async``."""


class SignalingHierarchicalAsyncMachine(SignalingMixin, HierarchicalAsyncMachine):  # type: ignore[misc]
    """``HierarchicalAsyncMachine`` with the workflow signals, sent with ``send_async``."""


class SignalingLockedMachine(SignalingMixin, LockedMachine):
    """``LockedMachine`` with the workflow signals, sent while the machine's lock is held."""


class SignalingLockedHierarchicalMachine(SignalingMixin, LockedHierarchicalMachine):  # type: ignore[misc]
    """``LockedHierarchicalMachine`` with the workflow signals, sent inside the lock."""


class SignalingGraphMachine(SignalingMixin, GraphMachine):
    """``GraphMachine`` (``get_graph``, styled diagrams) with the workflow signals."""


class SignalingHierarchicalGraphMachine(SignalingMixin, HierarchicalGraphMachine):  # type: ignore[misc]
    """``HierarchicalGraphMachine`` with the workflow signals."""


class SignalingLockedGraphMachine(SignalingMixin, LockedGraphMachine):  # type: ignore[misc]
    """``LockedGraphMachine`` with the workflow signals."""


class SignalingLockedHierarchicalGraphMachine(SignalingMixin, LockedHierarchicalGraphMachine):  # type: ignore[misc]
    """``LockedHierarchicalGraphMachine`` with the workflow signals."""


class SignalingAsyncGraphMachine(SignalingMixin, AsyncGraphMachine):  # type: ignore[misc]
    """``AsyncGraphMachine`` with the workflow signals."""


class SignalingHierarchicalAsyncGraphMachine(SignalingMixin, HierarchicalAsyncGraphMachine):  # type: ignore[misc]
    """``HierarchicalAsyncGraphMachine`` with the workflow signals."""


class SignalingMarkupMachine(SignalingMixin, MarkupMachine):
    """``MarkupMachine`` (``markup`` export of the definition) with the workflow signals."""


class SignalingHierarchicalMarkupMachine(SignalingMixin, HierarchicalMarkupMachine):  # type: ignore[misc]
    """``HierarchicalMarkupMachine`` with the workflow signals."""


_BY_FEATURES: dict[tuple[bool, bool, bool, bool], type[SignalingMixin]] = {
    # (graph, nested, locked, asyncio), as transitions' MachineFactory
    (False, False, False, False): SignalingCoreMachine,
    (False, False, True, False): SignalingLockedMachine,
    (False, True, False, False): SignalingHierarchicalMachine,
    (False, True, True, False): SignalingLockedHierarchicalMachine,
    (True, False, False, False): SignalingGraphMachine,
    (True, False, True, False): SignalingLockedGraphMachine,
    (True, True, False, False): SignalingHierarchicalGraphMachine,
    (True, True, True, False): SignalingLockedHierarchicalGraphMachine,
    (False, False, False, True): SignalingAsyncMachine,
    (True, False, False, True): SignalingAsyncGraphMachine,
    (False, True, False, True): SignalingHierarchicalAsyncMachine,
    (True, True, False, True): SignalingHierarchicalAsyncGraphMachine,
}


def get_machine_class(
    graph: bool = False, nested: bool = False, locked: bool = False, asyncio: bool = False
) -> type[SignalingMixin]:
    """The ready-made signaling machine class with the requested features.

    The same choice as ``transitions``' ``MachineFactory.get_predefined``; a
    combination that ``transitions`` does not offer (asyncio with locked) raises
    :class:`~statesignals.StateSignalsError`.
    """
    try:
        return _BY_FEATURES[(graph, nested, locked, asyncio)]
    except KeyError:
        raise StateSignalsError(
            f"transitions offers no machine with graph={graph}, nested={nested}, "
            f"locked={locked}, asyncio={asyncio}: an asyncio machine runs in one thread "
            "and needs no lock"
        ) from None


__all__ = [
    "SignalingAsyncGraphMachine",
    "SignalingAsyncMachine",
    "SignalingCoreMachine",
    "SignalingGraphMachine",
    "SignalingHierarchicalAsyncGraphMachine",
    "SignalingHierarchicalAsyncMachine",
    "SignalingHierarchicalGraphMachine",
    "SignalingHierarchicalMachine",
    "SignalingHierarchicalMarkupMachine",
    "SignalingLockedGraphMachine",
    "SignalingLockedHierarchicalGraphMachine",
    "SignalingLockedHierarchicalMachine",
    "SignalingLockedMachine",
    "SignalingMarkupMachine",
    "SignalingMixin",
    "get_machine_class",
]

"""The declarative base class for models whose lifecycle is a workflow.

A subclass of :class:`SignalingMachine` declares its workflow on the class::

    class Order(SignalingMachine):
        states = ["pending", "paid", "shipped"]
        initial = "pending"
        transitions = [
            {"trigger": "pay", "source": "pending", "dest": "paid"},
            {"trigger": "ship", "source": "paid", "dest": "shipped"},
        ]

When the class is created, the workflow is checked and compiled into one
machine shared by every instance (``Order.machine``), and the trigger methods
(``pay()``), ``may_<trigger>()`` and ``is_<state>()`` are added to the class.
Instances are plain objects: they hold their state in one attribute, and the
class keeps no reference to them.
"""

from __future__ import annotations

import collections.abc as c
import functools
import inspect
import typing as t
from collections import defaultdict
from enum import Enum

from transitions import Machine
from transitions.core import State, Transition, listify
from transitions.extensions.asyncio import AsyncMachine, AsyncTimeout
from transitions.extensions.nesting import HierarchicalMachine
from transitions.extensions.states import Tags, Timeout, add_state_features

from .checks import check_workflow
from .definition import WorkflowDefinition, declared_machine_name, declared_workflow
from .dispatch import is_coroutine_receiver, receiver_name
from .errors import (
    AsyncReceiverError,
    StateSignalsError,
    WorkflowDefinitionError,
    WorkflowLookupError,
)
from .machines import SignalingCoreMachine, SignalingMixin
from .naming import state_name
from .routes import EVERY, route, routes_of
from .scope import ReceiverErrorPolicy
from .signals import (
    state_entered,
    state_exited,
    transition_committed,
    transition_completed,
    transition_denied,
)

F = t.TypeVar("F", bound=c.Callable[..., t.Any])

Trigger = c.Callable[..., bool]
"""Annotate a trigger's name with this (``pay: Trigger``) so that type checkers
know the method the workflow adds."""

TriggerCheck = c.Callable[..., bool]
"""Annotate ``may_<trigger>`` with this (``may_pay: TriggerCheck``); with an
asynchronous ``machine_cls`` it returns a coroutine: use :data:`AsyncTrigger`."""


class StateCheck(t.Protocol):
    """Annotate ``is_<state>`` with this (``is_paid: StateCheck``)."""

    def __call__(self, allow_substates: bool = False) -> bool: ...


AsyncTrigger = c.Callable[..., c.Coroutine[t.Any, t.Any, bool]]
"""As :data:`Trigger`, for the triggers and ``may_<trigger>`` checks of a workflow
whose ``machine_cls`` is asynchronous: they return a coroutine to await."""

_GENERATED = "__statesignals_generated__"


def _generated(function: F, cls: type, name: str, doc: str) -> F:
    function.__name__ = name
    function.__qualname__ = f"{cls.__qualname__}.{name}"
    function.__module__ = cls.__module__
    function.__doc__ = doc
    setattr(function, _GENERATED, True)
    return function


def _trigger_method(cls: type, name: str, machine: Machine) -> c.Callable[..., t.Any]:
    signaling = t.cast(SignalingMixin, machine)
    if signaling._nested:
        # HierarchicalMachine fires every trigger through trigger_event (locked, if
        # the machine is: the attribute is looked up once, the lock taken per call).
        fire_nested = t.cast(t.Any, machine).trigger_event

        def fire(model: object, *args: t.Any, **kwargs: t.Any) -> t.Any:
            return fire_nested(model, name, *args, **kwargs)
    else:
        fire = machine.events[name].trigger

    if signaling._asynchronous:

        def trigger(self: object, *args: t.Any, **kwargs: t.Any) -> t.Any:
            return fire(self, *args, **kwargs)

        doc = f"Fire the {name!r} trigger; returns the coroutine to await."
    else:

        def trigger(self: object, *args: t.Any, **kwargs: t.Any) -> t.Any:
            if args or kwargs:
                return bool(fire(self, *args, **kwargs))
            # Most triggers take no arguments: a plain call skips repacking them.
            return bool(fire(self))

        doc = f"Fire the {name!r} trigger."
    return _generated(trigger, cls, name, doc)


def _may_method(cls: type, name: str, machine: Machine, trigger: str) -> c.Callable[..., t.Any]:
    can_trigger = machine._can_trigger
    doc = f"Whether {trigger!r} would lead to a transition now (sends no signal)."
    if t.cast(SignalingMixin, machine)._asynchronous:

        def may(self: object, *args: t.Any, **kwargs: t.Any) -> t.Any:
            return can_trigger(self, trigger, *args, **kwargs)

        return _generated(may, cls, name, doc + " Returns the coroutine to await.")

    def may_sync(self: object, *args: t.Any, **kwargs: t.Any) -> bool:
        return bool(can_trigger(self, trigger, *args, **kwargs))

    return _generated(may_sync, cls, name, doc)


def _is_method(cls: type, name: str, machine: Machine, value: t.Any) -> c.Callable[..., bool]:
    doc = f"Whether the model is in state {state_name(value)!r}."
    if t.cast(SignalingMixin, machine)._nested:
        # A compound state is current only through its children: ask the machine.
        is_state = t.cast(t.Any, machine).is_state

        def is_nested_state(self: object, allow_substates: bool = False) -> bool:
            return bool(is_state(value, self, allow_substates=allow_substates))

        return _generated(
            is_nested_state, cls, name, doc + " allow_substates: also in one of its substates."
        )
    attribute = machine.model_attribute

    def is_flat_state(self: object, allow_substates: bool = False) -> bool:
        # A flat state has no substates; the keyword is accepted as transitions' is_state does.
        return bool(getattr(self, attribute) == value)

    return _generated(is_flat_state, cls, name, doc)


def trigger_names(machine: Machine) -> list[str]:
    """Every trigger of ``machine``, those declared inside nested states included."""
    if t.cast(SignalingMixin, machine)._nested:
        return list(dict.fromkeys(t.cast(t.Any, machine).get_nested_triggers()))
    return list(machine.events)


def state_names(machine: Machine) -> list[str]:
    """The full name of every state of ``machine``, nested ones included."""
    if t.cast(SignalingMixin, machine)._nested:
        return list(t.cast(t.Any, machine).get_nested_state_names())
    return list(machine.states)


def _with_embedded_machines(spec: t.Any) -> t.Any:
    """``spec`` with each workflow class used as children replaced by its machine."""
    if isinstance(spec, type) and issubclass(spec, SignalingMachine):
        return spec._machine()
    if isinstance(spec, dict):
        return {
            key: _with_embedded_machines(value)
            if key in ("children", "states", "parallel")
            else value
            for key, value in spec.items()
        }
    if isinstance(spec, (list, tuple)):
        return [_with_embedded_machines(item) for item in spec]
    return spec


def _keywords_used(specs: c.Iterable[t.Any]) -> set[str]:
    """Every ``State`` keyword the state dicts of ``specs`` use, nested ones included."""
    used: set[str] = set()
    pending = list(specs)
    while pending:
        spec = pending.pop()
        if isinstance(spec, dict):
            used.update(spec)
            for key in ("children", "states", "parallel"):
                children = spec.get(key)
                if isinstance(children, (list, tuple)):
                    pending.extend(children)
    return used


_featured: dict[tuple[type[Machine], tuple[type, ...]], type[Machine]] = {}


def _with_state_features(machine_cls: type[Machine], features: tuple[type, ...]) -> type[Machine]:
    # add_state_features changes the class it decorates: decorate a subclass, once per need.
    key = (machine_cls, features)
    if key not in _featured:
        derived = type(
            machine_cls.__name__,
            (machine_cls,),
            {"__module__": machine_cls.__module__, "__qualname__": machine_cls.__qualname__},
        )
        _featured[key] = t.cast(type[Machine], add_state_features(*features)(derived))
    return _featured[key]


def _machine_class_for(machine_cls: type[Machine], workflow: WorkflowDefinition) -> type[Machine]:
    """``machine_cls``, with transitions' ``Tags`` and ``Timeout`` state features when the
    workflow's states use ``tags`` or ``timeout`` (which the workflow-file schema allows)."""
    used = _keywords_used(workflow.states)
    timeout: type = AsyncTimeout if issubclass(machine_cls, AsyncMachine) else Timeout
    features = tuple(
        feature
        for feature, keywords in ((Tags, {"tags"}), (timeout, {"timeout", "on_timeout"}))
        if used & keywords and not issubclass(machine_cls.state_cls, feature)
    )
    return _with_state_features(machine_cls, features) if features else machine_cls


class AutoTransitions(dict[str, list[Transition]]):
    """The transitions of one ``to_<state>`` event, each made when first needed.

    transitions makes its auto transitions up front, one object per pair of
    states: n² for n states (25 million for 5,000; a bare ``Machine`` takes
    seconds at 1,000). Here the one from a source state is made the first time
    a model in that state triggers, checks (``may_to_...``) or lists the event.
    To transitions the mapping is the one it would have made: ``in``, ``get``
    and ``len`` answer for every source at once, and iterating it
    (``items()``, ``machine.get_transitions()``, ``Event.add_callback``) makes
    the rest first; :meth:`made` lists only those made so far.

    The sources are the machine's top-level states (those of a nested machine
    too: a substate reaches ``to_<state>`` through its top-level parent, as
    with transitions' ``HierarchicalMachine``). Any other key behaves as in
    transitions' ``defaultdict(list)``: reading it stores an empty list.
    """

    def __init__(self, machine: Machine, dest: str) -> None:
        super().__init__()
        self.machine = machine
        self.dest = dest
        # Taken outside any scope: a nested machine swaps ``states`` for a compound
        # state's children while it works inside that state.
        self.sources: c.Mapping[str, object] = machine.states
        self.complete = False
        """Whether every source's transition is made (then the stored keys are all)."""
        self.on_create: list[c.Callable[[Transition], None]] = []
        """Called with each transition made, as ``remember_last_transitions`` needs."""

    def _pending(self, source: object) -> bool:
        return not self.complete and source in self.sources

    def __contains__(self, source: object) -> bool:
        return super().__contains__(source) or self._pending(source)

    def __missing__(self, source: str) -> list[Transition]:
        if not self._pending(source):
            return self.setdefault(source, [])
        transition = self.machine._create_transition(source, self.dest)
        for prepare in self.on_create:
            prepare(transition)
        # Two threads may both get here: the first list stored wins, both are equal.
        return self.setdefault(source, [transition])

    def get(self, source: str, default: t.Any = None) -> t.Any:
        # dict.get skips __missing__: a nested machine's may_to_<state> asks with get.
        return self[source] if source in self else default  # noqa: SIM401

    def __len__(self) -> int:
        if self.complete:
            return super().__len__()
        return len(self.sources) + sum(1 for key in dict.keys(self) if key not in self.sources)

    def every(self) -> list[tuple[str, list[Transition]]]:
        """Every source's transitions, made now where missing, in transitions' order:
        the sources as the states are declared, then any other key as stored."""
        if not self.complete:
            for source in list(self.sources):
                self[source]
            self.complete = True
        ordered = [source for source in self.sources if dict.__contains__(self, source)]
        ordered.extend(key for key in dict.keys(self) if key not in self.sources)
        return [(key, dict.__getitem__(self, key)) for key in ordered]

    def made(self) -> c.ItemsView[str, list[Transition]]:
        """The transitions made so far, without making any."""
        return dict.items(self)

    def items(self) -> list[tuple[str, list[Transition]]]:  # type: ignore[override]
        return self.every()

    def keys(self) -> list[str]:  # type: ignore[override]
        return [key for key, _ in self.every()]

    def values(self) -> list[list[Transition]]:  # type: ignore[override]
        return [value for _, value in self.every()]

    def __iter__(self) -> c.Iterator[str]:
        return iter(self.keys())

    def copy(self) -> defaultdict[str, list[Transition]]:
        return defaultdict(list, self.every())

    def __reduce_ex__(self, protocol: t.SupportsIndex) -> t.Any:
        # copy, deepcopy (a nested machine remapping an embedded one's states) and
        # pickle get what transitions would have: a defaultdict of every transition.
        return (defaultdict, (list,), None, None, iter(self.every()))

    def __delitem__(self, source: str) -> None:
        self.every()
        super().__delitem__(source)

    def pop(self, source: str, *default: t.Any) -> t.Any:
        self.every()
        return super().pop(source, *default)

    def popitem(self) -> tuple[str, list[Transition]]:
        self.every()
        return super().popitem()

    def clear(self) -> None:
        self.complete = True
        super().clear()


def _auto_trigger(machine: Machine, name: str) -> str:
    """The ``to_<state>`` trigger's name, as transitions gives it: a nested machine's
    names the state only, whatever the ``model_attribute``."""
    attribute = machine.model_attribute
    if attribute == "state" or isinstance(machine, HierarchicalMachine):
        return f"to_{name}"
    return f"to_{attribute}_{name}"


def _add_auto_transitions(machine: Machine) -> None:
    """``to_<state>`` events as transitions names them, with :class:`AutoTransitions`:
    one per state, nested states included (named with the separator)."""
    for name in state_names(machine):
        trigger = _auto_trigger(machine, name)
        if trigger == machine.model_attribute:  # as transitions' add_transition refuses
            raise ValueError("Trigger name cannot be same as model attribute name.")
        event = machine._create_event(trigger, machine)
        event.transitions = AutoTransitions(machine, name)  # type: ignore[assignment]
        machine.events[trigger] = event


def _lazy_auto_transitions(machine_cls: type[Machine], states: list[t.Any]) -> bool:
    """Whether the compiled machine can make its auto transitions on first use.

    Given a state object at the top level, a nested machine of transitions
    makes the auto transitions into its substates twice from it, and in another
    order: such a workflow keeps transitions' own, so that they stay exactly so.
    """
    if not issubclass(machine_cls, HierarchicalMachine):
        return True
    return not any(isinstance(spec, (State, Machine)) for spec in states)


def _compile(cls: type[SignalingMachine], workflow: WorkflowDefinition) -> Machine:
    machine_cls = _machine_class_for(cls.machine_cls, workflow)
    options = dict(workflow.options)
    states = [_with_embedded_machines(spec) for spec in workflow.states]
    transitions = [dict(transition) for transition in workflow.transitions]
    lazy = options.get("auto_transitions", True) and _lazy_auto_transitions(machine_cls, states)
    # transitions adds the ordered transitions after the declared ones: so do we.
    ordered = lazy and options.pop("ordered_transitions", False)
    if lazy:
        options["auto_transitions"] = False
    try:
        machine = machine_cls(
            model=None,
            states=states,
            transitions=[] if lazy else transitions,
            initial=workflow.initial,
            name=declared_machine_name(cls),
            **options,
        )
        if lazy:
            # In transitions' order: the auto transitions' events first, then the declared.
            _add_auto_transitions(machine)
            machine.auto_transitions = True
            markup = getattr(machine, "_markup", None)
            if isinstance(markup, dict):  # a graph machine's markup noted the option given
                markup["auto_transitions"] = True
            machine.add_transitions(transitions)
            if ordered:
                machine.add_ordered_transitions()
    except WorkflowDefinitionError:
        raise
    except Exception as error:
        raise WorkflowDefinitionError(
            f"{cls.__qualname__}: {machine_cls.__name__} rejected the workflow: {error}"
        ) from error
    if machine.has_queue is True:
        # One machine serves every instance: queue each instance's triggers apart.
        t.cast(SignalingMixin, machine)._queue_models_apart()
    # Its models are the class's instances, never added to it: dispatch would do nothing.
    machine.dispatch = functools.partial(_refuse_dispatch, cls)  # type: ignore[method-assign]
    # transitions adds on_enter_<state>/on_exit_<state> methods of a model as
    # callbacks when the model is added; the class's methods are those of every model.
    for name in state_names(machine):
        state = machine.get_state(name)
        for kind in ("on_enter", "on_exit"):
            method = f"{kind}_{name}"
            if callable(getattr(cls, method, None)) and method not in getattr(state, kind):
                state.add_callback(kind[3:], method)
    return machine


def _refuse_dispatch(cls: type, trigger: str, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
    raise StateSignalsError(
        f"{cls.__qualname__}.machine holds no models (instances of {cls.__qualname__} are "
        f"not added to it), so dispatch({trigger!r}) would do nothing: call "
        f"instance.{trigger}() on each instance, or use an imperative machine with its "
        "models added (docs/definitions.md)"
    )


def _initial_value(machine: Machine) -> t.Any:
    """The model attribute's value in the initial state (the leaves, for a nested machine)."""
    initial = t.cast(str, machine.initial)
    if not t.cast(SignalingMixin, machine)._nested:
        return machine.get_state(initial).value
    nested = t.cast(t.Any, machine)
    with nested():
        leaves = nested._resolve_initial([], state_name(initial).split(nested.state_cls.separator))
    values = [nested._set_state(leaf) for leaf in listify(leaves)]
    return values if len(values) > 1 else values[0]


def _conveniences(cls: type, machine: Machine) -> dict[str, c.Callable[..., t.Any]]:
    attribute = machine.model_attribute
    methods: dict[str, c.Callable[..., t.Any]] = {}
    for trigger in trigger_names(machine):
        if not trigger.isidentifier():
            continue
        methods[trigger] = _trigger_method(cls, trigger, machine)
        may = f"may_{trigger}"
        methods[may] = _may_method(cls, may, machine, trigger)
    for state in state_names(machine):
        name = f"is_{state}" if attribute == "state" else f"is_{attribute}_{state}"
        if name.isidentifier():
            # A nested state's value is its local name; the model holds the full one.
            value = machine.get_state(state).value
            methods[name] = _is_method(
                cls, name, machine, value if isinstance(value, Enum) else state
            )
    return methods


def _install(cls: type, machine: Machine, methods: dict[str, c.Callable[..., t.Any]]) -> None:
    """Add ``methods`` to ``cls``, refusing to replace attributes the class defines."""
    override = machine.model_override
    chosen: dict[str, c.Callable[..., t.Any]] = {}
    for name, method in methods.items():
        existing = getattr(cls, name, None)
        ours = existing is None or getattr(existing, _GENERATED, False)
        if override:
            # transitions' model_override: bind only what the model declares.
            if existing is not None:
                chosen[name] = method
        elif ours:
            chosen[name] = method
        else:
            what = "trigger" if name in trigger_names(machine) else "generated method"
            raise WorkflowDefinitionError(
                f"{cls.__qualname__}: {what} {name!r} clashes with the attribute "
                f"{cls.__qualname__}.{name}; rename one of them (or set model_override "
                "= True to let the workflow replace declared stubs)"
            )
    attribute = machine.model_attribute
    declared = inspect.getattr_static(cls, attribute, None)
    has_descriptor = declared is not None and hasattr(declared, "__set__")
    if declared is not None and not has_descriptor and not getattr(cls, "workflow", None):
        raise WorkflowDefinitionError(
            f"{cls.__qualname__}: the class attribute {attribute!r} holds the state; "
            "declare the first state with initial instead"
        )
    for name, method in chosen.items():
        setattr(cls, name, method)
    if not has_descriptor:
        # Instances start in the initial state without storing anything.
        setattr(cls, attribute, _initial_value(machine))


@functools.cache
def _reserved_attributes() -> frozenset[str]:
    """What :class:`SignalingMachine` gives every model (``machine``, ``trigger`` ...),
    apart from ``state``: a ``model_attribute`` of that name would replace it."""
    names = {*vars(SignalingMachine), *SignalingMachine.__annotations__}
    return frozenset(name for name in names if name != "state" and not name.startswith("__"))


class SignalingMachine:
    """Base class for models whose lifecycle is a workflow of states and transitions.

    Declare on the subclass: ``states`` (names, Enum members or dicts of
    ``State`` keywords), ``transitions`` (dicts or lists as in ``transitions``),
    ``initial``, and any keyword of ``machine_cls`` (``auto_transitions``,
    ``queued``, ``send_event``, ``ignore_invalid_triggers``, ``model_attribute``,
    machine-level callbacks, ``receiver_errors`` ...). A subclass of a workflow
    class adds its own states and transitions to the parent's.

    Mistakes in the declaration raise :class:`~statesignals.WorkflowDefinitionError`
    when the class is created.
    """

    state: t.Any
    """The current state (an Enum member for Enum states), unless ``model_attribute`` renames it."""

    machine: t.ClassVar[Machine]
    """The machine compiled from the workflow, shared by all instances."""

    workflow: t.ClassVar[WorkflowDefinition]
    """The declared workflow, the parent's included."""

    machine_cls: t.ClassVar[type[Machine]] = SignalingCoreMachine
    """The signaling machine class the workflow is compiled into: a nested one
    (``SignalingHierarchicalMachine``) allows ``children``, ``parallel``, a compound
    state's ``initial`` and ``remap``; with an async one (``SignalingAsyncMachine``)
    triggers return coroutines; a locked one makes triggers thread-safe."""

    receiver_errors: t.ClassVar[ReceiverErrorPolicy] = "raise"
    """``"raise"`` receiver exceptions as one ReceiverError after the trigger, or ``"log"`` them."""

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        if not (
            isinstance(cls.machine_cls, type)
            and issubclass(cls.machine_cls, SignalingMixin)
            and issubclass(cls.machine_cls, Machine)
        ):
            raise WorkflowDefinitionError(
                f"{cls.__qualname__}: machine_cls must be a transitions Machine class "
                f"with SignalingMixin, not {cls.machine_cls!r}"
            )
        try:
            workflow = declared_workflow(cls, cls.machine_cls)
            if workflow is None:
                return
            check_workflow(cls, workflow, cls.machine_cls, _reserved_attributes())
            machine = _compile(cls, workflow)
            _install(cls, machine, _conveniences(cls, machine))
        except WorkflowDefinitionError:
            raise
        except Exception as error:  # what no check foresaw still names the class
            raise WorkflowDefinitionError(
                f"{cls.__qualname__}: the workflow cannot be compiled: "
                f"{type(error).__name__}: {error}"
            ) from error
        cls.workflow = workflow
        cls.machine = machine

    def trigger(self, trigger_name: str, *args: t.Any, **kwargs: t.Any) -> t.Any:
        """Fire the trigger called ``trigger_name``, as ``transitions``' ``model.trigger``.

        Returns whether a transition happened; with an asynchronous ``machine_cls``,
        the coroutine to await for it.
        """
        machine = type(self).machine
        result = machine._get_trigger(self, trigger_name, *args, **kwargs)
        return result if t.cast(SignalingMixin, machine)._asynchronous else bool(result)

    def may_trigger(self, trigger_name: str, *args: t.Any, **kwargs: t.Any) -> t.Any:
        """Whether ``trigger_name`` would lead to a transition now (sends no signal).

        With an asynchronous ``machine_cls``, the coroutine to await for it.
        """
        machine = type(self).machine
        result = machine._can_trigger(self, trigger_name, *args, **kwargs)
        return result if t.cast(SignalingMixin, machine)._asynchronous else bool(result)

    # Receivers for transitions or states of this class (and its subclasses).

    @classmethod
    def on_transition(cls, *triggers: str, weak: bool = False) -> c.Callable[[F], F]:
        """Connect the decorated receiver to ``transition_completed`` for ``triggers``
        (every trigger when none is given)."""
        return cls._connector("on_transition", transition_completed.name, triggers, weak)

    @classmethod
    def on_commit(
        cls, trigger: str, *, weak: bool = False, durable: bool = False
    ) -> c.Callable[[F], F]:
        """Connect the decorated receiver to ``transition_committed`` for ``trigger``.

        It runs once the transition can no longer be undone: when the trigger returns,
        or for a persisted model when the outermost database transaction commits.

        ``durable=True`` makes it a durable receiver instead (:mod:`statesignals.outbox`):
        each such transition writes an outbox row in its own database transaction, and
        a worker runs the receiver, once, as ``receiver(event, session)``. The class must
        be a persisted workflow and the receiver a module-level function.
        """
        cls._known(trigger, "trigger")

        def connect(receiver: F) -> F:
            if durable:
                from .outbox.durable import connect_durable

                return connect_durable(receiver, cls, trigger)
            return transition_committed.connect_for(cls, trigger, receiver, weak=weak)

        return connect

    @classmethod
    def on_denied(cls, *triggers: str, weak: bool = False) -> c.Callable[[F], F]:
        """Connect the decorated receiver to ``transition_denied`` for ``triggers``
        (every trigger when none is given)."""
        return cls._connector("on_denied", transition_denied.name, triggers, weak)

    @classmethod
    def on_enter(cls, *states: str | Enum, weak: bool = False) -> c.Callable[[F], F]:
        """Connect the decorated receiver to ``state_entered`` for ``states``
        (every state when none is given)."""
        return cls._connector("on_enter", state_entered.name, states, weak)

    @classmethod
    def on_exit(cls, *states: str | Enum, weak: bool = False) -> c.Callable[[F], F]:
        """Connect the decorated receiver to ``state_exited`` for ``states``
        (every state when none is given)."""
        return cls._connector("on_exit", state_exited.name, states, weak)

    @classmethod
    def _vet_receiver(cls, receiver: c.Callable[..., t.Any], where: str) -> None:
        """Refuse, with :class:`~statesignals.AsyncReceiverError`, a coroutine receiver
        for a class whose machine is synchronous: it could never be awaited."""
        machine = cls._machine()
        if is_coroutine_receiver(receiver) and not t.cast(SignalingMixin, machine)._asynchronous:
            raise AsyncReceiverError(
                f"{where}: receiver {receiver_name(receiver)} is a coroutine function, but "
                f"{cls.__qualname__}'s machine_cls {type(machine).__name__} is synchronous "
                "and could never await it; connect a plain function or declare an "
                "asynchronous machine_cls"
            )

    @classmethod
    def disconnect(cls, receiver: c.Callable[..., t.Any]) -> None:
        """Disconnect ``receiver`` from every transition and state of this class."""
        cls._machine()
        # Only the routes a receiver was ever connected to exist: creating the
        # others here would make every trigger check for per-class receivers.
        for signal in routes_of(cls).values():
            signal.disconnect(receiver)

    @classmethod
    def _machine(cls) -> Machine:
        machine = getattr(cls, "machine", None)
        if not isinstance(machine, Machine):
            raise WorkflowLookupError(f"{cls.__qualname__} declares no workflow")
        return machine

    @classmethod
    def _known(cls, name: str | Enum, kind: t.Literal["trigger", "state"]) -> str:
        machine = cls._machine()
        key = name.name if isinstance(name, Enum) else name
        known = trigger_names(machine) if kind == "trigger" else state_names(machine)
        if key not in known:
            raise WorkflowLookupError(
                f"{cls.__qualname__} has no {kind} {key!r}; known: {', '.join(known)}"
            )
        return key

    @classmethod
    def _connector(
        cls, helper: str, signal_name: str, names: tuple[str | Enum, ...], weak: bool
    ) -> c.Callable[[F], F]:
        kind: t.Literal["trigger", "state"] = (
            "trigger"
            if signal_name in (transition_completed.name, transition_denied.name)
            else "state"
        )
        bare = next((name for name in names if not isinstance(name, (str, Enum))), None)
        if bare is not None:
            given = receiver_name(bare) if callable(bare) else repr(bare)
            raise WorkflowLookupError(
                f"{cls.__qualname__}.{helper} was used without parentheses (or given "
                f"{given} as a {kind}): write @{cls.__qualname__}.{helper}({kind!r}, ...) "
                f"for some {kind}s, or @{cls.__qualname__}.{helper}() for every one"
            )
        keys = [cls._known(name, kind) for name in names] if names else [EVERY]
        signals = [route(cls, signal_name, key) for key in keys]
        label = ", ".join(map(repr, keys)) if names else ""
        where = f"{cls.__qualname__}.{helper}({label})"

        def connect(receiver: F) -> F:
            cls._vet_receiver(receiver, where)
            for signal in signals:
                signal.connect(receiver, weak=weak)
            return receiver

        return connect


__all__ = [
    "AsyncTrigger",
    "SignalingMachine",
    "StateCheck",
    "Trigger",
    "TriggerCheck",
    "state_names",
    "trigger_names",
]

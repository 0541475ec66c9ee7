"""Reading a workflow declared on a class into one normalised definition.

A :class:`~statesignals.SignalingMachine` subclass declares ``states``,
``transitions``, ``initial`` and any ``Machine`` keyword as class attributes.
:func:`declared_workflow` gathers them, with the workflow inherited from the
parent class, into a :class:`WorkflowDefinition`; :mod:`statesignals.checks`
then rejects every mistake it can see before the workflow is compiled.
"""

from __future__ import annotations

import inspect
import typing as t
import weakref
from dataclasses import dataclass, field
from enum import Enum, EnumMeta

from transitions import Machine, State

from .errors import WorkflowDefinitionError

StateSpec = str | Enum | State | dict[str, t.Any]
"""A state as declared: its name, an Enum member, or a dict of ``State`` keywords."""

TRANSITION_FIELDS = (
    "trigger",
    "source",
    "dest",
    "conditions",
    "unless",
    "before",
    "after",
    "prepare",
)
"""The keys of a transition dict, in the order a transition list gives them."""

TRANSITION_CALLBACK_FIELDS = ("conditions", "unless", "before", "after", "prepare")
STATE_CALLBACK_FIELDS = ("on_enter", "on_exit", "on_timeout")
MACHINE_CALLBACK_OPTIONS = (
    "prepare_event",
    "before_state_change",
    "after_state_change",
    "finalize_event",
    "on_exception",
    "on_final",
)

# Machine keywords that are not options of a declared workflow: the definition
# itself, the models (the class's instances) and the name (the class's name).
_NOT_OPTIONS = frozenset({"self", "model", "states", "transitions", "initial", "name"})


@dataclass(frozen=True)
class WorkflowDefinition:
    """A workflow as declared on a class, parent's declarations included."""

    states: tuple[StateSpec, ...]
    transitions: tuple[dict[str, t.Any], ...]
    initial: str | Enum | None
    options: dict[str, t.Any] = field(default_factory=dict)

    @property
    def state_names(self) -> tuple[str, ...]:
        """The name of every declared state, in declaration order."""
        return tuple(spec_name(spec) for spec in self.states)

    @property
    def model_attribute(self) -> str:
        """The model attribute that holds the current state."""
        return t.cast(str, self.options.get("model_attribute", "state"))


def spec_name(spec: StateSpec) -> str:
    """The name of a declared state."""
    if isinstance(spec, dict):
        return spec_name(spec["name"])
    if isinstance(spec, (Enum, State)):
        return spec.name
    return spec


# Reading signatures is most of a small workflow class's creation time; a machine
# class's keywords never change. Weakly keyed: a dynamic machine class may go.
_option_defaults: weakref.WeakKeyDictionary[type, dict[str, t.Any]] = weakref.WeakKeyDictionary()


def machine_option_defaults(machine_cls: type[Machine]) -> dict[str, t.Any]:
    """Keywords of ``machine_cls`` and its bases that a class may declare, each with the
    default of the nearest class that takes it (``inspect.Parameter.empty`` for none)."""
    cached = _option_defaults.get(machine_cls)
    if cached is None:
        cached = _option_defaults[machine_cls] = _read_option_defaults(machine_cls)
    return dict(cached)


def _read_option_defaults(machine_cls: type[Machine]) -> dict[str, t.Any]:
    defaults: dict[str, t.Any] = {}
    for klass in machine_cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        for parameter in inspect.signature(init).parameters.values():
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                continue
            if parameter.name not in _NOT_OPTIONS:
                defaults.setdefault(parameter.name, parameter.default)
    return defaults


def machine_options(machine_cls: type[Machine]) -> tuple[str, ...]:
    """Keywords of ``machine_cls`` and its bases that a class may declare."""
    return tuple(machine_option_defaults(machine_cls))


Location = tuple[str | int, ...]
"""Where an entry sits in a declaration: ``("transitions", 3, "dest")``."""


def fail(
    cls: type, message: str, location: Location = (), problem: str | None = None
) -> t.NoReturn:
    """Raise a :class:`~statesignals.WorkflowDefinitionError` naming ``cls`` and the entry."""
    raise WorkflowDefinitionError(
        f"{cls.__qualname__}: {message}", location=location, problem=problem
    )


def _normalize_states(cls: type, declared: t.Any) -> list[StateSpec]:
    if isinstance(declared, (str, Enum, dict)):
        declared = [declared]
    if isinstance(declared, EnumMeta):
        return list(declared)
    if not isinstance(declared, (list, tuple)):
        fail(cls, f"states must be a list of names, Enum members or dicts, not {declared!r}")
    specs: list[StateSpec] = []
    for index, spec in enumerate(declared):
        if isinstance(spec, dict):
            if "name" not in spec:
                fail(cls, f"states[{index}] {spec!r} has no 'name'")
            if not isinstance(spec["name"], (str, Enum)):
                fail(cls, f"states[{index}] {spec!r}: name must be a string or Enum member")
            specs.append(dict(spec))
        elif isinstance(spec, (str, Enum, State)):
            specs.append(spec)
        else:
            fail(
                cls,
                f"states[{index}] {spec!r} must be a name, an Enum member, a State "
                "or a dict of State keywords",
            )
    return specs


def normalize_transitions(cls: type, declared: t.Any) -> list[dict[str, t.Any]]:
    if isinstance(declared, dict):
        declared = [declared]
    if not isinstance(declared, (list, tuple)):
        fail(cls, f"transitions must be a list of dicts or lists, not {declared!r}")
    normalized: list[dict[str, t.Any]] = []
    for index, entry in enumerate(declared):
        if isinstance(entry, (list, tuple)):
            if not 3 <= len(entry) <= len(TRANSITION_FIELDS):
                fail(cls, f"transitions[{index}] {entry!r} must list trigger, source and dest")
            normalized.append(dict(zip(TRANSITION_FIELDS, entry, strict=False)))
        elif isinstance(entry, dict):
            normalized.append(dict(entry))
        else:
            fail(cls, f"transitions[{index}] {entry!r} must be a dict or a list")
    return normalized


def parent_workflow(cls: type) -> WorkflowDefinition | None:
    """The workflow of the nearest base class that has one."""
    for base in cls.__mro__[1:]:
        workflow = base.__dict__.get("workflow")
        if isinstance(workflow, WorkflowDefinition):
            return workflow
    return None


def declared_workflow(cls: type, machine_cls: type[Machine]) -> WorkflowDefinition | None:
    """Gather the workflow ``cls`` declares, extending its parent's.

    A subclass's ``states`` and ``transitions`` are added to the parent's; its
    ``initial`` and machine options replace the parent's. None when neither
    ``cls`` nor a parent declares any state (an abstract base class).
    """
    own = cls.__dict__
    parent = parent_workflow(cls)
    states = list(parent.states) if parent else []
    transitions = list(parent.transitions) if parent else []
    if "states" in own:
        states += _normalize_states(cls, own["states"])
    if "transitions" in own:
        transitions += normalize_transitions(cls, own["transitions"])
    if not states:
        if transitions or "initial" in own:
            fail(cls, "declares transitions or an initial state but no states")
        return None
    initial = own.get("initial", parent.initial if parent else None)
    options = {
        option: _declared_option(cls, option, machine_cls)
        for option in machine_options(machine_cls)
        if any(option in klass.__dict__ for klass in cls.__mro__)
    }
    return WorkflowDefinition(tuple(states), tuple(transitions), initial, options)


def _declared_option(cls: type, option: str, machine_cls: type[Machine]) -> t.Any:
    """The value of machine keyword ``option`` as ``cls`` declares it.

    A method named like a machine callback (``def after_state_change(self)``) is that
    callback, as a callback named by a string is; a method named like any other
    keyword cannot be one, and transitions would take the function for the setting.
    """
    value = getattr(cls, option)
    if not inspect.isfunction(inspect.getattr_static(cls, option)):
        return value
    if option in MACHINE_CALLBACK_OPTIONS:
        return option
    fail(
        cls,
        f"{cls.__qualname__}.{option} is a method, but {option} is a "
        f"{machine_cls.__name__} setting that the class declares by that name; rename it",
        (option,),
        "a method named like a machine setting",
    )


def declared_machine_name(cls: type) -> str:
    """The machine's ``name`` (the prefix of its MachineError messages): a non-empty
    string the class declares as ``name``, else the class's qualified name."""
    for klass in cls.__mro__:
        if "name" in vars(klass):
            value = vars(klass)["name"]
            return value if isinstance(value, str) and value else cls.__qualname__
    return cls.__qualname__


__all__ = [
    "MACHINE_CALLBACK_OPTIONS",
    "TRANSITION_FIELDS",
    "Location",
    "StateSpec",
    "WorkflowDefinition",
    "declared_machine_name",
    "declared_workflow",
    "machine_option_defaults",
    "machine_options",
    "parent_workflow",
    "spec_name",
]

"""Reading a workflow declared on a class, and checking it before it is compiled.

A :class:`~statesignals.SignalingMachine` subclass declares ``states``,
``transitions``, ``initial`` and any ``Machine`` keyword as class attributes.
:func:`declared_workflow` gathers them, with the workflow inherited from the
parent class, into a :class:`WorkflowDefinition`; :func:`check_workflow` rejects
every mistake it can see with a :class:`~statesignals.WorkflowDefinitionError`
naming the class and the entry.
"""

from __future__ import annotations

import collections.abc as c
import importlib
import inspect
import typing as t
from dataclasses import dataclass, field
from enum import Enum, EnumMeta

from transitions import Machine

from .errors import WorkflowDefinitionError

StateSpec = str | Enum | dict[str, t.Any]
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
STATE_CALLBACK_FIELDS = ("on_enter", "on_exit")
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
    if isinstance(spec, Enum):
        return spec.name
    return spec


def machine_options(machine_cls: type[Machine]) -> tuple[str, ...]:
    """Keywords of ``machine_cls`` and its bases that a class may declare."""
    names: dict[str, None] = {}
    for klass in machine_cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        for parameter in inspect.signature(init).parameters.values():
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                continue
            if parameter.name not in _NOT_OPTIONS:
                names[parameter.name] = None
    return tuple(names)


Location = tuple[str | int, ...]
"""Where an entry sits in a declaration: ``("transitions", 3, "dest")``."""


def _fail(
    cls: type, message: str, location: Location = (), problem: str | None = None
) -> t.NoReturn:
    raise WorkflowDefinitionError(
        f"{cls.__qualname__}: {message}", location=location, problem=problem
    )


def _normalize_states(cls: type, declared: t.Any) -> list[StateSpec]:
    if isinstance(declared, (str, Enum, dict)):
        declared = [declared]
    if isinstance(declared, EnumMeta):
        return list(declared)
    if not isinstance(declared, (list, tuple)):
        _fail(cls, f"states must be a list of names, Enum members or dicts, not {declared!r}")
    specs: list[StateSpec] = []
    for index, spec in enumerate(declared):
        if isinstance(spec, dict):
            if "name" not in spec:
                _fail(cls, f"states[{index}] {spec!r} has no 'name'")
            if not isinstance(spec["name"], (str, Enum)):
                _fail(cls, f"states[{index}] {spec!r}: name must be a string or Enum member")
            specs.append(dict(spec))
        elif isinstance(spec, (str, Enum)):
            specs.append(spec)
        else:
            _fail(
                cls,
                f"states[{index}] {spec!r} must be a name, an Enum member or a dict "
                "of State keywords",
            )
    return specs


def _normalize_transitions(cls: type, declared: t.Any) -> list[dict[str, t.Any]]:
    if isinstance(declared, dict):
        declared = [declared]
    if not isinstance(declared, (list, tuple)):
        _fail(cls, f"transitions must be a list of dicts or lists, not {declared!r}")
    normalized: list[dict[str, t.Any]] = []
    for index, entry in enumerate(declared):
        if isinstance(entry, (list, tuple)):
            if not 3 <= len(entry) <= len(TRANSITION_FIELDS):
                _fail(cls, f"transitions[{index}] {entry!r} must list trigger, source and dest")
            normalized.append(dict(zip(TRANSITION_FIELDS, entry, strict=False)))
        elif isinstance(entry, dict):
            normalized.append(dict(entry))
        else:
            _fail(cls, f"transitions[{index}] {entry!r} must be a dict or a list")
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
        transitions += _normalize_transitions(cls, own["transitions"])
    if not states:
        if transitions or "initial" in own:
            _fail(cls, "declares transitions or an initial state but no states")
        return None
    initial = own.get("initial", parent.initial if parent else None)
    options = {
        option: getattr(cls, option)
        for option in machine_options(machine_cls)
        if any(option in klass.__dict__ for klass in cls.__mro__)
    }
    return WorkflowDefinition(tuple(states), tuple(transitions), initial, options)


def _callback_names(value: t.Any) -> list[str]:
    if value is None:
        return []
    values = value if isinstance(value, (list, tuple)) else [value]
    return [item for item in values if isinstance(item, str)]


def _is_defined(cls: type, name: str) -> bool:
    if hasattr(cls, name):
        return True
    if any(name in getattr(klass, "__annotations__", {}) for klass in cls.__mro__):
        return True
    module_name, _, attribute = name.rpartition(".")
    if not module_name:
        return False
    try:
        return hasattr(importlib.import_module(module_name), attribute)
    except ImportError:
        return False


def _check_callbacks(
    cls: type, where: str, field_name: str, value: t.Any, location: Location = ()
) -> None:
    for name in _callback_names(value):
        if not _is_defined(cls, name):
            problem = (
                f"{name!r} is neither an attribute of {cls.__qualname__} "
                "nor an importable 'module.function' path"
            )
            _fail(cls, f"{where}: {field_name} {problem}", (*location, field_name), problem)


def _check_state_reference(
    cls: type,
    where: str,
    field_name: str,
    value: t.Any,
    names: c.Container[str],
    location: Location = (),
) -> None:
    references = value if isinstance(value, (list, tuple)) else [value]
    for reference in references:
        name = reference.name if isinstance(reference, Enum) else reference
        if not isinstance(name, str) or name not in names:
            problem = f"{reference!r} is not a state"
            _fail(cls, f"{where}: {field_name} {problem}", location, problem)


def check_workflow(cls: type, workflow: WorkflowDefinition, machine_cls: type[Machine]) -> None:
    """Raise :class:`WorkflowDefinitionError` for the first mistake in ``workflow``."""
    names = workflow.state_names
    seen: set[str] = set()
    for index, name in enumerate(names):
        if name in seen:
            _fail(
                cls,
                f"states[{index}]: state {name!r} is declared twice",
                ("states", index),
                f"state {name!r} is declared twice",
            )
        seen.add(name)
        spec = workflow.states[index]
        if isinstance(spec, dict):
            for callback_field in STATE_CALLBACK_FIELDS:
                _check_callbacks(
                    cls,
                    f"state {name!r}",
                    callback_field,
                    spec.get(callback_field),
                    ("states", index),
                )

    if workflow.initial is None:
        _fail(cls, f"declares no initial state; set initial to one of {', '.join(names)}")
    _check_state_reference(cls, "initial", "initial state", workflow.initial, seen, ("initial",))

    attribute = workflow.model_attribute
    if not isinstance(attribute, str) or not attribute.isidentifier():
        _fail(cls, f"model_attribute {attribute!r} is not an attribute name")

    allowed = set(TRANSITION_FIELDS) | set(
        inspect.signature(machine_cls.transition_cls.__init__).parameters
    ) - {"self"}
    for index, transition in enumerate(workflow.transitions):
        where = f"transitions[{index}] {transition!r}"
        entry: Location = ("transitions", index)
        unknown = sorted(set(transition) - allowed)
        if unknown:
            problem = f"unknown key(s) {', '.join(map(repr, unknown))}"
            _fail(cls, f"{where}: {problem}", entry, problem)
        for required in ("trigger", "source", "dest"):
            if required not in transition:
                _fail(cls, f"{where}: {required!r} is missing", entry, f"{required!r} is missing")
        trigger = transition["trigger"]
        if not isinstance(trigger, str) or not trigger.isidentifier():
            problem = f"{trigger!r} is not a valid method name"
            _fail(cls, f"{where}: trigger {problem}", (*entry, "trigger"), problem)
        if trigger == attribute:
            problem = f"{trigger!r} is the model attribute holding the state"
            _fail(cls, f"{where}: trigger {problem}", (*entry, "trigger"), problem)
        if transition["source"] != "*":
            _check_state_reference(
                cls, where, "source", transition["source"], seen, (*entry, "source")
            )
        if transition["dest"] not in (None, "="):
            _check_state_reference(cls, where, "dest", transition["dest"], seen, (*entry, "dest"))
        for callback_field in TRANSITION_CALLBACK_FIELDS:
            _check_callbacks(cls, where, callback_field, transition.get(callback_field), entry)

    for option in MACHINE_CALLBACK_OPTIONS:
        _check_callbacks(cls, "machine option", option, workflow.options.get(option), ("options",))


__all__ = [
    "MACHINE_CALLBACK_OPTIONS",
    "TRANSITION_FIELDS",
    "Location",
    "StateSpec",
    "WorkflowDefinition",
    "check_workflow",
    "declared_workflow",
    "machine_options",
    "parent_workflow",
    "spec_name",
]

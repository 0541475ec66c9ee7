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
from transitions.extensions.nesting import HierarchicalMachine, NestedState

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


def machine_option_defaults(machine_cls: type[Machine]) -> dict[str, t.Any]:
    """Keywords of ``machine_cls`` and its bases that a class may declare, each with the
    default of the nearest class that takes it (``inspect.Parameter.empty`` for none)."""
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


@dataclass
class StateScope:
    """One level of a workflow's states: the root, or the children of a compound state.

    Transitions declared at a level name their states relative to it, as
    ``transitions``' nested machines resolve them.
    """

    path: tuple[str, ...]
    children: dict[str, StateScope] = field(default_factory=dict)
    transitions: list[tuple[str, Location, dict[str, t.Any]]] = field(default_factory=list)
    """(where, location, transition) declared at this level."""
    initial: t.Any = None
    remap: dict[str, t.Any] | None = None

    def walk(self) -> c.Iterator[StateScope]:
        """This scope and every scope below it, parents first."""
        yield self
        for child in self.children.values():
            yield from child.walk()

    def find(self, parts: c.Sequence[str]) -> StateScope | None:
        """The state at ``parts`` below this scope, if there is one."""
        scope: StateScope | None = self
        for part in parts:
            scope = scope.children.get(part) if scope is not None else None
        return scope


def _reference_name(reference: t.Any) -> str | None:
    name = reference.name if isinstance(reference, Enum) else reference
    return name if isinstance(name, str) else None


class _ScopeBuilder:
    """Reads declared states into a :class:`StateScope` tree, as ``HierarchicalMachine.add_states``.

    ``separator`` is None for flat machines, whose state names are never split.
    """

    def __init__(self, cls: type, separator: str | None) -> None:
        self.cls = cls
        self.separator = separator

    def full_name(self, path: c.Sequence[str]) -> str:
        return (self.separator or "").join(path)

    def add_all(
        self,
        scope: StateScope,
        specs: c.Iterable[t.Any],
        where: str,
        remap: c.Container[str],
        location: Location,
    ) -> None:
        for index, spec in enumerate(specs):
            self.add(scope, spec, f"{where}[{index}]", remap, (*location, index))

    def add(
        self,
        scope: StateScope,
        spec: t.Any,
        where: str,
        remap: c.Container[str],
        location: Location = (),
    ) -> None:
        if self.separator is not None:
            spec = self._expanded(spec)
        if isinstance(spec, dict):
            self._add_dict(scope, spec, where, remap, location)
        elif isinstance(spec, Enum):
            self._add_leaf(scope, spec.name, where, remap, location)
        elif isinstance(spec, str):
            parts = spec.split(self.separator) if self.separator else [spec]
            if parts[0] in remap:
                return
            for parent in parts[:-1]:
                scope = scope.children.setdefault(parent, StateScope((*scope.path, parent)))
            self._add_leaf(scope, parts[-1], where, (), location)
        elif (embedded := _embedded_machine(spec)) is not None:
            self._add_machine(scope, embedded, where, remap, location)
        elif self.separator is not None and _is_nested_state(spec):
            self._add_state_object(scope, spec, where, remap, location)
        else:
            problem = f"{spec!r} must be a name, an Enum member or a dict of State keywords"
            _fail(self.cls, f"{where} {problem}", location, problem)

    @staticmethod
    def _expanded(spec: t.Any) -> t.Any:
        # HierarchicalMachine reads an Enum whose value is an Enum or a dict as a compound state.
        if isinstance(spec, Enum) and isinstance(spec.value, EnumMeta):
            return {"name": spec, "children": spec.value}
        if isinstance(spec, Enum) and isinstance(spec.value, dict):
            return {"name": spec, **spec.value}
        return spec

    def _add_leaf(
        self,
        scope: StateScope,
        name: str,
        where: str,
        remap: c.Container[str],
        location: Location = (),
    ) -> StateScope | None:
        if name in remap:
            return None
        if name in scope.children:
            problem = f"state {self.full_name((*scope.path, name))!r} is declared twice"
            _fail(self.cls, f"{where}: {problem}", location, problem)
        child = StateScope((*scope.path, name))
        scope.children[name] = child
        return child

    def _add_dict(
        self,
        scope: StateScope,
        spec: dict[str, t.Any],
        where: str,
        remap: c.Container[str],
        location: Location,
    ) -> None:
        if "name" not in spec:
            _fail(self.cls, f"{where} {spec!r} has no 'name'", location, "the state has no 'name'")
        name = _reference_name(spec["name"])
        if name is None:
            problem = "name must be a string or Enum member"
            _fail(self.cls, f"{where} {spec!r}: {problem}", (*location, "name"), problem)
        child = self._add_leaf(scope, name, where, remap, location)
        if child is None:
            return
        label = f"state {self.full_name(child.path)!r}"
        for callback_field in STATE_CALLBACK_FIELDS:
            _check_callbacks(self.cls, label, callback_field, spec.get(callback_field), location)
        if self.separator is None:
            return
        child_remap = spec.get("remap")
        if child_remap is not None and not isinstance(child_remap, dict):
            problem = "remap must be a dict of child state -> state"
            _fail(self.cls, f"{label}: {problem}", (*location, "remap"), problem)
        child.remap = child_remap
        parallel = spec.get("parallel")
        key = next((k for k in ("parallel", "children", "states") if spec.get(k)), "children")
        children = parallel or spec.get("children", spec.get("states", []))
        if isinstance(children, (str, Enum, dict)) or _embedded_machine(children) is not None:
            children = [children]
        if isinstance(children, EnumMeta):
            children = list(children)
        if not isinstance(children, (list, tuple)):
            problem = f"children must be a list of states, not {children!r}"
            _fail(self.cls, f"{label}: {problem}", (*location, key), problem)
        if parallel:
            child.initial = [_reference_name(_state_spec_name(item)) for item in children]
        else:
            child.initial = spec.get("initial")
        self.add_all(child, children, f"{label} children", child_remap or (), (*location, key))
        for index, transition in enumerate(
            _normalize_transitions(self.cls, spec.get("transitions", []))
        ):
            child.transitions.append(
                (
                    f"{label} transitions[{index}] {transition!r}",
                    (*location, "transitions", index),
                    transition,
                )
            )

    def _add_machine(
        self,
        scope: StateScope,
        machine: Machine,
        where: str,
        remap: c.Container[str],
        location: Location,
    ) -> None:
        if self.separator is None:
            problem = "only a nested machine can embed another machine"
            _fail(self.cls, f"{where}: {problem}", location, problem)
        machine_scope = t.cast(t.Any, machine)
        with machine_scope():
            names = machine_scope.get_nested_state_names()
        for name in names:
            parts = name.split(self.separator)
            if parts[0] in remap:
                continue
            target = scope
            for part in parts:
                target = target.children.setdefault(part, StateScope((*target.path, part)))
        if scope.initial is None:
            scope.initial = machine_scope.initial

    def _add_state_object(
        self,
        scope: StateScope,
        state: t.Any,
        where: str,
        remap: c.Container[str],
        location: Location,
    ) -> None:
        child = self._add_leaf(scope, state.name, where, remap, location)
        if child is not None:
            children = list(state.states.values())
            self.add_all(child, children, f"{where} children", (), (*location, "children"))


def _state_spec_name(spec: t.Any) -> t.Any:
    return spec["name"] if isinstance(spec, dict) else getattr(spec, "name", spec)


def _is_nested_state(spec: t.Any) -> bool:
    return isinstance(spec, NestedState)


def _embedded_machine(spec: t.Any) -> Machine | None:
    """The machine of a nested workflow used as the children of a state, if ``spec`` is one."""
    if isinstance(spec, HierarchicalMachine):
        return spec
    machine = getattr(spec, "machine", None) if isinstance(spec, type) else None
    return machine if isinstance(machine, HierarchicalMachine) else None


def nesting_separator(machine_cls: type[Machine]) -> str | None:
    """The separator of nested state names for ``machine_cls``; None for a flat machine."""
    if issubclass(machine_cls, HierarchicalMachine):
        return machine_cls.state_cls.separator
    return None


def state_scopes(cls: type, workflow: WorkflowDefinition, machine_cls: type[Machine]) -> StateScope:
    """The declared states of ``workflow`` as a tree, checking names and state callbacks."""
    builder = _ScopeBuilder(cls, nesting_separator(machine_cls))
    root = StateScope(())
    builder.add_all(root, workflow.states, "states", (), ("states",))
    for index, transition in enumerate(workflow.transitions):
        root.transitions.append(
            (f"transitions[{index}] {transition!r}", ("transitions", index), transition)
        )
    root.initial = workflow.initial
    return root


class _References:
    """Checks that the states a workflow names exist, from the level that names them."""

    def __init__(self, cls: type, root: StateScope, separator: str | None) -> None:
        self.cls = cls
        self.root = root
        self.separator = separator
        self.leaf_names = {scope.path[-1] for scope in root.walk() if scope.path}

    def resolves(self, scope: StateScope, reference: t.Any, absolute: bool) -> bool:
        if isinstance(reference, Enum) and self.separator is not None:
            # Nested machines look Enum members up anywhere in the tree.
            return reference.name in self.leaf_names
        name = _reference_name(reference)
        if name is None:
            return False
        parts = name.split(self.separator) if self.separator else [name]
        if scope.find(parts) is not None:
            return True
        return absolute and len(parts) > 1 and self.root.find(parts) is not None

    def check(
        self,
        scope: StateScope,
        where: str,
        field_name: str,
        value: t.Any,
        location: Location,
        absolute: bool = False,
    ) -> None:
        references = value if isinstance(value, (list, tuple)) else [value]
        for reference in references:
            if not self.resolves(scope, reference, absolute):
                problem = f"{reference!r} is not a state"
                _fail(self.cls, f"{where}: {field_name} {problem}", location, problem)


def check_workflow(cls: type, workflow: WorkflowDefinition, machine_cls: type[Machine]) -> None:
    """Raise :class:`WorkflowDefinitionError` for the first mistake in ``workflow``.

    For a nested machine (``machine_cls`` a ``HierarchicalMachine``) state names
    are full paths (``shipping_packed``), and transitions and ``initial`` declared
    inside a compound state name states relative to it.
    """
    root = state_scopes(cls, workflow, machine_cls)
    separator = nesting_separator(machine_cls)
    references = _References(cls, root, separator)

    if workflow.initial is None:
        names = ", ".join(root.children)
        _fail(cls, f"declares no initial state; set initial to one of {names}")
    references.check(root, "initial", "initial state", workflow.initial, ("initial",))

    attribute = workflow.model_attribute
    if not isinstance(attribute, str) or not attribute.isidentifier():
        _fail(cls, f"model_attribute {attribute!r} is not an attribute name")

    allowed = set(TRANSITION_FIELDS) | set(
        inspect.signature(machine_cls.transition_cls.__init__).parameters
    ) - {"self"}
    for scope in root.walk():
        label = f"state {(separator or '').join(scope.path)!r}"
        if scope.path and scope.initial is not None:
            references.check(scope, label, "initial state", scope.initial, ())
        if scope.remap:
            parent = root.find(scope.path[:-1])
            assert parent is not None
            for value in scope.remap.values():
                references.check(parent, f"{label} remap", "target", value, (), absolute=True)
        for where, entry, transition in scope.transitions:
            _check_transition(cls, where, entry, transition, allowed, attribute)
            if transition["source"] != "*":
                references.check(scope, where, "source", transition["source"], (*entry, "source"))
            if transition["dest"] not in (None, "="):
                references.check(
                    scope, where, "dest", transition["dest"], (*entry, "dest"), absolute=True
                )

    for option in MACHINE_CALLBACK_OPTIONS:
        _check_callbacks(cls, "machine option", option, workflow.options.get(option), ("options",))


def _check_transition(
    cls: type,
    where: str,
    entry: Location,
    transition: dict[str, t.Any],
    allowed: set[str],
    attribute: str,
) -> None:
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
    for callback_field in TRANSITION_CALLBACK_FIELDS:
        _check_callbacks(cls, where, callback_field, transition.get(callback_field), entry)


__all__ = [
    "MACHINE_CALLBACK_OPTIONS",
    "TRANSITION_FIELDS",
    "Location",
    "StateScope",
    "StateSpec",
    "WorkflowDefinition",
    "check_workflow",
    "declared_workflow",
    "machine_option_defaults",
    "machine_options",
    "nesting_separator",
    "parent_workflow",
    "spec_name",
    "state_scopes",
]

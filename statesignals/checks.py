"""Checking a declared workflow before it is compiled.

:func:`check_workflow` rejects every mistake it can see in a
:class:`~statesignals.definition.WorkflowDefinition` (unknown states, callbacks the
class does not define, bad nested declarations ...) with a
:class:`~statesignals.WorkflowDefinitionError` naming the class and the entry.
"""

from __future__ import annotations

import collections.abc as c
import importlib
import inspect
import typing as t
from dataclasses import dataclass, field
from enum import Enum, EnumMeta

from transitions import Machine, State
from transitions.extensions.nesting import HierarchicalMachine, NestedState

from .definition import (
    MACHINE_CALLBACK_OPTIONS,
    STATE_CALLBACK_FIELDS,
    TRANSITION_CALLBACK_FIELDS,
    TRANSITION_FIELDS,
    Location,
    WorkflowDefinition,
    fail,
    normalize_transitions,
)
from .errors import WorkflowDefinitionError


def _callbacks(value: t.Any) -> list[t.Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


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
    except (ImportError, TypeError, ValueError):  # "..x" is no module path at all
        return False


class _UndefinedCallbacks:
    """Gathers every guard and callback name a class does not define, to report them at once,
    and every guard or callback that is neither a name nor callable."""

    def __init__(self, cls: type, look_up: bool = True) -> None:
        self.cls = cls
        self.look_up = look_up
        self.found: list[WorkflowDefinitionError] = []

    def check(self, where: str, field_name: str, value: t.Any, location: Location = ()) -> None:
        for callback in _callbacks(value):
            if isinstance(callback, str):
                if not self.look_up or _is_defined(self.cls, callback):
                    continue
                problem = (
                    f"{callback!r} is neither an attribute of {self.cls.__qualname__} "
                    "nor an importable 'module.function' path"
                )
            elif callable(callback):
                continue
            else:
                # transitions would call it on the first trigger, after the state changed.
                problem = f"{callback!r} is not a callable or the name of one"
            self.found.append(
                WorkflowDefinitionError(
                    f"{self.cls.__qualname__}: {where}: {field_name} {problem}",
                    location=(*location, field_name),
                    problem=problem,
                )
            )

    def raise_found(self) -> None:
        if not self.found:
            return
        first = self.found[0]
        if len(self.found) == 1:
            raise first
        raise WorkflowDefinitionError(
            f"{self.cls.__qualname__}: {len(self.found)} guard and callback names are not "
            f"defined: {'; '.join(str(error) for error in self.found)}",
            location=first.location,
            problem=first.problem,
            mistakes=self.found,
        )


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


_NESTING_KEYS = ("children", "states", "parallel", "initial", "transitions", "remap")


def _reference_name(reference: t.Any) -> str | None:
    name = reference.name if isinstance(reference, Enum) else reference
    return name if isinstance(name, str) else None


class _ScopeBuilder:
    """Reads declared states into a :class:`StateScope` tree, as ``HierarchicalMachine.add_states``.

    ``separator`` is None for flat machines, whose state names are never split.
    """

    def __init__(self, cls: type, separator: str | None, callbacks: _UndefinedCallbacks) -> None:
        self.cls = cls
        self.separator = separator
        self.callbacks = callbacks

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
            self._check_splits(spec, where, location)
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
        elif isinstance(spec, State) and self.separator is None:
            self._add_leaf(scope, spec.name, where, remap, location)
        else:
            problem = f"{spec!r} must be a name, an Enum member or a dict of State keywords"
            fail(self.cls, f"{where} {problem}", location, problem)

    def _check_splits(self, name: str, where: str, location: Location) -> None:
        """A nested machine splits names at its separator: ``a_`` would declare ``a``."""
        separator = self.separator
        if separator and "" in name.split(separator):
            problem = (
                f"state name {name!r} cannot start or end with {separator!r} or hold "
                f"{separator * 2!r}: a nested machine splits names at {separator!r}"
            )
            fail(self.cls, f"{where}: {problem}", location, problem)

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
        self._check_splits(name, where, location)
        if name in remap:
            return None
        if name in scope.children:
            problem = f"state {self.full_name((*scope.path, name))!r} is declared twice"
            fail(self.cls, f"{where}: {problem}", location, problem)
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
            fail(self.cls, f"{where} {spec!r} has no 'name'", location, "the state has no 'name'")
        name = _reference_name(spec["name"])
        if name is None:
            problem = "name must be a string or Enum member"
            fail(self.cls, f"{where} {spec!r}: {problem}", (*location, "name"), problem)
        child = self._add_leaf(scope, name, where, remap, location)
        if child is None:
            return
        label = f"state {self.full_name(child.path)!r}"
        for callback_field in STATE_CALLBACK_FIELDS:
            self.callbacks.check(label, callback_field, spec.get(callback_field), location)
        if self.separator is None:
            nesting = [key for key in _NESTING_KEYS if key in spec]
            if nesting:
                problem = (
                    f"{', '.join(nesting)} declare nested states, which need a nested machine "
                    "(machine_cls = SignalingHierarchicalMachine)"
                )
                fail(self.cls, f"{label}: {problem}", (*location, nesting[0]), problem)
            return
        child_remap = spec.get("remap")
        if child_remap is not None and not isinstance(child_remap, dict):
            problem = "remap must be a dict of child state -> state"
            fail(self.cls, f"{label}: {problem}", (*location, "remap"), problem)
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
            fail(self.cls, f"{label}: {problem}", (*location, key), problem)
        if parallel:
            child.initial = [_reference_name(_state_spec_name(item)) for item in children]
        else:
            # transitions documents "initial": False for a compound state entered only
            # through its children.
            initial = spec.get("initial")
            child.initial = None if initial is False else initial
        self.add_all(child, children, f"{label} children", child_remap or (), (*location, key))
        for index, transition in enumerate(
            normalize_transitions(self.cls, spec.get("transitions", []))
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
            fail(self.cls, f"{where}: {problem}", location, problem)
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


def state_scopes(
    cls: type,
    workflow: WorkflowDefinition,
    machine_cls: type[Machine],
    callbacks: _UndefinedCallbacks | None = None,
) -> StateScope:
    """The declared states of ``workflow`` as a tree, checking names (and, into
    ``callbacks``, the state callbacks)."""
    builder = _ScopeBuilder(
        cls, nesting_separator(machine_cls), callbacks or _UndefinedCallbacks(cls)
    )
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
                fail(self.cls, f"{where}: {field_name} {problem}", location, problem)


def check_workflow(
    cls: type,
    workflow: WorkflowDefinition,
    machine_cls: type[Machine],
    reserved: c.Collection[str] = (),
    *,
    look_up_callbacks: bool = True,
) -> None:
    """Raise :class:`WorkflowDefinitionError` for the first mistake in ``workflow``;
    guard and callback names the class does not define are reported all at once.

    For a nested machine (``machine_cls`` a ``HierarchicalMachine``) state names
    are full paths (``shipping_packed``), and transitions and ``initial`` declared
    inside a compound state name states relative to it. ``reserved`` names the
    attributes the model needs for itself, which cannot hold the state.
    ``look_up_callbacks=False`` checks only the structure, for a workflow drawn
    without the class its guards belong to.
    """
    callbacks = _UndefinedCallbacks(cls, look_up_callbacks)
    root = state_scopes(cls, workflow, machine_cls, callbacks)
    separator = nesting_separator(machine_cls)
    references = _References(cls, root, separator)

    if workflow.initial is None:
        names = ", ".join(root.children)
        fail(cls, f"declares no initial state; set initial to one of {names}")
    if not isinstance(workflow.initial, (str, Enum)):
        problem = f"initial {workflow.initial!r} must name one state"
        fail(cls, problem, ("initial",), problem)
    references.check(root, "initial", "initial state", workflow.initial, ("initial",))

    attribute = workflow.model_attribute
    if not isinstance(attribute, str) or not attribute.isidentifier():
        fail(cls, f"model_attribute {attribute!r} is not an attribute name")
    if attribute.startswith("__") and attribute.endswith("__"):
        fail(cls, f"model_attribute {attribute!r} is a special attribute of every object")
    if attribute in reserved:
        fail(
            cls,
            f"model_attribute {attribute!r} is an attribute every workflow model needs "
            "for itself; choose another name for the state",
        )

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
            _check_transition(cls, where, entry, transition, allowed, attribute, callbacks)
            if transition["source"] != "*":
                references.check(scope, where, "source", transition["source"], (*entry, "source"))
            if transition["dest"] not in (None, "="):
                references.check(
                    scope, where, "dest", transition["dest"], (*entry, "dest"), absolute=True
                )

    for option in MACHINE_CALLBACK_OPTIONS:
        callbacks.check("machine option", option, workflow.options.get(option), ("options",))
    callbacks.raise_found()


def _check_transition(
    cls: type,
    where: str,
    entry: Location,
    transition: dict[str, t.Any],
    allowed: set[str],
    attribute: str,
    callbacks: _UndefinedCallbacks,
) -> None:
    unknown = sorted(set(transition) - allowed)
    if unknown:
        problem = f"unknown key(s) {', '.join(map(repr, unknown))}"
        fail(cls, f"{where}: {problem}", entry, problem)
    for required in ("trigger", "source", "dest"):
        if required not in transition:
            fail(cls, f"{where}: {required!r} is missing", entry, f"{required!r} is missing")
    trigger = transition["trigger"]
    if not isinstance(trigger, str) or not trigger.isidentifier():
        problem = f"{trigger!r} is not a valid method name"
        fail(cls, f"{where}: trigger {problem}", (*entry, "trigger"), problem)
    if trigger == attribute:
        problem = f"{trigger!r} is the model attribute holding the state"
        fail(cls, f"{where}: trigger {problem}", (*entry, "trigger"), problem)
    for callback_field in TRANSITION_CALLBACK_FIELDS:
        callbacks.check(where, callback_field, transition.get(callback_field), entry)


__all__ = ["StateScope", "check_workflow", "nesting_separator", "state_scopes"]

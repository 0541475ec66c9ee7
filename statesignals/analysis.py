"""A workflow read as a graph: its states (nested ones as a tree) and its edges.

Diagrams, the ``describe`` table and :func:`WorkflowGraph.findings` (the
unreachable states and dead ends that ``statesignals.validate(Order)`` and ``statesignals
validate`` report) all read a workflow through :class:`WorkflowGraph`. It is
built from the declared :class:`~statesignals.definition.WorkflowDefinition`,
not from a compiled machine, so a workflow file can be drawn and checked before
any class exists for it.
"""

from __future__ import annotations

import collections.abc as c
import typing as t
from dataclasses import dataclass
from enum import Enum

from .definition import StateSpec, WorkflowDefinition, spec_name
from .errors import WorkflowLookupError
from .naming import state_name

DEFAULT_SEPARATOR = "_"
"""How ``transitions``' nested machines join a parent's and a child's name."""

_CHILD_KEYS = ("children", "states", "parallel")


@dataclass(frozen=True)
class StateNode:
    """One declared state; a compound (nested) state has ``children``."""

    name: str
    """The full name, as the model's state attribute holds it (``shipping_packing``)."""
    label: str
    """The name declared in its parent (``packing``)."""
    final: bool = False
    children: tuple[StateNode, ...] = ()
    initial: tuple[str, ...] = ()
    """Full names of the children entered with this state (all of them when parallel)."""
    parallel: bool = False

    def walk(self) -> c.Iterator[StateNode]:
        """This state, then every state nested in it, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True)
class Edge:
    """One arrow of the workflow: a trigger leading from ``source`` to ``dest``."""

    trigger: str
    source: str
    dest: str
    """The state after the transition; the source for an internal one."""
    guards: tuple[str, ...] = ()
    """``is_funded`` for a condition, ``!is_shipped`` for an ``unless``."""
    internal: bool = False
    auto: bool = False
    """A ``to_<state>`` transition that ``transitions`` adds from every state."""

    @property
    def label(self) -> str:
        """``pay [is_funded && !is_blocked]``."""
        if not self.guards:
            return self.trigger
        return f"{self.trigger} [{' && '.join(self.guards)}]"


@dataclass(frozen=True)
class DeclaredTransition:
    """A declared transition as ``describe`` lists it (sources not expanded)."""

    trigger: str
    sources: tuple[str, ...]
    dest: str | None
    """None for an internal transition."""
    guards: tuple[str, ...]


@dataclass(frozen=True)
class Finding:
    """Something ``check()`` reports about a workflow that compiles but looks wrong.

    An unreachable state is an ``"error"`` (no model can ever be in it); a dead
    end is a ``"warning"``: a last state not marked ``final`` is often simply that.
    """

    kind: t.Literal["unreachable", "dead_end"]
    state: str
    message: str

    @property
    def severity(self) -> t.Literal["error", "warning"]:
        """``"error"`` for an unreachable state, ``"warning"`` for a dead end."""
        return "error" if self.kind == "unreachable" else "warning"

    def __str__(self) -> str:
        return self.message


def callable_name(value: t.Any) -> str:
    """A guard or callback as a name: strings as they are, functions by ``__name__``."""
    if isinstance(value, str):
        return value
    return str(getattr(value, "__name__", None) or repr(value))


def _listed(value: t.Any) -> list[t.Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def guard_labels(transition: c.Mapping[str, t.Any]) -> tuple[str, ...]:
    """The guards of a declared transition: ``is_funded``, ``!is_shipped``."""
    conditions = [callable_name(item) for item in _listed(transition.get("conditions"))]
    unless = [f"!{callable_name(item)}" for item in _listed(transition.get("unless"))]
    return (*conditions, *unless)


def _children(spec: StateSpec) -> list[t.Any]:
    if not isinstance(spec, dict):
        return []
    for key in _CHILD_KEYS:
        if spec.get(key):
            return _listed(spec[key])
    return []


class _Builder:
    def __init__(self, separator: str) -> None:
        self.separator = separator
        self.transitions: list[DeclaredTransition] = []

    def state(self, spec: StateSpec, prefix: str) -> StateNode:
        label = spec_name(spec) if isinstance(spec, (str, Enum, dict)) else str(spec)
        name = f"{prefix}{label}"
        if not isinstance(spec, dict):
            return StateNode(name, label)
        inner = f"{name}{self.separator}"
        children = tuple(self.state(child, inner) for child in _children(spec))
        parallel = bool(spec.get("parallel"))
        if parallel:
            initial = tuple(child.name for child in children)
        else:
            declared = _listed(spec.get("initial")) or ([children[0].label] if children else [])
            initial = tuple(f"{inner}{state_name(item)}" for item in declared)
        # Transitions declared inside a nested state name its children relatively.
        self.declared(spec.get("transitions") or (), inner, children)
        return StateNode(name, label, bool(spec.get("final")), children, initial, parallel)

    def declared(
        self, transitions: c.Iterable[t.Any], prefix: str, scope: c.Sequence[StateNode]
    ) -> None:
        for entry in transitions:
            if isinstance(entry, (list, tuple)):
                entry = dict(zip(("trigger", "source", "dest"), entry, strict=False))
            source = entry["source"]
            if source == "*":
                sources = tuple(node.name for top in scope for node in top.walk())
            else:
                sources = tuple(f"{prefix}{state_name(item)}" for item in _listed(source))
            dest = entry.get("dest")
            internal = dest is None
            self.transitions.append(
                DeclaredTransition(
                    trigger=str(entry["trigger"]),
                    sources=sources,
                    dest=None
                    if internal
                    else "="
                    if dest == "="
                    else f"{prefix}{state_name(dest)}",
                    guards=guard_labels(entry),
                )
            )


@dataclass(frozen=True)
class WorkflowGraph:
    """The states and edges of one workflow."""

    name: str
    states: tuple[StateNode, ...]
    """The top-level states; nested ones are their ``children``."""
    initial: str
    transitions: tuple[DeclaredTransition, ...]
    """The declared transitions, nested states' included, in declaration order."""
    auto_transitions: bool
    """Whether the machine adds ``to_<state>`` transitions (hidden in diagrams by default)."""

    @classmethod
    def from_definition(
        cls, workflow: WorkflowDefinition, name: str, separator: str = DEFAULT_SEPARATOR
    ) -> WorkflowGraph:
        """Read ``workflow``; ``separator`` joins nested state names."""
        builder = _Builder(separator)
        states = tuple(builder.state(spec, "") for spec in workflow.states)
        top_transitions = list(builder.transitions)
        builder.transitions = []
        builder.declared(workflow.transitions, "", states)
        return cls(
            name=name,
            states=states,
            initial=state_name(workflow.initial),
            transitions=(*builder.transitions, *top_transitions),
            auto_transitions=bool(workflow.options.get("auto_transitions", True)),
        )

    @classmethod
    def of(cls, model_class: type) -> WorkflowGraph:
        """The graph of a :class:`~statesignals.SignalingMachine` subclass's workflow."""
        workflow = getattr(model_class, "workflow", None)
        if not isinstance(workflow, WorkflowDefinition):
            raise WorkflowLookupError(f"{model_class.__qualname__} declares no workflow")
        machine_cls = getattr(model_class, "machine_cls", None)
        state_cls = getattr(machine_cls, "state_cls", None)
        separator = getattr(state_cls, "separator", DEFAULT_SEPARATOR)
        return cls.from_definition(workflow, model_class.__qualname__, separator)

    def walk(self) -> c.Iterator[StateNode]:
        """Every state, nested ones after their parent."""
        for state in self.states:
            yield from state.walk()

    @property
    def nested(self) -> bool:
        """Whether any state has children."""
        return any(state.children for state in self.states)

    def edges(self) -> c.Iterator[Edge]:
        """The declared transitions, one edge per source state."""
        for transition in self.transitions:
            for source in transition.sources:
                if transition.dest is None:
                    dest, internal = source, True
                else:
                    dest, internal = (source if transition.dest == "=" else transition.dest), False
                yield Edge(transition.trigger, source, dest, transition.guards, internal)

    def auto_edges(self) -> c.Iterator[Edge]:
        """The ``to_<state>`` edges, from every state to every state, if the machine adds them."""
        if not self.auto_transitions:
            return
        names = [state.name for state in self.walk()]
        for dest in names:
            for source in names:
                yield Edge(f"to_{dest}", source, dest, auto=True)

    def findings(self) -> list[Finding]:
        """States that no transition reaches from the initial one, and dead ends.

        A dead end is a state that is not marked ``final`` and that no
        transition leaves (neither its own nor one of an enclosing state's).
        ``to_<state>`` auto transitions are not counted: they exist for every
        workflow and say nothing about its design.
        """
        nodes = {node.name: node for node in self.walk()}
        parents = {child.name: node.name for node in nodes.values() for child in node.children}
        leaving: dict[str, list[Edge]] = {}
        for edge in self.edges():
            leaving.setdefault(edge.source, []).append(edge)

        def lineage(name: str) -> list[str]:
            names = [name]
            while names[-1] in parents:
                names.append(parents[names[-1]])
            return names

        reached: set[str] = set()
        pending = [self.initial]
        while pending:
            name = pending.pop()
            if name in reached or name not in nodes:
                continue
            reached.add(name)
            pending.extend(lineage(name)[1:])
            pending.extend(nodes[name].initial)
            pending.extend(edge.dest for edge in leaving.get(name, ()))

        findings: list[Finding] = []
        for name, node in nodes.items():
            if name not in reached:
                findings.append(
                    Finding(
                        "unreachable",
                        name,
                        f"state {name!r} cannot be reached from the initial state {self.initial!r}",
                    )
                )
            if node.children or node.final:
                continue
            exits = (
                edge
                for ancestor in lineage(name)
                for edge in leaving.get(ancestor, ())
                if edge.dest != ancestor and not edge.internal
            )
            if next(exits, None) is None:
                findings.append(
                    Finding(
                        "dead_end",
                        name,
                        f"state {name!r} is a dead end: no transition leaves it "
                        "and it is not marked final",
                    )
                )
        return findings


def validate(model_class: type) -> list[Finding]:
    """What compiles but looks wrong in a workflow class: unreachable states and
    non-final dead ends (see :meth:`WorkflowGraph.findings`). Empty when all is well."""
    return WorkflowGraph.of(model_class).findings()


__all__ = [
    "DEFAULT_SEPARATOR",
    "DeclaredTransition",
    "Edge",
    "Finding",
    "StateNode",
    "WorkflowGraph",
    "callable_name",
    "guard_labels",
    "validate",
]

"""Workflow diagrams: DOT (Graphviz), Mermaid ``stateDiagram-v2``, SVG and PNG files.

``diagram(Order)`` draws the workflow of a class; ``diagram(order)`` draws it
with the instance's current state highlighted, and the transition that led
there when the class remembers it (:func:`remember_last_transitions`). Both
return a :class:`Diagram`, which gives the DOT source (built with the
``graphviz`` package), Mermaid text, and SVG or PNG rendered by Graphviz's
``dot`` program when it is installed, or else by the ``graphviz-pure`` wheel
that a plain ``pip install transitions-statesignals`` brings.
"""

from __future__ import annotations

import collections.abc as c
import json
import os
import re
import typing as t
from enum import Enum
from pathlib import Path

from .analysis import Edge, StateNode, WorkflowGraph
from .definition import WorkflowDefinition
from .errors import DiagramError
from .last_transition import LastTransition, last_transition, remember_last_transitions
from .naming import model_state_names
from .rendering import INSTALL_HINT, ImageFormat, render_dot, renderer
from .text import printable

if t.TYPE_CHECKING:
    import graphviz

Direction = t.Literal["LR", "TB"]
"""Left to right or top down."""
OutputFormat = t.Literal["svg", "png", "dot", "mermaid"]

OUTPUT_FORMATS: tuple[OutputFormat, ...] = ("svg", "png", "dot", "mermaid")
SUFFIX_FORMATS: dict[str, OutputFormat] = {
    ".svg": "svg",
    ".png": "png",
    ".dot": "dot",
    ".gv": "dot",
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
}

_CURRENT_FILL = "#ffe08a"
_HIGHLIGHT = "#c0392b"
_FONT = "Helvetica"


class Diagram:
    """A workflow drawn as DOT, Mermaid, SVG or PNG.

    Made by :func:`diagram` (``diagram(Order)``, ``diagram(order)``). In
    Jupyter it shows itself as SVG.
    """

    def __init__(
        self,
        graph: WorkflowGraph,
        *,
        title: str | None = None,
        direction: Direction = "LR",
        auto_transitions: bool = False,
        state: str | c.Sequence[str] | None = None,
        transition: LastTransition | None = None,
    ) -> None:
        if direction not in ("LR", "TB"):
            raise DiagramError(f"{graph.name}: direction must be 'LR' or 'TB', not {direction!r}")
        self.graph = graph
        self.title = title
        self.direction: Direction = direction
        self.auto_transitions = auto_transitions
        self.nodes = {node.name: node for node in graph.walk()}
        states = () if state is None else (state,) if isinstance(state, str) else tuple(state)
        for name in states:
            if name not in self.nodes:
                raise DiagramError(
                    f"{graph.name} has no state {name!r}; known: {', '.join(self.nodes)}"
                )
        self.states = states
        """The highlighted states: the current one, or one per region of parallel states."""
        self.transition = (
            transition if transition and _leads_to(self.nodes, transition.dest, states) else None
        )

    @property
    def state(self) -> str | None:
        """The highlighted state, if exactly one is."""
        return self.states[0] if len(self.states) == 1 else None

    # Which edges are drawn, and how.

    def edges(self) -> list[Edge]:
        """The edges the diagram draws, the highlighted auto transition included."""
        drawn = list(self.graph.edges())
        if self.auto_transitions:
            drawn.extend(self.graph.auto_edges())
        elif self.transition is not None and self.transition.trigger.startswith("to_"):
            last = self.transition
            if not any(self._is_last(edge) for edge in drawn):
                drawn.append(Edge(last.trigger, last.source, last.dest, auto=True))
        return drawn

    def _is_last(self, edge: Edge) -> bool:
        last = self.transition
        return (
            last is not None
            and edge.trigger == last.trigger
            and edge.source == last.source
            and edge.dest == last.dest
            and not edge.internal
        )

    # DOT

    def dot(self) -> graphviz.Digraph:
        """The diagram as a :class:`graphviz.Digraph`."""
        import graphviz

        graph = graphviz.Digraph(name=self.graph.name)
        graph.attr(rankdir=self.direction, fontname=_FONT, compound="true")
        if self.title:
            graph.attr(label=_dot_text(self.title), labelloc="t", fontsize="16")
        graph.attr("node", shape="box", style="rounded", fontname=_FONT)
        graph.attr("edge", fontname=_FONT, fontsize="11")
        self._dot_start(graph, "", (self.graph.initial,))
        for node in self.graph.states:
            self._dot_state(graph, node)
        for edge in self.edges():
            self._dot_edge(graph, edge)
        return graph

    @property
    def source(self) -> str:
        """The DOT source."""
        return t.cast(str, self.dot().source)

    def _dot_start(self, graph: graphviz.Digraph, owner: str, initial: tuple[str, ...]) -> None:
        start = f"__start__{owner}"
        graph.node(
            _dot_id(start), label="", shape="circle", style="filled", fillcolor="black", width="0.2"
        )
        for name in initial:
            if name in self.nodes:
                self._dot_arrow(graph, start, name, {})

    def _dot_state(self, graph: graphviz.Digraph, node: StateNode) -> None:
        if node.children:
            with graph.subgraph(name=_dot_text(f"cluster_{node.name}")) as cluster:
                style = "rounded,dashed" if node.parallel else "rounded"
                attributes = {
                    "label": _dot_text(node.label),
                    "style": style,
                    "id": _dot_text(f"state_{node.name}"),
                }
                if node.name in self.states:
                    attributes.update(style=f"{style},filled,bold", fillcolor=_CURRENT_FILL)
                cluster.attr(**attributes)
                if not node.parallel:
                    self._dot_start(cluster, node.name, node.initial)
                for child in node.children:
                    self._dot_state(cluster, child)
            return
        attributes = {"label": _dot_text(node.label), "id": _dot_text(f"state_{node.name}")}
        if node.final:
            attributes["peripheries"] = "2"
        if node.name in self.states:
            attributes.update(style="rounded,filled,bold", fillcolor=_CURRENT_FILL, penwidth="2")
        graph.node(_dot_id(node.name), **attributes)

    def _anchor(self, name: str) -> str:
        """The leaf an edge to or from ``name`` attaches to (a cluster has no node)."""
        node = self.nodes[name]
        while node.children:
            first = node.initial[0] if node.initial else node.children[0].name
            node = self.nodes.get(first, node.children[0])
        return node.name

    def _dot_arrow(
        self, graph: graphviz.Digraph, tail: str, head: str, attributes: dict[str, str]
    ) -> None:
        if tail in self.nodes and self.nodes[tail].children:
            attributes["ltail"] = _dot_text(f"cluster_{tail}")
            tail = self._anchor(tail)
        if self.nodes[head].children:
            if attributes.get("ltail") != _dot_text(f"cluster_{head}"):
                attributes["lhead"] = _dot_text(f"cluster_{head}")
            else:
                del attributes["ltail"]
            head = self._anchor(head)
        if "label" in attributes and ({"ltail", "lhead"} & attributes.keys()):
            # The arrow starts or ends at an inner state and is clipped at the box: a plain
            # label sits halfway along the unclipped line, inside the box or over its title.
            # An external label is placed beside the drawn arrow, clear of the box.
            attributes["xlabel"] = attributes.pop("label")
        graph.edge(_dot_id(tail), _dot_id(head), **attributes)

    def _dot_edge(self, graph: graphviz.Digraph, edge: Edge) -> None:
        attributes = {"label": _dot_text(edge.label)}
        if edge.internal:
            attributes.update(style="dashed", label=_dot_text(f"{edge.label} (internal)"))
        if edge.auto:
            attributes.update(style="dotted", color="gray50", fontcolor="gray50")
        if self._is_last(edge):
            attributes.update(color=_HIGHLIGHT, fontcolor=_HIGHLIGHT, penwidth="2.5")
        self._dot_arrow(graph, edge.source, edge.dest, attributes)

    # Mermaid

    def mermaid(self) -> str:
        """The diagram as Mermaid ``stateDiagram-v2`` text."""
        ids = _mermaid_ids(self.nodes)
        lines: list[str] = []
        if self.title:
            # A JSON string is a YAML string: the title may hold colons or quotes.
            lines += ["---", f"title: {json.dumps(self.title)}", "---"]
        lines += ["stateDiagram-v2", f"    direction {self.direction}"]
        lines.append(f"    [*] --> {ids[self.graph.initial]}")
        edges = self.edges()
        # A top-level state that an arrow names needs no declaration of its own.
        mentioned = {self.graph.initial} | {edge.source for edge in edges}
        mentioned |= {edge.dest for edge in edges}
        for node in self.graph.states:
            if node.children or ids[node.name] != node.label or node.name not in mentioned:
                self._mermaid_state(lines, node, ids, "    ")
        for edge in edges:
            label = f"{edge.label} (internal)" if edge.internal else edge.label
            lines.append(f"    {ids[edge.source]} --> {ids[edge.dest]}: {_mermaid_text(label)}")
        for node in self.nodes.values():
            if node.final:
                lines.append(f"    {ids[node.name]} --> [*]")
        if self.states:
            lines.append(f"    classDef current fill:{_CURRENT_FILL},stroke-width:3px")
            lines.append(f"    class {','.join(ids[name] for name in self.states)} current")
        return "\n".join(lines) + "\n"

    def _mermaid_state(
        self, lines: list[str], node: StateNode, ids: dict[str, str], indent: str
    ) -> None:
        """Declare ``node`` where it sits: leaves by name, compound states as blocks."""
        identifier = ids[node.name]
        if not node.children:
            if identifier == node.label:
                lines.append(f"{indent}{identifier}")
            else:
                lines.append(f'{indent}state "{_mermaid_text(node.label)}" as {identifier}')
            return
        lines.append(f"{indent}state {identifier} {{")
        inner = indent + "    "
        for index, child in enumerate(node.children):
            if node.parallel and index:
                lines.append(f"{inner}--")
            if child.name in node.initial:
                lines.append(f"{inner}[*] --> {ids[child.name]}")
            self._mermaid_state(lines, child, ids, inner)
        lines.append(f"{indent}}}")

    # Images

    def pipe(self, format: ImageFormat = "svg") -> bytes:
        """The diagram rendered as SVG or PNG bytes (see :func:`renderer`)."""
        if format not in ("svg", "png"):
            raise DiagramError(f"{self.graph.name}: can render svg or png, not {format!r}")
        return render_dot(self.source, format, what=self.graph.name)

    def render(self, path: str | os.PathLike[str], format: OutputFormat | None = None) -> Path:
        """Write the diagram to ``path`` as svg, png, dot or mermaid.

        The format comes from the file's suffix (``.svg``, ``.png``, ``.dot``/``.gv``,
        ``.mmd``/``.mermaid``) unless given. Returns the path written.
        """
        target = Path(path)
        chosen = format or format_for(target)
        if chosen in ("svg", "png"):
            target.write_bytes(self.pipe(chosen))
        elif chosen == "dot":
            target.write_text(self.source, encoding="utf-8")
        elif chosen == "mermaid":
            target.write_text(self.mermaid(), encoding="utf-8")
        else:
            known = ", ".join(OUTPUT_FORMATS)
            raise DiagramError(f"{target}: unknown diagram format {chosen!r}; use one of {known}")
        return target

    def _repr_svg_(self) -> str:
        return self.pipe("svg").decode("utf-8")

    def __repr__(self) -> str:
        highlighted = f", state={self.state!r}" if self.state is not None else ""
        if len(self.states) > 1:
            highlighted = f", states={self.states!r}"
        return f"<Diagram of {self.graph.name}{highlighted}>"


def _dot_text(text: str) -> str:
    """``text`` as DOT shows it literally: never an HTML label (``<b>x</b>``), no
    backslash escapes (``\\l``), control characters written out."""
    import graphviz

    return t.cast(str, graphviz.escape(printable(text)))


def _dot_id(name: str) -> str:
    # graphviz reads "a:b" in an edge as node a, port b; a state's colon is text.
    return _dot_text(name.replace(":", "&#58;") if ":" in name else name)


_MERMAID_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _mermaid_ids(nodes: c.Mapping[str, StateNode]) -> dict[str, str]:
    ids: dict[str, str] = {}
    used: set[str] = set()
    for name in nodes:
        candidate = name if _MERMAID_ID.match(name) else re.sub(r"[^A-Za-z0-9_]", "_", name)
        if not _MERMAID_ID.match(candidate):
            candidate = f"s_{candidate}"
        unique, number = candidate, 1
        while unique in used:
            number += 1
            unique = f"{candidate}_{number}"
        ids[name] = unique
        used.add(unique)
    return ids


_MERMAID_ENTITIES = {"#": "#35;", ";": "#59;", '"': "#quot;"}


def _mermaid_text(text: str) -> str:
    """``text`` inside a Mermaid statement: ``;`` would end it and a line break start
    another, so those (and ``#``, quotes, control characters) become ``#NN;`` entities."""
    return "".join(
        _MERMAID_ENTITIES.get(character)
        or (character if character.isprintable() else f"#{ord(character)};")
        for character in text
    )


def format_for(path: Path) -> OutputFormat:
    """The diagram format a file name asks for, by its suffix."""
    try:
        return SUFFIX_FORMATS[path.suffix.lower()]
    except KeyError:
        raise DiagramError(
            f"{path}: cannot tell the diagram format from the suffix {path.suffix!r}; "
            f"use one of {', '.join(SUFFIX_FORMATS)} or give the format"
        ) from None


def diagram(
    target: t.Any,
    *,
    title: str | None = None,
    direction: Direction = "LR",
    auto_transitions: bool = False,
    state: str | Enum | c.Sequence[str | Enum] | None = None,
    transition: LastTransition | str | None = None,
    name: str | None = None,
) -> Diagram:
    """Draw the workflow of ``target``.

    ``target`` is a :class:`~statesignals.SignalingMachine` subclass (its
    workflow), an instance of one (its current state and the transition that
    led there are highlighted) or a
    :class:`~statesignals.definition.WorkflowDefinition` (named by ``name``).
    ``state`` highlights a state of a class diagram; ``transition`` names the
    transition that led to the highlighted state, by trigger or as a
    :class:`LastTransition` (for models whose history lives elsewhere, such as
    an audit log). ``to_<state>`` auto transitions are drawn only with
    ``auto_transitions=True``.
    """
    if isinstance(target, WorkflowDefinition):
        graph = WorkflowGraph.from_definition(target, name or "workflow")
        model = None
    else:
        model_class = target if isinstance(target, type) else type(target)
        model = None if isinstance(target, type) else target
        graph = WorkflowGraph.of(model_class)
    highlighted = () if state is None else model_state_names(state)
    if model is not None:
        workflow: WorkflowDefinition = type(model).workflow
        highlighted = highlighted or model_state_names(getattr(model, workflow.model_attribute))
        if transition is None:
            transition = last_transition(model)
    if isinstance(transition, str):
        transition = _named_transition(graph, transition, highlighted)
    return Diagram(
        graph,
        title=title,
        direction=direction,
        auto_transitions=auto_transitions,
        state=highlighted,
        transition=transition,
    )


def _leads_to(nodes: c.Mapping[str, StateNode], dest: str, states: tuple[str, ...]) -> bool:
    """Whether a transition into ``dest`` leaves the model in ``states``: ``dest`` is one
    of them or, a compound state, encloses one."""
    node = nodes.get(dest)
    return node is not None and any(inner.name in states for inner in node.walk())


def _named_transition(
    graph: WorkflowGraph, trigger: str, states: tuple[str, ...]
) -> LastTransition:
    nodes = {node.name: node for node in graph.walk()}
    for edge in graph.edges():
        if edge.trigger == trigger and _leads_to(nodes, edge.dest, states) and not edge.internal:
            return LastTransition(trigger, edge.source, edge.dest)
    where = " or ".join(map(repr, states)) or "the highlighted state (give one)"
    raise DiagramError(f"{graph.name}: no transition {trigger!r} leads to state {where}")


# LastTransition, last_transition, remember_last_transitions, INSTALL_HINT, render_dot
# and renderer lived here in 0.1 and stay importable from here for one release.
__all__ = [
    "INSTALL_HINT",
    "OUTPUT_FORMATS",
    "Diagram",
    "Direction",
    "LastTransition",
    "diagram",
    "format_for",
    "last_transition",
    "remember_last_transitions",
    "render_dot",
    "renderer",
]

"""Reading a compiled machine: its states and transitions under their full names.

A nested machine keeps the transitions declared inside a compound state in
that state's own events, with names relative to it; tools that walk a
machine (paths, remembered transitions) read them all through here.
"""

from __future__ import annotations

import collections.abc as c
import typing as t
from dataclasses import dataclass

from transitions import Machine, Transition
from transitions.extensions.nesting import HierarchicalMachine, NestedState


@dataclass(frozen=True)
class CompiledTransition:
    """A transition object of a machine with its full source and dest names."""

    trigger: str
    source: str
    dest: str | None
    """None for an internal transition."""
    transition: Transition


def separator(machine: Machine) -> str | None:
    """The separator of nested state names; None for a flat machine."""
    if isinstance(machine, HierarchicalMachine):
        state_cls: type[NestedState] = machine.state_cls
        return state_cls.separator
    return None


def state_names(machine: Machine) -> list[str]:
    """Every state's full name, in declaration order (nested ones after their parent)."""
    if isinstance(machine, HierarchicalMachine):
        return list(t.cast(t.Any, machine).get_nested_state_names())
    return list(machine.states)


def compiled_transitions(
    machine: Machine, *, every: bool = False
) -> c.Iterator[CompiledTransition]:
    """Every transition of ``machine``, those declared inside compound states included.

    A declared class makes its ``to_<state>`` transitions when first used (see
    ``statesignals.declarative.AutoTransitions``): only those made so far are
    listed, unless ``every`` makes the rest (n² of them for n states).
    """
    scopes: list[tuple[str, c.Mapping[str, t.Any]]] = [("", machine.events)]
    joiner = separator(machine)
    if joiner is not None:
        for name in state_names(machine):
            events = getattr(machine.get_state(name), "events", None)
            if events:
                scopes.append((f"{name}{joiner}", events))
    for prefix, events in scopes:
        for trigger, event in events.items():
            made = event.transitions
            entries = made.every() if every and hasattr(made, "every") else made.items()
            for source, transitions in entries:
                for transition in transitions:
                    dest = None if transition.dest is None else f"{prefix}{transition.dest}"
                    yield CompiledTransition(trigger, f"{prefix}{source}", dest, transition)


__all__ = ["CompiledTransition", "compiled_transitions", "separator", "state_names"]

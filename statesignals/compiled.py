"""Reading a compiled machine: its states and transitions under their full names.

A nested machine keeps the transitions declared inside a compound state in
that state's own events, with names relative to it; tools that walk a
machine (paths, remembered transitions) read them all through here.
"""

from __future__ import annotations

import collections.abc as c
import functools
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


def event_scopes(machine: Machine) -> c.Iterator[tuple[str, c.Mapping[str, t.Any]]]:
    """The machine's events, then those of each compound state, each with the prefix
    that makes their state names full (``"review_"``; ``""`` for the machine's)."""
    yield "", machine.events
    joiner = separator(machine)
    if joiner is not None:
        for name in state_names(machine):
            events = getattr(machine.get_state(name), "events", None)
            if events:
                yield f"{name}{joiner}", events


def compiled_transitions(
    machine: Machine, *, every: bool = False
) -> c.Iterator[CompiledTransition]:
    """Every transition of ``machine``, those declared inside compound states included.

    A declared class makes its ``to_<state>`` transitions when first used (see
    ``statesignals.declarative.AutoTransitions``): only those made so far are
    listed, unless ``every`` makes the rest (n² of them for n states).
    """
    for prefix, events in event_scopes(machine):
        for trigger, event in events.items():
            found = event.transitions
            made = getattr(found, "made", None)
            entries = found.items() if every or made is None else made()
            for source, transitions in entries:
                for transition in transitions:
                    yield _full_names(trigger, prefix, source, transition)


def _full_names(
    trigger: str, prefix: str, source: str, transition: Transition
) -> CompiledTransition:
    """``transition`` of ``trigger`` with its states' full names (``prefix`` before them)."""
    dest = None if transition.dest is None else f"{prefix}{transition.dest}"
    return CompiledTransition(trigger, f"{prefix}{source}", dest, transition)


def _made(
    action: c.Callable[[CompiledTransition], None],
    trigger: str,
    prefix: str,
    transition: Transition,
) -> None:
    action(_full_names(trigger, prefix, transition.source, transition))


def on_every_transition(
    machine: Machine, action: c.Callable[[CompiledTransition], None], trigger: str | None = None
) -> None:
    """Call ``action`` with each transition of ``machine`` (of ``trigger`` only, if
    given), and later with each ``to_<state>`` transition when it is made: a hook
    put on the transitions that makes none of the n² a declared class leaves for later."""
    for found in compiled_transitions(machine):
        if trigger in (None, found.trigger):
            action(found)
    for prefix, events in event_scopes(machine):
        for name, event in events.items():
            on_create = getattr(event.transitions, "on_create", None)
            if on_create is not None and trigger in (None, name):
                on_create.append(functools.partial(_made, action, name, prefix))


__all__ = [
    "CompiledTransition",
    "compiled_transitions",
    "event_scopes",
    "on_every_transition",
    "separator",
    "state_names",
]

"""How states and guards are named in payloads, diagrams, tables and test output."""

from __future__ import annotations

import typing as t
from enum import Enum

from transitions.core import Condition, State


def state_name(state: State | str | Enum | None) -> str:
    """The name a payload, a diagram or a test uses for ``state``: Enum members by their
    ``name``, anything else as text."""
    if isinstance(state, (State, Enum)):
        return state.name
    return state if isinstance(state, str) else str(state)


def model_state_name(value: t.Any) -> str:
    """The name of a model's state attribute; parallel states joined by ``", "``."""
    if isinstance(value, list):
        return ", ".join(model_state_name(item) for item in value)
    return state_name(value)


def model_state_names(value: t.Any) -> tuple[str, ...]:
    """A model's state as names; parallel nested states hold a (nested) list of them."""
    if isinstance(value, (list, tuple)):
        return tuple(name for item in value for name in model_state_names(item))
    return (state_name(value),)


def condition_label(condition: Condition) -> str:
    """How a guard is named in ``failed_conditions``: ``is_funded``, ``not is_blocked``."""
    func = condition.func
    name = func if isinstance(func, str) else getattr(func, "__qualname__", repr(func))
    return name if condition.target else f"not {name}"


__all__ = ["condition_label", "model_state_name", "model_state_names", "state_name"]

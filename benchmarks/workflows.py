"""The workflows measured, each built the statesignals way and the way of its anchor.

Every pair has the same states, transitions and callbacks; only the library differs.
"""

from __future__ import annotations

import importlib
import typing as t

from transitions import Machine

from statesignals import SignalingMachine, Trigger

TOGGLE_STATES = ["idle", "busy"]
TOGGLE_TRANSITIONS: list[dict[str, t.Any]] = [
    {"trigger": "go", "source": "idle", "dest": "busy"},
    {"trigger": "back", "source": "busy", "dest": "idle"},
    {"trigger": "refuse", "source": "idle", "dest": "busy", "conditions": "is_allowed"},
]
"""Two states and a trigger each way; ``refuse`` is always turned down by its guard."""


class Toggle(SignalingMachine):
    """The toggle workflow as a statesignals model."""

    states = TOGGLE_STATES
    initial = "idle"
    transitions = TOGGLE_TRANSITIONS

    go: Trigger
    back: Trigger
    refuse: Trigger

    def __init__(self, number: int) -> None:
        self.number = number

    def is_allowed(self) -> bool:
        return False


class PlainToggle:
    """A plain object with Toggle's ``__init__``: the floor for instance cost."""

    def __init__(self, number: int) -> None:
        self.number = number

    def is_allowed(self) -> bool:
        return False


class MachineToggle:
    """A model for a transitions machine, which adds its trigger methods to the instance.

    Not PlainToggle: instances with many attributes of their own would stop
    sharing dict keys with the other instances of their class and make every
    PlainToggle bigger.
    """

    def is_allowed(self) -> bool:
        return False


def machine_toggle(machine_cls: type[Machine], **options: t.Any) -> t.Any:
    """A model driven by its own ``machine_cls`` machine (transitions' usual way)."""
    model = MachineToggle()
    machine_cls(
        model=model,
        states=TOGGLE_STATES,
        transitions=TOGGLE_TRANSITIONS,
        initial="idle",
        **options,
    )
    return model


NESTED_STATES: list[t.Any] = [
    "idle",
    {"name": "busy", "children": ["working", "waiting"], "initial": "working"},
]
"""The toggle's ``busy`` state with two sub-states, for hierarchical machines."""


def nested_toggle(machine_cls: type[Machine]) -> t.Any:
    """A model on a hierarchical ``machine_cls``; entering ``busy`` enters ``busy_working``."""
    model = MachineToggle()
    machine_cls(
        model=model,
        states=NESTED_STATES,
        transitions=TOGGLE_TRANSITIONS[:2],
        initial="idle",
    )
    return model


def ring_workflow(size: int) -> type[SignalingMachine]:
    """A model class with ``size`` states in a ring and ``2 * size`` transitions."""
    names = [f"s{index}" for index in range(size)]
    transitions = [
        {"trigger": "step", "source": name, "dest": names[(index + 1) % size]}
        for index, name in enumerate(names)
    ] + [
        {"trigger": "step_back", "source": name, "dest": names[index - 1]}
        for index, name in enumerate(names)
    ]
    namespace = {
        "states": names,
        "initial": names[0],
        "transitions": transitions,
        # One to_<state> trigger per state would add size**2 transitions.
        "auto_transitions": False,
    }
    return type(f"Ring{size}", (SignalingMachine,), namespace)


ORDER_STATES = ["pending", "paid", "shipped", "delivered", "cancelled"]
ORDER_TRANSITIONS: list[dict[str, t.Any]] = [
    {"trigger": "pay", "source": "pending", "dest": "paid"},
    {"trigger": "ship", "source": "paid", "dest": "shipped"},
    {"trigger": "recall", "source": "shipped", "dest": "paid"},
    {"trigger": "deliver", "source": "shipped", "dest": "delivered"},
    {"trigger": "cancel", "source": ["pending", "paid"], "dest": "cancelled"},
]


def order_workflow(name: str) -> type[SignalingMachine]:
    """An order model class; ``ship`` and ``recall`` move it between paid and shipped."""
    namespace = {"states": ORDER_STATES, "initial": "paid", "transitions": ORDER_TRANSITIONS}
    return type(name, (SignalingMachine,), namespace)


def statemachine_toggle() -> t.Any:
    """The toggle workflow in python-statemachine, or None when it is not installed."""
    try:
        # Imported by name: it is a benchmark-only dependency, absent under `make test`.
        statemachine = importlib.import_module("statemachine")
    except ImportError:
        return None
    idle = statemachine.State(initial=True)
    busy = statemachine.State()
    namespace = {"idle": idle, "busy": busy, "go": idle.to(busy), "back": busy.to(idle)}
    return type("StatemachineToggle", (statemachine.StateMachine,), namespace)()

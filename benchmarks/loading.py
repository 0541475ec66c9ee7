"""How loading a workflow grows with its size: 100, 1,000 and 5,000 states.

Loading reads and validates the file's dict, checks it, compiles the machine
and adds the model methods. transitions' own auto transitions are one object
per pair of states (per state and top-level state, nested), so a bare
``Machine`` of 1,000 states takes seconds; the declared classes make them on
first use. Each line, flat and nested, reports each load and the time per state
against the 100-state load of the same run: linear growth keeps that ratio near
1. Run ``python -m benchmarks.loading``.
"""

from __future__ import annotations

import collections.abc as c
import time
import typing as t

from statesignals import SignalingHierarchicalMachine, SignalingMachine, load_workflow

SIZES = (100, 1_000, 5_000)
MAX_PER_STATE_RATIO = 2.0
GROUP = 10
"""States per group of the nested workflow: a compound state and its children."""


class Nested(SignalingMachine):
    """The base the nested workflow loads onto: it chooses the nested machine."""

    machine_cls = SignalingHierarchicalMachine


def chain(size: int) -> dict[str, t.Any]:
    """A workflow file's content: ``size`` states in a chain, each with a way back."""
    names = [f"s{index}" for index in range(size)]
    transitions = [
        {"trigger": f"next_{index}", "source": name, "dest": names[index + 1]}
        for index, name in enumerate(names[:-1])
    ]
    transitions.append({"trigger": "restart", "source": "*", "dest": names[0]})
    return {"initial": names[0], "states": names, "transitions": transitions}


def nested_chain(size: int) -> dict[str, t.Any]:
    """A workflow file's content: ``size`` states in groups of :data:`GROUP`, a
    compound state whose children form a chain, the groups a chain of their own,
    with a way back to the first."""
    groups = [f"g{index}" for index in range(size // GROUP)]
    children = [f"s{index}" for index in range(GROUP - 1)]
    inside = [
        {"trigger": "next", "source": name, "dest": children[index + 1]}
        for index, name in enumerate(children[:-1])
    ]
    states = [
        {"name": group, "children": children, "initial": children[0], "transitions": inside}
        for group in groups
    ]
    transitions = [
        {"trigger": "leave", "source": f"{group}_{children[-1]}", "dest": groups[index + 1]}
        for index, group in enumerate(groups[:-1])
    ]
    transitions.append({"trigger": "restart", "source": "*", "dest": groups[0]})
    return {"initial": groups[0], "states": states, "transitions": transitions}


Shape = c.Callable[[int], dict[str, t.Any]]


def load_seconds(size: int, repeats: int, shape: Shape = chain) -> float:
    """The best of ``repeats`` loads of a ``size``-state workflow, in seconds."""
    data = shape(size)
    base = Nested if shape is nested_chain else SignalingMachine
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        load_workflow(data, base=base, name=f"Chain{size}")
        best = min(best, time.perf_counter() - started)
    return best


def measure(repeats: int = 3, shape: Shape = chain) -> dict[int, float]:
    """Seconds to load each of :data:`SIZES`, after one load to import what loading needs."""
    load_seconds(GROUP, 1, shape)
    return {size: load_seconds(size, repeats if size < 5_000 else 1, shape) for size in SIZES}


def main() -> None:
    for title, shape in (("flat", chain), ("nested", nested_chain)):
        seconds = measure(shape=shape)
        base = seconds[SIZES[0]] / SIZES[0]
        print(f"{title}:")
        for size, value in seconds.items():
            ratio = (value / size) / base
            print(
                f"{size:>6,} states: {value * 1e3:9.1f} ms, "
                f"per state {ratio:.2f}x the 100-state load"
            )


if __name__ == "__main__":
    main()

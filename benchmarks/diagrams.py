"""How long the DOT source of a 500-state workflow takes to build (target: under 0.2 s),
and what remember_last_transitions (for instance diagrams) adds to a trigger.

Run ``python -m benchmarks.diagrams``; :func:`main` returns the measurements for
a suite that collects them.
"""

from __future__ import annotations

import time
import typing as t

from statesignals import SignalingMachine, diagram, remember_last_transitions

STATES = 500
TARGET_SECONDS = 0.2


def generated_workflow(size: int = STATES) -> type[SignalingMachine]:
    """A class with ``size`` states: a chain with guarded skips, cancels and a final state."""
    names = [f"step_{index}" for index in range(size)]
    transitions: list[dict[str, t.Any]] = []
    for index, name in enumerate(names[:-1]):
        transitions.append(
            {"trigger": f"advance_{index}", "source": name, "dest": names[index + 1]}
        )
        if index + 2 < size:
            transitions.append(
                {
                    "trigger": f"skip_{index}",
                    "source": name,
                    "dest": names[index + 2],
                    "conditions": "is_allowed",
                    "unless": "is_blocked",
                }
            )
        if index % 10 == 0:
            transitions.append({"trigger": f"note_{index}", "source": name, "dest": None})
    transitions.append({"trigger": "cancel", "source": names[:-1], "dest": names[-1]})

    def is_allowed(self: object) -> bool:
        return True

    def is_blocked(self: object) -> bool:
        return False

    namespace = {
        "states": [*names[:-1], {"name": names[-1], "final": True}],
        "initial": names[0],
        "transitions": transitions,
        "is_allowed": is_allowed,
        "is_blocked": is_blocked,
    }
    return type(f"Generated{size}", (SignalingMachine,), namespace)


def toggle_class() -> type[SignalingMachine]:
    """A fresh two-state class, so that each measure starts undrawn."""
    namespace = {
        "states": ["off", "on"],
        "initial": "off",
        "transitions": [["flip", "off", "on"], ["flip", "on", "off"]],
    }
    return type("Toggle", (SignalingMachine,), namespace)


def trigger_seconds(model_class: type[SignalingMachine], repeat: int, calls: int = 20_000) -> float:
    """Seconds per trigger call, best of ``repeat`` runs."""
    model = model_class()
    flip = model.flip  # type: ignore[attr-defined]

    def run() -> None:
        for _ in range(calls):
            flip()

    return best_of(repeat, run) / calls


def best_of(repeat: int, action: t.Callable[[], object]) -> float:
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    return min(timings)


def main(repeat: int = 5) -> dict[str, float]:
    """Measure and print; returns seconds per measure."""
    workflow = generated_workflow()
    instance = workflow()
    edges = len(diagram(workflow).source.splitlines())
    results = {
        f"DOT of a {STATES}-state class": best_of(repeat, lambda: diagram(workflow).source),
        f"DOT of a {STATES}-state instance": best_of(repeat, lambda: diagram(instance).source),
        f"Mermaid of a {STATES}-state class": best_of(repeat, lambda: diagram(workflow).mermaid()),
    }
    print(f"{STATES} states, {edges} DOT lines; best of {repeat} runs")
    for label, seconds in results.items():
        verdict = "ok" if seconds < TARGET_SECONDS else f"over the {TARGET_SECONDS} s target"
        print(f"  {label:<34} {seconds * 1000:8.1f} ms  ({verdict})")
    never_drawn = trigger_seconds(toggle_class(), repeat)
    remembering = remember_last_transitions(toggle_class())
    drawn = trigger_seconds(remembering, repeat)
    results["trigger, last transition not remembered"] = never_drawn
    results["trigger, last transition remembered"] = drawn
    print(f"  {'trigger, not remembered':<34} {never_drawn * 1e6:8.2f} µs")
    print(
        f"  {'trigger, remember_last_transitions':<34} {drawn * 1e6:8.2f} µs"
        f"  (x{drawn / never_drawn:.2f})"
    )
    return results


if __name__ == "__main__":
    main()

"""How loading a workflow grows with its size: 100, 1,000 and 5,000 states.

Loading reads and validates the file's dict, checks it, compiles the machine
and adds the model methods. transitions' own auto transitions are one object
per pair of states, so a bare ``Machine`` of 1,000 states takes seconds; the
declared classes make them on first use. The line reports each load and the
time per state against the 100-state load of the same run: linear growth keeps
that ratio near 1. Run ``python -m benchmarks.loading``.
"""

from __future__ import annotations

import time
import typing as t

from statesignals import load_workflow

SIZES = (100, 1_000, 5_000)
MAX_PER_STATE_RATIO = 2.0


def chain(size: int) -> dict[str, t.Any]:
    """A workflow file's content: ``size`` states in a chain, each with a way back."""
    names = [f"s{index}" for index in range(size)]
    transitions = [
        {"trigger": f"next_{index}", "source": name, "dest": names[index + 1]}
        for index, name in enumerate(names[:-1])
    ]
    transitions.append({"trigger": "restart", "source": "*", "dest": names[0]})
    return {"initial": names[0], "states": names, "transitions": transitions}


def load_seconds(size: int, repeats: int) -> float:
    """The best of ``repeats`` loads of a ``size``-state workflow, in seconds."""
    data = chain(size)
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        load_workflow(data, name=f"Chain{size}")
        best = min(best, time.perf_counter() - started)
    return best


def measure(repeats: int = 3) -> dict[int, float]:
    """Seconds to load each of :data:`SIZES`, after one load to import what loading needs."""
    load_seconds(10, 1)
    return {size: load_seconds(size, repeats if size < 5_000 else 1) for size in SIZES}


def main() -> None:
    seconds = measure()
    base = seconds[SIZES[0]] / SIZES[0]
    for size, value in seconds.items():
        ratio = (value / size) / base
        print(
            f"{size:>6,} states: {value * 1e3:9.1f} ms, per state {ratio:.2f}x the 100-state load"
        )


if __name__ == "__main__":
    main()

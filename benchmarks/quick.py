"""A quick look at the cost of statesignals against raw transitions, in one run.

Run with ``.venv/bin/python benchmarks/quick.py``. Prints the median cost of a
trigger with no receivers (SignalingMachine model and SignalingCoreMachine
model vs a transitions.Machine model) and of creating one model instance.
"""

from __future__ import annotations

import statistics
import timeit
import typing as t

from transitions import Machine

from statesignals import SignalingCoreMachine, SignalingMachine

STATES = ["a", "b"]
TRANSITIONS = [["go", "a", "b"], ["back", "b", "a"]]
ROUNDS = 15
LOOPS = 10_000


class PlainModel:
    def __init__(self, number: int) -> None:
        self.number = number


class Declared(SignalingMachine):
    states = STATES
    initial = "a"
    transitions = TRANSITIONS

    def __init__(self, number: int) -> None:
        self.number = number


def round_trip(model: t.Any) -> t.Callable[[], None]:
    def run() -> None:
        model.go()
        model.back()

    return run


def main() -> None:
    raw, mixed = PlainModel(1), PlainModel(2)
    Machine(model=raw, states=STATES, transitions=TRANSITIONS, initial="a")
    SignalingCoreMachine(model=mixed, states=STATES, transitions=TRANSITIONS, initial="a")
    variants: dict[str, t.Callable[[], object]] = {
        "trigger: transitions.Machine": round_trip(raw),
        "trigger: SignalingCoreMachine": round_trip(mixed),
        "trigger: SignalingMachine": round_trip(Declared(3)),
        "create: plain object": lambda: PlainModel(1),
        "create: SignalingMachine": lambda: Declared(1),
    }
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(ROUNDS):  # interleaved, so drift hits every variant alike
        for name, run in variants.items():
            per_call = timeit.timeit(run, number=LOOPS) / LOOPS
            samples[name].append(per_call / (2 if name.startswith("trigger") else 1))
    medians = {name: statistics.median(values) * 1e6 for name, values in samples.items()}
    anchors = {"trigger": "trigger: transitions.Machine", "create": "create: plain object"}
    for name, median in medians.items():
        ratio = median / medians[anchors[name.split(":")[0]]]
        print(f"{name:32} {median:8.3f} us   x{ratio:.3f}")


if __name__ == "__main__":
    main()

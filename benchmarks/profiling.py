"""``python -m benchmarks.profiling``: where a trigger's time goes, as cProfile sees it.

Profiles many ``go``/``back`` triggers of the benchmark's toggle model, with no
receiver connected or (``--receivers``) with one on each of the three success
signals, and prints the functions that took the most time of their own.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats

from statesignals import state_entered, state_exited, transition_completed

from .suite import receivers_on
from .workflows import Toggle


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profiling", description=__doc__)
    parser.add_argument("--receivers", action="store_true", help="one receiver per signal")
    parser.add_argument("--triggers", type=int, default=100_000, help="how many triggers")
    parser.add_argument("--top", type=int, default=25, help="how many functions to list")
    options = parser.parse_args(argv)
    model = Toggle(0)
    signals = (state_exited, state_entered, transition_completed) if options.receivers else ()
    profiler = cProfile.Profile()
    with receivers_on(signals):
        profiler.enable()
        for _ in range(options.triggers // 2):
            model.go()
            model.back()
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(options.top)


if __name__ == "__main__":
    main()

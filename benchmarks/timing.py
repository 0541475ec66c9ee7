"""Interleaved timing: a subject and its anchor measured turn about, round after round.

On a shared, noisy machine a slow moment hits whichever variant runs then. Each
round times short batches in the order subject, anchor, anchor, subject (or the
reverse, every other round), so a slowdown that spans the round hits both alike,
and the median of the per-round ratios ignores the rounds it did not. Each batch
runs through :class:`timeit.Timer` (garbage collector off, the statement compiled
into the timing loop, so no wrapper call is measured) and is timed in this
thread's CPU time: while other processes hold the CPU, the clock stops.
"""

from __future__ import annotations

import collections.abc as c
import statistics
import time
import timeit
import typing as t
from dataclasses import dataclass, field

BATCH_SECONDS = 0.005
"""How long one timed batch of a statement should take."""


@dataclass(frozen=True)
class Statement:
    """Code to time, the names it uses, and how many operations one run of it does."""

    code: str
    namespace: dict[str, t.Any] = field(default_factory=dict)
    operations: int = 1
    setup: str = "pass"
    before: c.Callable[[], object] = lambda: None
    """Called, untimed, before each batch: puts the process in the state to measure."""
    after: c.Callable[[], object] = lambda: None
    """Called, untimed, after each batch: undoes :attr:`before`."""
    clock: c.Callable[[], float] = time.thread_time
    """This thread's CPU time; wall time (``time.perf_counter``) for statements that wait
    on a database server, whose work the thread's clock would not count."""

    def timed(self, timer: timeit.Timer, number: int) -> float:
        self.before()
        try:
            return timer.timeit(number)
        finally:
            self.after()

    def timer(self) -> timeit.Timer:
        return timeit.Timer(self.code, self.setup, self.clock, self.namespace)


@dataclass(frozen=True)
class Comparison:
    """Median nanoseconds per operation of both statements, and their median ratio."""

    subject_ns: float
    anchor_ns: float
    ratio: float
    rounds: int


def batch_size(statement: Statement, timer: timeit.Timer, seconds: float = BATCH_SECONDS) -> int:
    """How many runs of ``statement`` take about ``seconds``."""
    number = 1
    while True:
        elapsed = statement.timed(timer, number)
        if elapsed >= seconds / 4 or number >= 1 << 24:
            return max(1, round(number * seconds / max(elapsed, 1e-9)))
        number *= 4


def compare(subject: Statement, anchor: Statement, rounds: int) -> Comparison:
    """Time ``subject`` and ``anchor`` alternately for ``rounds`` rounds."""
    statements = (subject, anchor)
    timers = (subject.timer(), anchor.timer())
    numbers = tuple(map(batch_size, statements, timers))
    operations = (subject.operations, anchor.operations)
    samples: tuple[list[float], list[float]] = ([], [])
    for round_number in range(rounds):
        first, second = (0, 1) if round_number % 2 == 0 else (1, 0)
        elapsed = [0.0, 0.0]
        for index in (first, second, second, first):
            elapsed[index] += statements[index].timed(timers[index], numbers[index])
        for index in (0, 1):
            samples[index].append(elapsed[index] * 1e9 / (2 * numbers[index] * operations[index]))
    ratios = [s / a for s, a in zip(*samples, strict=True)]
    return Comparison(
        subject_ns=statistics.median(samples[0]),
        anchor_ns=statistics.median(samples[1]),
        ratio=statistics.median(ratios),
        rounds=rounds,
    )

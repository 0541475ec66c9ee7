"""The lines of the benchmark table, each a measure of statesignals against an anchor.

Every function returns one :class:`Row`. Lines that connect receivers disconnect
them before returning, so each line starts with no receiver anywhere.
"""

from __future__ import annotations

import asyncio
import collections.abc as c
import contextlib
import gc
import sys
import tracemalloc
import typing as t
from dataclasses import dataclass

import blinker
from transitions import Machine, MachineError
from transitions.extensions import HierarchicalMachine, LockedMachine
from transitions.extensions.asyncio import AsyncMachine

import statesignals
from statesignals import (
    SignalingCoreMachine,
    state_entered,
    state_exited,
    transition_completed,
)
from statesignals.routes import route

from . import diagrams, loading, outbox
from .timing import Comparison, Statement, compare
from .workflows import (
    PlainToggle,
    Toggle,
    machine_toggle,
    nested_toggle,
    order_workflow,
    ring_workflow,
    statemachine_toggle,
)

TOGGLE = "m.go(); m.back()"
"""Two triggers, there and back, so the model can repeat them forever."""


@dataclass(frozen=True)
class Target:
    """What a line must reach: a ratio, an absolute value, or both; neither means report only."""

    max_ratio: float | None = None
    max_subject: float | None = None

    def met(self, subject: float, ratio: float) -> bool | None:
        checks = []
        if self.max_ratio is not None:
            checks.append(ratio <= self.max_ratio)
        if self.max_subject is not None:
            checks.append(subject <= self.max_subject)
        return all(checks) if checks else None

    def describe(self, unit: str) -> str:
        parts = []
        if self.max_subject is not None:
            parts.append(f"<= {format_value(self.max_subject, unit)}")
        if self.max_ratio is not None:
            parts.append(f"<= {self.max_ratio:.2f}x")
        return ", ".join(parts) or "report"


@dataclass(frozen=True)
class Row:
    """One line of the table: statesignals (the subject) against its anchor."""

    measure: str
    subject: str
    anchor: str
    unit: str
    subject_value: float | None
    anchor_value: float | None
    ratio: float | None
    target: str
    met: bool | None
    note: str = ""


def format_value(value: float, unit: str) -> str:
    if unit == "bytes":
        return f"{value:,.0f} B"
    if value >= 1e6:
        return f"{value / 1e6:,.2f} ms"
    return f"{value / 1e3:,.2f} us"


def timed_row(
    measure: str,
    subject: str,
    anchor: str,
    comparison: Comparison,
    target: Target,
    note: str = "",
) -> Row:
    return Row(
        measure=measure,
        subject=subject,
        anchor=anchor,
        unit="ns",
        subject_value=comparison.subject_ns,
        anchor_value=comparison.anchor_ns,
        ratio=comparison.ratio,
        target=target.describe("ns"),
        met=target.met(comparison.subject_ns, comparison.ratio),
        note=note,
    )


def missing_row(measure: str, subject: str, anchor: str, note: str) -> Row:
    return Row(measure, subject, anchor, "ns", None, None, None, "report", None, note)


def ignore(sender: object, **payload: t.Any) -> None:
    """A receiver that does nothing, so only the cost of calling it is measured."""


@contextlib.contextmanager
def receivers_on(
    signals: c.Iterable[blinker.Signal], receiver: c.Callable[..., t.Any] = ignore
) -> c.Iterator[None]:
    connected = list(signals)
    for signal in connected:
        signal.connect(receiver)
    try:
        yield
    finally:
        for signal in connected:
            signal.disconnect(receiver)


# Triggers.


def against_transitions(
    measure: str,
    code: str,
    subject: str,
    model: object,
    rounds: int,
    target: Target,
    operations: int = 2,
) -> Row:
    """``code`` run on ``model`` and on a model with its own ``transitions.Machine``."""
    names = {"MachineError": MachineError}
    comparison = compare(
        Statement(code, {"m": model, **names}, operations),
        Statement(code, {"m": machine_toggle(Machine), **names}, operations),
        rounds,
    )
    return timed_row(measure, subject, "transitions Machine", comparison, target)


def trigger_declarative(rounds: int) -> Row:
    return against_transitions(
        "trigger, no receivers",
        TOGGLE,
        "SignalingMachine model",
        Toggle(0),
        rounds,
        Target(max_ratio=1.10),
    )


def trigger_mixin(rounds: int) -> Row:
    return against_transitions(
        "trigger, no receivers (mixin)",
        TOGGLE,
        "SignalingCoreMachine",
        machine_toggle(SignalingCoreMachine),
        rounds,
        Target(max_ratio=1.10),
    )


def trigger_with_receivers(rounds: int) -> Row:
    raw_signals = [blinker.Signal() for _ in range(3)]
    model = machine_toggle(Machine)
    payload = {
        "trigger": "go",
        "source": "idle",
        "dest": "busy",
        "model": model,
        "machine": None,
        "event_data": None,
    }
    sends = "; ".join(f"s{index}.send(m, **p)" for index in range(3))
    anchor_names = {f"s{index}": signal for index, signal in enumerate(raw_signals)}
    anchor = Statement(
        f"m.go(); {sends}; m.back(); {sends}",
        {"m": model, "p": payload, **anchor_names},
        operations=2,
    )
    success_signals = (state_exited, state_entered, transition_completed)
    with receivers_on(success_signals), receivers_on(raw_signals):
        comparison = compare(Statement(TOGGLE, {"m": Toggle(0)}, operations=2), anchor, rounds)
    return timed_row(
        "trigger, 1 receiver on each of 3 signals",
        "SignalingMachine model",
        "transitions + 3 blinker sends",
        comparison,
        Target(max_ratio=1.15),
    )


def denied_by_guard(rounds: int) -> Row:
    return against_transitions(
        "denied trigger: guard fails",
        "m.refuse()",
        "SignalingMachine model",
        Toggle(0),
        rounds,
        Target(),
        operations=1,
    )


def denied_invalid(rounds: int) -> Row:
    return against_transitions(
        "denied trigger: invalid trigger",
        "try:\n    m.back()\nexcept MachineError:\n    pass",
        "SignalingMachine model",
        Toggle(0),
        rounds,
        Target(),
        operations=1,
    )


# Instances.


def instance_creation(rounds: int) -> Row:
    comparison = compare(
        Statement("Toggle(1)", {"Toggle": Toggle}),
        Statement("PlainToggle(1)", {"PlainToggle": PlainToggle}),
        rounds,
    )
    return timed_row(
        "create a model instance",
        "SignalingMachine model",
        "plain object, same __init__",
        comparison,
        Target(max_ratio=2.0, max_subject=3000.0),
    )


def instance_creation_transitions(rounds: int) -> Row:
    comparison = compare(
        Statement("Toggle(1)", {"Toggle": Toggle}),
        Statement(
            "machine_toggle(Machine)", {"machine_toggle": machine_toggle, "Machine": Machine}
        ),
        rounds,
    )
    return timed_row(
        "create a model instance (vs transitions)",
        "SignalingMachine model",
        "transitions Machine per model",
        comparison,
        Target(),
    )


def instances_live(rounds: int) -> Row:
    creating = "Toggle(1)"
    many = {"Toggle": Toggle, "live": [Toggle(number) for number in range(100_000)]}
    few = {"Toggle": Toggle, "live": [Toggle(number) for number in range(1_000)]}
    comparison = compare(Statement(creating, many), Statement(creating, few), rounds)
    return timed_row(
        "create an instance while 100,000 vs 1,000 live",
        "100,000 live instances",
        "1,000 live instances",
        comparison,
        Target(max_ratio=1.2),
    )


def instances_in_bulk(rounds: int, model_cls: type = Toggle) -> Row:
    # One batch of 100,000 takes a tenth of a second: fewer rounds keep the run short.
    rounds = min(rounds, 11)
    creating = "[Model(number) for number in numbers]"
    comparison = compare(
        Statement(creating, {"Model": model_cls, "numbers": range(100_000)}, operations=100_000),
        Statement(creating, {"Model": model_cls, "numbers": range(1_000)}, operations=1_000),
        rounds,
    )
    is_model = model_cls is Toggle
    return timed_row(
        "create 100,000 vs 1,000 instances at once" + ("" if is_model else " (plain object)"),
        "100,000, per instance",
        "1,000, per instance",
        comparison,
        Target(max_ratio=1.2) if is_model else Target(),
    )


def plain_instances_in_bulk(rounds: int) -> Row:
    return instances_in_bulk(rounds, PlainToggle)


def bytes_per_instance(factory: c.Callable[[int], object], count: int) -> float:
    """Memory each of ``count`` live objects made by ``factory`` holds (tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        live = [factory(1) for _ in range(count)]
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return (after - before - sys.getsizeof(live)) / count


def memory_row(
    measure: str,
    anchor: str,
    anchor_factory: c.Callable[[int], object],
    count: int,
    target: Target,
) -> Row:
    subject = bytes_per_instance(Toggle, count)
    anchor_bytes = bytes_per_instance(anchor_factory, count)
    ratio = subject / anchor_bytes
    return Row(
        measure=measure,
        subject="SignalingMachine model",
        anchor=anchor,
        unit="bytes",
        subject_value=subject,
        anchor_value=anchor_bytes,
        ratio=ratio,
        target=target.describe("bytes"),
        met=target.met(subject, ratio),
    )


def memory_per_instance(rounds: int) -> Row:
    return memory_row(
        "memory per instance, 100,000 live",
        "plain object, same __init__",
        PlainToggle,
        100_000,
        Target(max_subject=1024.0),
    )


def memory_per_instance_transitions(rounds: int) -> Row:
    return memory_row(
        "memory per instance (vs transitions, 1,000 live)",
        "transitions Machine per model",
        lambda number: machine_toggle(Machine),
        1_000,
        Target(),
    )


# Workflow size and per-transition receivers.


def large_workflow(rounds: int) -> Row:
    large, small = ring_workflow(1_000), ring_workflow(10)
    step = "m.step(); m.step_back()"
    comparison = compare(
        Statement(step, {"m": large()}, operations=2),
        Statement(step, {"m": small()}, operations=2),
        rounds,
    )
    return timed_row(
        "trigger at 1,000 states / 2,000 transitions",
        "1,000 states",
        "10 states",
        comparison,
        Target(max_ratio=1.2),
    )


def per_transition_receivers(rounds: int) -> Row:
    order = order_workflow("CrowdedOrder")
    others = ("pay", "deliver", "cancel")
    receivers = [_numbered_receiver(number) for number in range(1_000)]
    signals = [
        route(order, transition_completed.name, others[number % len(others)])
        for number in range(len(receivers))
    ]

    def connect_all() -> None:
        for signal, receiver in zip(signals, receivers, strict=True):
            signal.connect(receiver, weak=False)

    def disconnect_all() -> None:
        for signal, receiver in zip(signals, receivers, strict=True):
            signal.disconnect(receiver)

    ship = "m.ship(); m.recall()"
    model = order()
    comparison = compare(
        Statement(ship, {"m": model}, operations=2, before=connect_all, after=disconnect_all),
        Statement(ship, {"m": model}, operations=2),
        rounds,
    )
    return timed_row(
        "ship with 1,000 receivers on other transitions",
        "1,000 receivers on pay/deliver/cancel",
        "no receivers connected",
        comparison,
        Target(max_ratio=1.1),
    )


def _numbered_receiver(number: int) -> c.Callable[..., None]:
    def receiver(sender: object, **payload: t.Any) -> None:
        pass

    receiver.__qualname__ = f"receiver_{number}"
    return receiver


# Other libraries and transitions extensions.


def statemachine_event(rounds: int) -> Row:
    measure = "event send vs python-statemachine"
    other = statemachine_toggle()
    if other is None:
        return missing_row(
            measure,
            "SignalingMachine model",
            "python-statemachine",
            "python-statemachine not installed (pip install -e '.[bench]')",
        )
    sending = 'm.send("go"); m.send("back")'
    comparison = compare(
        Statement(TOGGLE, {"m": Toggle(0)}, operations=2),
        Statement(sending, {"m": other}, operations=2),
        rounds,
    )
    return timed_row(measure, "SignalingMachine model", "python-statemachine", comparison, Target())


EXTENSIONS: tuple[tuple[str, str, type[Machine]], ...] = (
    ("nested", "SignalingHierarchicalMachine", HierarchicalMachine),
    ("locked", "SignalingLockedMachine", LockedMachine),
    ("async", "SignalingAsyncMachine", AsyncMachine),
)
"""Each extension line: its name, the statesignals class, the raw transitions class."""


async def _toggle_async(model: t.Any, times: int) -> None:
    for _ in range(times):
        await model.go()
        await model.back()


def extension_row(kind: str, rounds: int, namespace: object = statesignals) -> Row:
    """Trigger cost of the ``kind`` extension's signaling class vs its transitions class."""
    name, raw_cls = next((name, raw) for k, name, raw in EXTENSIONS if k == kind)
    measure = f"trigger, no receivers ({kind})"
    signaling_cls = getattr(namespace, name, None)
    if signaling_cls is None:
        return missing_row(
            measure, name, raw_cls.__name__, "not available yet (extensions not merged)"
        )
    if kind == "nested":
        subject_model, anchor_model = nested_toggle(signaling_cls), nested_toggle(raw_cls)
    else:
        subject_model = machine_toggle(signaling_cls)
        anchor_model = machine_toggle(raw_cls)
    if kind != "async":
        subject = Statement(TOGGLE, {"m": subject_model}, operations=2)
        anchor = Statement(TOGGLE, {"m": anchor_model}, operations=2)
        comparison = compare(subject, anchor, rounds)
        return timed_row(measure, name, raw_cls.__name__, comparison, Target(max_ratio=1.10))
    loop = asyncio.new_event_loop()
    try:
        running = "loop.run_until_complete(toggle(m, 50))"
        names = {"loop": loop, "toggle": _toggle_async}
        subject = Statement(running, {"m": subject_model, **names}, operations=100)
        anchor = Statement(running, {"m": anchor_model, **names}, operations=100)
        comparison = compare(subject, anchor, rounds)
    finally:
        loop.close()
    return timed_row(measure, name, raw_cls.__name__, comparison, Target(max_ratio=1.10))


def nested(rounds: int) -> Row:
    return extension_row("nested", rounds)


def locked(rounds: int) -> Row:
    return extension_row("locked", rounds)


def async_(rounds: int) -> Row:
    return extension_row("async", rounds)


def dot_for_500_states(rounds: int) -> Row:
    workflow = diagrams.generated_workflow()
    seconds = diagrams.best_of(max(3, rounds // 8), lambda: statesignals.diagram(workflow).source)
    target = Target(max_subject=diagrams.TARGET_SECONDS * 1e9)
    value = seconds * 1e9
    return Row(
        measure=f"DOT for a {diagrams.STATES}-state workflow",
        subject="diagram(cls).source",
        anchor="-",
        unit="ns",
        subject_value=value,
        anchor_value=None,
        ratio=None,
        target=target.describe("ns"),
        met=target.met(value, 0.0),
    )


def _loading_row(rounds: int, what: str, shape: loading.Shape) -> Row:
    seconds = loading.measure(repeats=max(1, min(3, rounds // 8)), shape=shape)
    small, large = loading.SIZES[0], loading.SIZES[-1]
    ratio = (seconds[large] / large) / (seconds[small] / small)
    target = Target(max_ratio=loading.MAX_PER_STATE_RATIO)
    loads = ", ".join(f"{size:,}: {value * 1e3:,.0f} ms" for size, value in seconds.items())
    return Row(
        measure=f"load a {what}workflow file of 100 / 1,000 / 5,000 states (time per state)",
        subject=f"{large:,} states (loads {loads})",
        anchor=f"{small:,} states",
        unit="ns",
        subject_value=seconds[large] / large * 1e9,
        anchor_value=seconds[small] / small * 1e9,
        ratio=ratio,
        target=target.describe("ns"),
        met=target.met(0.0, ratio),
    )


def workflow_loading(rounds: int) -> Row:
    return _loading_row(rounds, "", loading.chain)


def nested_workflow_loading(rounds: int) -> Row:
    # Compound states of ten: transitions would make a to_<state> per state and
    # top-level state, n²/10.
    return _loading_row(rounds, "nested ", loading.nested_chain)


# Persisted workflows, imported when their lines run: the lines before them measure a
# process in which none is defined.


def trigger_persisted_class_defined(rounds: int) -> Row:
    """An in-memory model's trigger once a persisted workflow exists in the process: the
    persisted class's bookkeeping must cost other classes' triggers nothing."""
    from tests import persisted_models  # noqa: F401  (defines persisted workflows)

    return against_transitions(
        "trigger, no receivers, with a persisted class defined in the process",
        TOGGLE,
        "SignalingMachine model",
        Toggle(0),
        rounds,
        Target(max_ratio=1.10),
    )


def persisted_commit_sqlite(rounds: int) -> Row:
    from .persistence import commit_sqlite

    return commit_sqlite(rounds)


def persisted_commit_postgres(rounds: int) -> Row:
    from .persistence import commit_postgres

    return commit_postgres(rounds)


def persisted_racing_postgres(rounds: int) -> Row:
    from .persistence import racing_postgres

    return racing_postgres(rounds)


LINES: tuple[c.Callable[[int], Row], ...] = (
    trigger_declarative,
    trigger_mixin,
    trigger_with_receivers,
    denied_by_guard,
    denied_invalid,
    instance_creation,
    instance_creation_transitions,
    memory_per_instance,
    memory_per_instance_transitions,
    instances_live,
    instances_in_bulk,
    plain_instances_in_bulk,
    large_workflow,
    per_transition_receivers,
    nested,
    async_,
    locked,
    statemachine_event,
    dot_for_500_states,
    workflow_loading,
    nested_workflow_loading,
    trigger_persisted_class_defined,
    persisted_commit_sqlite,
    persisted_commit_postgres,
    persisted_racing_postgres,
    *outbox.LINES,
)
"""Every line of the table, in the order printed."""

__all__ = ["LINES", "Row", "Target", "extension_row", "format_value", "missing_row"]

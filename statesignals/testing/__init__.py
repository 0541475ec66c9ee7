"""Tools for testing workflows: record signals, assert in workflow terms, walk every path.

Nothing here needs pytest. The pytest plugin (:mod:`statesignals.testing.plugin`,
installed with the package, entry point ``statesignals``) adds the
``signal_recorder`` fixture, so every test can ask for it::

    def test_paying_moves_the_order_on(signal_recorder):
        order = Order(total=30)
        order.pay(30)
        assert_transitioned(order, "pending", "paid", via="pay")

:class:`SignalRecorder` records every signal on :data:`statesignals.signals`
while it is active. The assertion functions (:func:`assert_transitioned`,
:func:`assert_denied`, :func:`assert_signals`) read the innermost active
recorder; their failure messages list what it recorded.

:func:`shortest_paths` and :func:`transition_paths` compute, from a workflow's
structure, the shortest trigger sequence that reaches each state and that takes
each transition, for one test parametrized over all of them. Guards are not
evaluated while paths are computed (they depend on the model's data): each
:class:`Step` names the guards it needs, and :meth:`WorkflowPath.run` takes the
trigger arguments and an ``arrange`` hook that set up that data.
"""

from __future__ import annotations

import collections.abc as c
import sys
import typing as t
from collections import deque
from dataclasses import dataclass, field
from enum import Enum

from transitions import Machine
from transitions.extensions.nesting import NestedState

from ..compiled import CompiledTransition, compiled_transitions, separator, state_names
from ..dispatch import SignalNamespace, WorkflowSignal
from ..errors import StateSignalsError, WorkflowLookupError
from ..naming import condition_label, model_state_name, state_name
from ..routes import clear_routes
from ..signals import signals as workflow_signals
from ..signals import transition_committed, transition_flushed

Model = t.TypeVar("Model")
StateName = str | Enum


# Recording signals.


@dataclass(frozen=True)
class RecordedSignal:
    """One signal as it was sent: its name, its sender and its payload."""

    signal: str
    sender: t.Any
    payload: c.Mapping[str, t.Any] = field(repr=False)

    @property
    def trigger(self) -> str | None:
        """The trigger being processed when the signal was sent."""
        return t.cast(str | None, self.payload.get("trigger"))

    def describe(self) -> str:
        """The signal in one line, as :func:`assert_signals` compares it.

        ``state_exited pending``, ``state_entered paid``,
        ``transition_completed pay: pending -> paid``,
        ``transition_denied ship: invalid_trigger``,
        ``transition_denied pay: conditions [payment_covers_total]``,
        ``transition_failed pack: ValueError: no box``; a :meth:`SignalRecorder.mark`
        is ``mark <label>``.
        """
        payload = self.payload
        if self.signal == MARK:
            return f"{MARK} {payload['label']}"
        if "state" in payload:
            return f"{self.signal} {payload['state']}"
        head = f"{self.signal} {self.trigger}"
        if "reason" in payload:
            failed = payload.get("failed_conditions") or []
            guards = f" [{', '.join(failed)}]" if failed else ""
            return f"{head}: {payload['reason']}{guards}"
        if "error" in payload:
            error = payload["error"]
            return f"{head}: {type(error).__name__}: {error}"
        internal = " (internal)" if payload.get("internal") else ""
        return f"{head}: {payload.get('source')} -> {payload.get('dest')}{internal}"

    def __str__(self) -> str:
        return self.describe()


MARK = "mark"
"""The ``signal`` of a :class:`RecordedSignal` that :meth:`SignalRecorder.mark` added."""

_active_recorders: list[SignalRecorder] = []


class SignalRecorder:
    """Records every signal of a namespace (by default :data:`statesignals.signals`).

    Use it as a context manager, or through the :func:`signal_recorder` fixture::

        with SignalRecorder() as recorded:
            order.pay(30)
        recorded.assert_transitioned(order, "pending", "paid", via="pay")

    Its receivers are connected after the ones already connected, so they see
    each signal after the application's receivers have handled it.
    """

    def __init__(self, namespace: SignalNamespace = workflow_signals) -> None:
        self.namespace = namespace
        self.signals: list[RecordedSignal] = []
        self._receivers: dict[str, c.Callable[..., None]] = {}

    def start(self) -> None:
        """Connect to every signal of the namespace and become the active recorder."""
        if self._receivers:
            return
        for name, signal in self.namespace.items():
            receiver = self._recorder_for(name)
            self._receivers[name] = receiver
            signal.connect(receiver, weak=False)
        _active_recorders.append(self)

    def stop(self) -> None:
        """Disconnect; what was recorded stays readable."""
        for name, receiver in self._receivers.items():
            self.namespace[name].disconnect(receiver)
        self._receivers.clear()
        if self in _active_recorders:
            _active_recorders.remove(self)

    def __enter__(self) -> SignalRecorder:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _recorder_for(self, name: str) -> c.Callable[..., None]:
        def record(sender: t.Any, **payload: t.Any) -> None:
            self.signals.append(RecordedSignal(name, sender, payload))

        return record

    def clear(self) -> None:
        """Forget what was recorded so far (after a test's arrange steps, say)."""
        self.signals.clear()

    def mark(self, label: str) -> None:
        """Record ``label`` at this point of the sequence (from a callback, say), to check
        where signals fall relative to your own code: ``assert_signals`` shows it as
        ``mark <label>``. Marks have no sender, so :meth:`of` leaves them out."""
        self.signals.append(RecordedSignal(MARK, None, {"label": label}))

    def of(self, model: object) -> list[RecordedSignal]:
        """The signals ``model`` sent, in order."""
        return [recorded for recorded in self.signals if recorded.sender is model]

    def report(self, model: object | None = None) -> str:
        """The recorded signals, numbered, one a line (``model``'s only, if given)."""
        chosen = self.signals if model is None else self.of(model)
        if not chosen:
            return "  (no signals recorded)"
        return "\n".join(
            f"  {number}. {recorded.sender!r}: {recorded}"
            for number, recorded in enumerate(chosen, 1)
        )

    def _fail(self, message: str, model: object | None = None) -> t.NoReturn:
        __tracebackhide__ = True
        raise AssertionError(f"{message}\nrecorded signals:\n{self.report(model)}")

    def assert_transitioned(
        self, model: object, source: StateName, dest: StateName, *, via: str | None = None
    ) -> RecordedSignal:
        """Assert that ``model`` completed a transition ``source -> dest`` (by trigger ``via``)."""
        __tracebackhide__ = True
        source, dest = state_name(source), state_name(dest)
        for recorded in self.of(model):
            payload = recorded.payload
            if (
                recorded.signal == "transition_completed"
                and payload["source"] == source
                and payload["dest"] == dest
                and (via is None or recorded.trigger == via)
            ):
                return recorded
        by = f" via {via!r}" if via else ""
        self._fail(f"{model!r} did not transition {source} -> {dest}{by}")

    def assert_denied(
        self,
        model: object,
        trigger: str,
        *,
        reason: str | None = None,
        failed: c.Sequence[str] | None = None,
    ) -> RecordedSignal:
        """Assert that ``model`` was denied ``trigger``.

        ``reason`` (``"conditions"`` or ``"invalid_trigger"``) and ``failed``
        (the refusing guards, as in ``failed_conditions``) must match exactly when given.
        """
        __tracebackhide__ = True
        for recorded in self.of(model):
            payload = recorded.payload
            if (
                recorded.signal == "transition_denied"
                and recorded.trigger == trigger
                and (reason is None or payload["reason"] == reason)
                and (failed is None or list(payload["failed_conditions"]) == list(failed))
            ):
                return recorded
        details = [f"reason {reason!r}"] if reason else []
        if failed is not None:
            details.append(f"failed conditions {list(failed)!r}")
        expected = f" ({', '.join(details)})" if details else ""
        self._fail(f"{model!r} was not denied {trigger!r}{expected}")

    def assert_signals(self, expected: c.Sequence[str], *, model: object | None = None) -> None:
        """Assert that exactly the ``expected`` signals were recorded, in that order.

        Each expected item is the one-line form of :meth:`RecordedSignal.describe`
        (``"transition_completed pay: pending -> paid"``). With ``model``, only
        the signals that model sent are compared.
        """
        __tracebackhide__ = True
        chosen = self.signals if model is None else self.of(model)
        recorded = [signal.describe() for signal in chosen]
        if recorded == list(expected):
            return
        position = next(
            (
                index
                for index, (want, got) in enumerate(zip(expected, recorded, strict=False))
                if want != got
            ),
            min(len(expected), len(recorded)),
        )
        want = expected[position] if position < len(expected) else "(nothing more)"
        got = recorded[position] if position < len(recorded) else "(nothing more)"
        self._fail(
            f"signal {position + 1} differs: expected {want!r}, recorded {got!r}",
            model,
        )


def active_recorder() -> SignalRecorder:
    """The innermost active :class:`SignalRecorder`."""
    if not _active_recorders:
        raise StateSignalsError(
            "no SignalRecorder is active: use the signal_recorder fixture or "
            "'with SignalRecorder():' around the code under test"
        )
    return _active_recorders[-1]


def assert_transitioned(
    model: object, source: StateName, dest: StateName, *, via: str | None = None
) -> RecordedSignal:
    """:meth:`SignalRecorder.assert_transitioned` on the active recorder."""
    __tracebackhide__ = True
    return active_recorder().assert_transitioned(model, source, dest, via=via)


def assert_denied(
    model: object,
    trigger: str,
    *,
    reason: str | None = None,
    failed: c.Sequence[str] | None = None,
) -> RecordedSignal:
    """:meth:`SignalRecorder.assert_denied` on the active recorder."""
    __tracebackhide__ = True
    return active_recorder().assert_denied(model, trigger, reason=reason, failed=failed)


def assert_signals(expected: c.Sequence[str], *, model: object | None = None) -> None:
    """:meth:`SignalRecorder.assert_signals` on the active recorder."""
    __tracebackhide__ = True
    active_recorder().assert_signals(expected, model=model)


def disconnect_all() -> None:
    """Disconnect every receiver statesignals knows of and stop every active recorder.

    Global signals and per-class receivers (``Order.on_transition("ship")``) alike:
    afterwards the process dispatches as if nothing had ever been connected. Test
    suites call it after each test so that one test's receivers never run in another.
    """
    for recorder in reversed(_active_recorders):
        recorder.stop()
    for signal in (*workflow_signals.values(), transition_committed, transition_flushed):
        t.cast(WorkflowSignal, signal).disconnect_all()
    clear_routes()
    durable = sys.modules.get("statesignals.outbox.durable")
    if durable is not None:  # only loaded where durable receivers are used
        durable.forget_durable_routes()


# Paths through a workflow.


@dataclass(frozen=True)
class Step:
    """One transition of a path: ``trigger`` takes the model from ``source`` to ``dest``.

    ``conditions`` names the guards that must let it through, as
    ``failed_conditions`` would (``"is_funded"``, ``"not is_blocked"``).
    """

    trigger: str
    source: str
    dest: str
    conditions: tuple[str, ...] = ()
    internal: bool = False

    def __str__(self) -> str:
        guards = f" [{', '.join(self.conditions)}]" if self.conditions else ""
        return f"{self.trigger}: {self.source} -> {self.dest}{guards}"


@dataclass(frozen=True)
class WorkflowPath:
    """A sequence of steps from the initial state; ``name`` is its pytest id."""

    name: str
    steps: tuple[Step, ...]
    initial: str
    model_attribute: str = "state"

    @property
    def triggers(self) -> tuple[str, ...]:
        """The trigger of each step, in order."""
        return tuple(step.trigger for step in self.steps)

    @property
    def target(self) -> str:
        """The state the path ends in."""
        return self.steps[-1].dest if self.steps else self.initial

    def __str__(self) -> str:
        return self.name

    def run(
        self,
        model: Model,
        *,
        args: c.Mapping[str, c.Sequence[t.Any]] | None = None,
        arrange: c.Callable[[Model, Step], object] | None = None,
    ) -> Model:
        """Fire each step's trigger on ``model`` and check where it went.

        ``args`` gives the positional arguments of a trigger's calls
        (``{"pay": (3000,)}``); ``arrange(model, step)`` runs before each step, to
        set up the data the step's guards check. Fails with an AssertionError
        naming the step (and its guards) that did not lead to its ``dest``, with
        the signals the active recorder saw.
        """
        __tracebackhide__ = True
        arguments = args or {}
        for number, step in enumerate(self.steps, 1):
            where = f"path {self.name!r}, step {number} ({step})"
            state = self._state_of(model)
            if state != step.source:
                self._fail(f"{where}: the model is in {state!r}, not {step.source!r}")
            if arrange is not None:
                arrange(model, step)
            moved = t.cast(t.Any, model).trigger(step.trigger, *arguments.get(step.trigger, ()))
            state = self._state_of(model)
            if not moved or state != step.dest:
                guards = f"; the step needs {', '.join(step.conditions)}" if step.conditions else ""
                self._fail(f"{where}: the model ended in {state!r}{guards}")
        return model

    def _state_of(self, model: object) -> str:
        return model_state_name(getattr(model, self.model_attribute))

    def _fail(self, message: str) -> t.NoReturn:
        __tracebackhide__ = True
        if _active_recorders:
            message += f"\nrecorded signals:\n{_active_recorders[-1].report()}"
        raise AssertionError(message)


def _machine_of(workflow: type | Machine) -> Machine:
    if isinstance(workflow, Machine):
        return workflow
    machine = getattr(workflow, "machine", None)
    if isinstance(machine, Machine):
        return machine
    raise WorkflowLookupError(
        f"{workflow!r} is neither a SignalingMachine subclass with a workflow "
        "nor a transitions Machine"
    )


class _Structure:
    """The states of a machine as paths walk them: a model is in a *configuration*, the
    leaves it occupies (one, or one per region of a parallel state), named as
    ``model_state_name`` names the model's state (``"review_reading"``,
    ``"p_r1_a, p_r2_x"``). A flat machine's configurations are its states."""

    def __init__(self, machine: Machine) -> None:
        self.machine = machine
        joiner = separator(machine)
        self.nested = joiner is not None
        self.separator = joiner or ""
        self.order = {name: index for index, name in enumerate(state_names(machine))}

    def declared(self, include_auto: bool) -> list[CompiledTransition]:
        """Every transition of the machine, the ``to_<state>`` ones only if asked."""
        auto = set()
        if self.machine.auto_transitions and not include_auto:
            auto = {f"to_{state}" for state in self.order}
        return [
            found
            for found in compiled_transitions(self.machine, every=include_auto)
            if found.trigger not in auto
        ]

    def entered(self, name: str) -> tuple[str, ...]:
        """The leaves a model is in after entering state ``name``."""
        if not self.nested:
            return (name,)
        state = t.cast(NestedState, self.machine.get_state(name))
        if not state.states or not state.initial:
            return (name,)
        initial = state.initial if isinstance(state.initial, list) else [state.initial]
        return tuple(
            leaf
            for child in initial
            for leaf in self.entered(f"{name}{self.separator}{state_name(child)}")
        )

    def lineage(self, leaf: str) -> list[str]:
        """``leaf`` and the states around it, innermost first."""
        if not self.nested:
            return [leaf]
        parts = leaf.split(self.separator)
        return [self.separator.join(parts[:length]) for length in range(len(parts), 0, -1)]

    def after(self, leaves: tuple[str, ...], source: str, dest: str) -> tuple[str, ...]:
        """The configuration after a transition from ``source`` to ``dest`` in ``leaves``:
        the states below the nearest state enclosing both are left, ``dest`` entered."""
        if not self.nested:
            return (dest,)
        source_parts, dest_parts = source.split(self.separator), dest.split(self.separator)
        common: list[str] = []
        for one, other in zip(source_parts, dest_parts, strict=False):
            if one != other:
                break
            common.append(one)
        if common in (source_parts, dest_parts):
            common = common[:-1]  # into itself or an enclosing state: that one is left too
        scope = self.separator.join(common)
        kept = [
            leaf
            for leaf in leaves
            if scope and leaf != scope and not leaf.startswith(f"{scope}{self.separator}")
        ]
        return self.sorted((*kept, *self.entered(dest)))

    def sorted(self, leaves: c.Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted(set(leaves), key=lambda leaf: self.order.get(leaf, len(self.order))))

    def position(self, leaves: tuple[str, ...]) -> tuple[int, ...]:
        return tuple(self.order.get(leaf, len(self.order)) for leaf in leaves)


def _name(leaves: tuple[str, ...]) -> str:
    return ", ".join(leaves)


def _walk(
    workflow: type | Machine, include_auto: bool
) -> tuple[Machine, str, list[tuple[str, list[tuple[Step, int]]]], dict[str, tuple[Step, ...]]]:
    """The configurations reachable from the initial state, breadth first.

    Returns the machine, the initial configuration's name, each reachable
    configuration (in declaration order) with its steps (and the index of the
    declared transition each takes), and the shortest steps to each configuration.
    """
    machine = _machine_of(workflow)
    if machine.initial is None:
        raise WorkflowLookupError(f"{machine!r} has no initial state; paths start there")
    structure = _Structure(machine)
    declared = structure.declared(include_auto)
    by_source: dict[str, list[int]] = {}
    for index, found in enumerate(declared):
        by_source.setdefault(found.source, []).append(index)
    start = structure.sorted(structure.entered(state_name(machine.initial)))
    prefixes: dict[str, tuple[Step, ...]] = {_name(start): ()}
    configurations = {_name(start): start}
    moves: dict[str, list[tuple[Step, int]]] = {}
    queue = deque([start])
    while queue:
        leaves = queue.popleft()
        here = _name(leaves)
        indexes = sorted(
            {
                index
                for leaf in leaves
                for name in structure.lineage(leaf)
                for index in by_source.get(name, ())
            }
        )
        moves[here] = []
        for index in indexes:
            found = declared[index]
            dest = found.dest
            after = leaves if dest is None else structure.after(leaves, found.source, dest)
            guards = tuple(condition_label(condition) for condition in found.transition.conditions)
            step = Step(found.trigger, here, _name(after), guards, internal=dest is None)
            moves[here].append((step, index))
            if step.dest not in prefixes:
                prefixes[step.dest] = (*prefixes[here], step)
                configurations[step.dest] = after
                queue.append(after)
    ordered = sorted(configurations, key=lambda name: structure.position(configurations[name]))
    return machine, _name(start), [(name, moves[name]) for name in ordered], prefixes


def shortest_paths(workflow: type | Machine, *, include_auto: bool = False) -> list[WorkflowPath]:
    """The shortest path to every state reachable from the initial state.

    ``workflow`` is a :class:`~statesignals.SignalingMachine` subclass or a
    ``transitions`` machine. Paths follow the declared transitions without
    evaluating guards, come in the order the states are declared (the initial
    state's path is empty) and are named after the state they reach. The
    ``to_<state>`` shortcuts of ``auto_transitions`` are left out unless
    ``include_auto`` is true. Unreachable states have no path.

    In a nested workflow a path reaches each state a model can be in (an inner
    state, ``"review_reading"``; the regions of a parallel state together,
    ``"p_r1_a, p_r2_x"``), following transitions declared inside compound states
    and those that leave a compound state from any state inside it.
    """
    machine, initial, reached, prefixes = _walk(workflow, include_auto)
    return [
        WorkflowPath(name, prefixes[name], initial, machine.model_attribute) for name, _ in reached
    ]


def transition_paths(workflow: type | Machine, *, include_auto: bool = False) -> list[WorkflowPath]:
    """For every transition, the shortest path that ends by taking it.

    Each path is the shortest path to the transition's source followed by the
    transition itself, named ``"trigger: source -> dest"``. Paths come grouped
    by source state, in the order the states are declared; transitions from
    unreachable states have none. A transition declared on a compound state is
    taken once, from the nearest state inside it. Guards and ``include_auto``
    are treated as in :func:`shortest_paths`.
    """
    machine, initial, reached, prefixes = _walk(workflow, include_auto)
    chosen: dict[int, tuple[Step, ...]] = {}
    for _, moves in reached:
        for step, index in moves:
            path = (*prefixes[step.source], step)
            if index not in chosen or len(path) < len(chosen[index]):
                chosen[index] = path
    paths: list[WorkflowPath] = []
    names: set[str] = set()
    for _, moves in reached:
        for step, index in moves:
            if chosen.get(index, ())[-1:] != (step,):
                continue
            name = f"{step.trigger}: {step.source} -> {step.dest}"
            if name in names:
                # The same move again under other guards: tell the two apart.
                name = f"{name} [{', '.join(step.conditions)}]"
            names.add(name)
            paths.append(WorkflowPath(name, chosen[index], initial, machine.model_attribute))
    return paths


__all__ = [
    "MARK",
    "RecordedSignal",
    "SignalRecorder",
    "Step",
    "WorkflowPath",
    "active_recorder",
    "assert_denied",
    "assert_signals",
    "assert_transitioned",
    "disconnect_all",
    "shortest_paths",
    "transition_paths",
]


def __getattr__(name: str) -> t.Any:
    # 0.1 exported the fixture from here; it now lives in the plugin, which needs pytest.
    if name == "signal_recorder":
        from .plugin import signal_recorder

        return signal_recorder
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

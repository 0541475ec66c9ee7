"""The signaling machines behave as the transitions classes they wrap.

Each scenario runs on the raw ``transitions`` class and on its signaling
counterpart (with receivers connected to every signal) and must give the same,
expected trace: callback order, guards, queued processing, nested enter/exit
order, async cancellation and locking.
"""

from __future__ import annotations

import asyncio
import threading
import typing as t

import pytest
from transitions import Machine, MachineError
from transitions.extensions import HierarchicalMachine, LockedMachine
from transitions.extensions.asyncio import AsyncMachine

from statesignals import (
    SignalingAsyncMachine,
    SignalingCoreMachine,
    SignalingHierarchicalMachine,
    SignalingLockedMachine,
)
from statesignals.testing import SignalRecorder

Trace = list[str]


@pytest.fixture(autouse=True)
def receivers_everywhere(signal_recorder: SignalRecorder) -> SignalRecorder:
    """Receivers on every signal, so the signaling side does all of its work."""
    return signal_recorder


class Recorder:
    """A model whose callbacks write to one trace."""

    state: str

    def __init__(self) -> None:
        self.trace: Trace = []

    def __getattr__(self, name: str) -> t.Callable[..., t.Any]:
        if name.startswith("note_"):
            return lambda *args, **kwargs: self.trace.append(name.removeprefix("note_"))
        if name.startswith(("yes_", "no_")):

            def guard(*args: t.Any, **kwargs: t.Any) -> bool:
                self.trace.append(name)
                return name.startswith("yes_")

            return guard
        raise AttributeError(name)


flat = pytest.mark.parametrize(
    "machine_cls", [Machine, SignalingCoreMachine], ids=["raw", "signaling"]
)
nested = pytest.mark.parametrize(
    "machine_cls", [HierarchicalMachine, SignalingHierarchicalMachine], ids=["raw", "signaling"]
)


@flat
def test_callbacks_of_a_transition_run_in_transitions_order(machine_cls: type[Machine]) -> None:
    model = Recorder()
    machine_cls(
        model,
        states=[
            {"name": "draft", "on_exit": "note_leave"},
            {"name": "review", "on_enter": "note_arrive"},
        ],
        transitions=[
            {
                "trigger": "submit",
                "source": "draft",
                "dest": "review",
                "prepare": "note_prepare",
                "conditions": "yes_complete",
                "unless": "no_locked",
                "before": "note_before",
                "after": "note_after",
            }
        ],
        initial="draft",
        prepare_event="note_prepare_event",
        before_state_change="note_before_state_change",
        after_state_change="note_after_state_change",
        finalize_event="note_finalize_event",
    )
    assert model.submit() is True
    assert model.trace == [
        "prepare_event",
        "prepare",
        "yes_complete",
        "no_locked",
        "before_state_change",
        "before",
        "leave",
        "arrive",
        "after",
        "after_state_change",
        "finalize_event",
    ]


@flat
def test_the_first_transition_whose_guards_pass_is_taken(machine_cls: type[Machine]) -> None:
    model = Recorder()
    machine_cls(
        model,
        states=["open", "escalated", "closed"],
        transitions=[
            {"trigger": "handle", "source": "open", "dest": "escalated", "conditions": "no_urgent"},
            {"trigger": "handle", "source": "open", "dest": "closed", "unless": "no_blocked"},
        ],
        initial="open",
    )
    assert model.handle() is True
    assert model.state == "closed"
    assert model.trace == ["no_urgent", "no_blocked"]


@flat
def test_a_refused_trigger_returns_false_and_an_invalid_one_raises(
    machine_cls: type[Machine],
) -> None:
    model = Recorder()
    machine_cls(
        model,
        states=["open", "closed"],
        transitions=[
            {"trigger": "close", "source": "open", "dest": "closed", "conditions": "no_done"}
        ],
        initial="open",
    )
    assert model.close() is False
    assert model.may_close() is False
    model.to_closed()
    with pytest.raises(MachineError, match="Can't trigger event close from state closed"):
        model.close()


@flat
def test_queued_triggers_from_callbacks_run_after_the_current_transition(
    machine_cls: type[Machine],
) -> None:
    model = Recorder()

    def chain() -> None:
        model.trace.append("chain fires next")
        assert model.next() is True
        model.trace.append("chain returns")

    machine_cls(
        model,
        states=["a", "b", "c"],
        transitions=[
            {"trigger": "next", "source": "a", "dest": "b", "after": chain},
            {"trigger": "next", "source": "b", "dest": "c", "after": "note_reached_c"},
        ],
        initial="a",
        queued=True,
    )
    assert model.next() is True
    assert model.state == "c"
    assert model.trace == ["chain fires next", "chain returns", "reached_c"]


@flat
def test_on_exception_receives_the_error_instead_of_the_caller(machine_cls: type[Machine]) -> None:
    model = Recorder()
    handled: list[str] = []

    def explode(event: t.Any) -> None:
        raise ValueError("boom")

    machine_cls(
        model,
        states=["a", "b"],
        transitions=[{"trigger": "go", "source": "a", "dest": "b", "before": explode}],
        initial="a",
        send_event=True,
        on_exception=lambda event: handled.append(repr(event.error)),
    )
    assert model.go() is False
    assert handled == ["ValueError('boom')"]
    assert model.state == "a"


@flat
def test_internal_and_reflexive_transitions_differ_in_exit_and_enter(
    machine_cls: type[Machine],
) -> None:
    model = Recorder()
    machine_cls(
        model,
        states=[{"name": "a", "on_exit": "note_exit", "on_enter": "note_enter"}],
        transitions=[["stay", "a", None], ["again", "a", "="]],
        initial="a",
    )
    model.stay()
    assert model.trace == []
    model.again()
    assert model.trace == ["exit", "enter"]


@flat
def test_a_machine_that_is_its_own_model_gets_every_auto_transition(
    machine_cls: type[Machine],
) -> None:
    machine: t.Any = machine_cls(states=["draft", "state"], initial="draft")
    assert machine.to_state() is True
    assert machine.state == "state"


@nested
def test_nested_enter_and_exit_callbacks_run_level_by_level(machine_cls: type[Machine]) -> None:
    model = Recorder()
    machine_cls(
        model,
        states=[
            {"name": "idle", "on_enter": "note_enter_idle", "on_exit": "note_exit_idle"},
            {
                "name": "work",
                "on_enter": "note_enter_work",
                "on_exit": "note_exit_work",
                "initial": "task",
                "children": [
                    {
                        "name": "task",
                        "on_enter": "note_enter_task",
                        "on_exit": "note_exit_task",
                        "initial": "step",
                        "children": [
                            {
                                "name": "step",
                                "on_enter": "note_enter_step",
                                "on_exit": "note_exit_step",
                            }
                        ],
                    }
                ],
            },
        ],
        transitions=[["begin", "idle", "work"], ["stop", "work", "idle"]],
        initial="idle",
    )
    model.begin()
    model.stop()
    assert model.trace == [
        "exit_idle",
        "enter_work",
        "enter_task",
        "enter_step",
        "exit_step",
        "exit_task",
        "exit_work",
        "enter_idle",
    ]


@nested
def test_a_child_transition_wins_over_the_parent_one(machine_cls: type[Machine]) -> None:
    model = Recorder()
    machine_cls(
        model,
        states=["idle", {"name": "work", "children": ["a", "b"], "initial": "a"}],
        transitions=[["poke", "work", "idle"], ["poke", "work_a", "work_b"]],
        initial="work",
    )
    model.poke()
    assert model.state == "work_b"
    model.poke()
    assert model.state == "idle"


@pytest.mark.parametrize(
    "machine_cls", [AsyncMachine, SignalingAsyncMachine], ids=["raw", "signaling"]
)
def test_a_newer_async_transition_cancels_the_running_one(machine_cls: type[AsyncMachine]) -> None:
    model = Recorder()
    reached = asyncio.Event()

    async def wait_forever() -> None:
        reached.set()
        await asyncio.sleep(60)
        model.trace.append("never")

    machine_cls(
        model,
        states=["idle", "slow", "fast"],
        transitions=[
            {"trigger": "slowly", "source": "idle", "dest": "slow", "after": wait_forever},
            ["quickly", "*", "fast"],
        ],
        initial="idle",
    )

    async def scenario() -> tuple[bool, bool]:
        slow = asyncio.create_task(model.slowly())
        await reached.wait()
        fast = await model.quickly()
        return await slow, fast

    assert asyncio.run(scenario()) == (False, True)
    assert model.state == "fast"
    assert "never" not in model.trace


@pytest.mark.parametrize(
    "machine_cls", [LockedMachine, SignalingLockedMachine], ids=["raw", "signaling"]
)
def test_a_locked_machine_makes_a_second_thread_wait_for_the_running_trigger(
    machine_cls: type[LockedMachine],
) -> None:
    model = Recorder()
    inside = threading.Event()
    release = threading.Event()

    def hold() -> None:
        model.trace.append("first inside")
        inside.set()
        release.wait(5)
        model.trace.append("first leaves")

    machine_cls(
        model,
        states=["a", "b", "c"],
        transitions=[
            {"trigger": "first", "source": "a", "dest": "b", "after": hold},
            ["second", "b", "c"],
        ],
        initial="a",
        after_state_change="note_changed",
    )
    worker = threading.Thread(target=model.first)
    worker.start()
    inside.wait(5)
    waiting = threading.Thread(target=model.second)
    waiting.start()
    waiting.join(0.05)
    assert waiting.is_alive()  # blocked on the machine's lock
    release.set()
    worker.join()
    waiting.join()
    assert model.trace == ["first inside", "first leaves", "changed", "changed"]
    assert model.state == "c"

"""State signals say what happened to the model, however the program drives the machine."""

from __future__ import annotations

import asyncio
import typing as t

import pytest
from transitions import State
from transitions.extensions.nesting import NestedState

from statesignals import (
    SignalingAsyncMachine,
    SignalingCoreMachine,
    SignalingHierarchicalMachine,
    SignalingLockedMachine,
)
from statesignals.testing import SignalRecorder
from tests.recording import payloads, recording, sent, states


@pytest.fixture
def log() -> t.Iterator[SignalRecorder]:
    log = recording()
    yield log
    log.stop()


def history(log: SignalRecorder) -> list[tuple[str, ...]]:
    """Each signal as (name, state or trigger)."""
    return [
        (name, payload["state"] if "state" in payload else payload["trigger"])
        for name, _, payload in sent(log)
    ]


class Model:
    state: t.Any


@pytest.mark.parametrize(
    "machine_cls", [SignalingCoreMachine, SignalingHierarchicalMachine, SignalingLockedMachine]
)
def test_states_passed_as_objects_send_state_signals(
    machine_cls: type[t.Any], log: SignalRecorder
) -> None:
    state_cls = NestedState if machine_cls is SignalingHierarchicalMachine else State
    left: list[str] = []
    model = Model()
    machine = machine_cls(
        model, states=[state_cls("A", on_exit=lambda: left.append("A")), "B"], initial="A"
    )
    machine.add_state(state_cls("D"))
    machine.add_states([state_cls("E")])
    t.cast(t.Any, model).to_B()
    t.cast(t.Any, model).to_D()
    t.cast(t.Any, model).to_E()
    assert left == ["A"]
    assert states(log) == [
        ("state_exited", "A"),
        ("state_entered", "B"),
        ("state_exited", "B"),
        ("state_entered", "D"),
        ("state_exited", "D"),
        ("state_entered", "E"),
    ]


def test_to_a_nested_state_names_the_source_and_the_dest_in_its_state_signals(
    log: SignalRecorder,
) -> None:
    model = Model()
    SignalingHierarchicalMachine(
        model,
        states=["standing", {"name": "caffeinated", "children": ["dithering", "running"]}],
        initial="standing",
    )
    t.cast(t.Any, model).to("caffeinated_running")
    assert [(n, p["state"], p["source"], p["dest"]) for n, _, p in sent(log) if "state" in p] == [
        ("state_exited", "standing", "standing", "caffeinated_running"),
        ("state_entered", "caffeinated", "standing", "caffeinated_running"),
        ("state_entered", "caffeinated_running", "standing", "caffeinated_running"),
    ]


def test_an_async_trigger_cancelled_in_on_enter_still_reports_the_state_it_entered(
    log: SignalRecorder,
) -> None:
    class Job:
        state: str

        def __init__(self) -> None:
            self.started = asyncio.Event()

        async def on_enter_running(self) -> None:
            self.started.set()
            await asyncio.Event().wait()  # until cancelled

    async def scenario() -> tuple[bool, bool]:
        job = Job()
        SignalingAsyncMachine(
            job,
            states=["queued", "running", "stopped"],
            initial="queued",
            transitions=[["start", "queued", "running"], ["stop", "running", "stopped"]],
        )
        starting = asyncio.create_task(t.cast(t.Any, job).start())
        await job.started.wait()
        stopped = await t.cast(t.Any, job).stop()
        return await starting, stopped

    assert asyncio.run(scenario()) == (False, True)
    assert history(log) == [
        ("state_exited", "queued"),
        ("state_entered", "running"),
        ("state_exited", "running"),
        ("state_entered", "stopped"),
        ("transition_completed", "stop"),
        ("transition_failed", "start"),
    ]
    failed = payloads(log, "transition_failed")[0]
    assert isinstance(failed["error"], asyncio.CancelledError)


def test_a_trigger_fired_from_on_enter_is_signalled_after_the_state_it_leaves_was_entered(
    log: SignalRecorder,
) -> None:
    model = Model()
    machine = SignalingCoreMachine(
        model,
        states=["idle", "heating", "ready"],
        initial="idle",
        transitions=[["heat", "idle", "heating"], ["done", "heating", "ready"]],
    )
    machine.on_enter_heating(lambda: t.cast(t.Any, model).done())
    assert t.cast(t.Any, model).heat()
    assert model.state == "ready"
    assert history(log) == [
        ("state_exited", "idle"),
        ("state_entered", "heating"),
        ("state_exited", "heating"),
        ("state_entered", "ready"),
        ("transition_completed", "done"),
        ("transition_completed", "heat"),
    ]


def test_a_trigger_fired_from_a_parents_on_enter_is_signalled_after_parent_and_child(
    log: SignalRecorder,
) -> None:
    model = Model()
    machine = SignalingHierarchicalMachine(
        model,
        states=["off", {"name": "on", "children": ["warming", "steady"], "initial": "warming"}],
        initial="off",
        transitions=[["start", "off", "on"], ["settle", "on_warming", "on_steady"]],
    )
    machine.on_enter_on(lambda: t.cast(t.Any, model).settle())
    assert t.cast(t.Any, model).start()
    assert model.state == "on_steady"
    assert history(log) == [
        ("state_exited", "off"),
        ("state_entered", "on"),
        ("state_entered", "on_warming"),
        ("state_exited", "on_warming"),
        ("state_entered", "on_steady"),
        ("transition_completed", "settle"),
        ("transition_completed", "start"),
    ]


@pytest.mark.parametrize(
    "machine_cls", [SignalingCoreMachine, SignalingHierarchicalMachine, SignalingLockedMachine]
)
def test_a_raising_on_enter_still_reports_the_state_the_model_entered(
    machine_cls: type[t.Any], log: SignalRecorder
) -> None:
    model = Model()
    machine = machine_cls(
        model, states=["draft", "sent"], initial="draft", transitions=[["send", "draft", "sent"]]
    )

    def refuse() -> None:
        raise RuntimeError("mail server down")

    machine.on_enter_sent(refuse)
    with pytest.raises(RuntimeError, match="mail server down"):
        t.cast(t.Any, model).send()
    assert model.state == "sent"
    assert history(log) == [
        ("state_exited", "draft"),
        ("state_entered", "sent"),
        ("transition_failed", "send"),
    ]


def test_a_raising_async_on_enter_still_reports_the_state_the_model_entered(
    log: SignalRecorder,
) -> None:
    class Mail:
        state: str

        async def on_enter_sent(self) -> None:
            raise RuntimeError("mail server down")

    mail = Mail()
    SignalingAsyncMachine(
        mail, states=["draft", "sent"], initial="draft", transitions=[["send", "draft", "sent"]]
    )
    with pytest.raises(RuntimeError, match="mail server down"):
        asyncio.run(t.cast(t.Any, mail).send())
    assert mail.state == "sent"
    assert history(log) == [
        ("state_exited", "draft"),
        ("state_entered", "sent"),
        ("transition_failed", "send"),
    ]

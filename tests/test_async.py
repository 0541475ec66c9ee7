"""Async machines send with send_async: coroutine receivers awaited, plain ones called."""

from __future__ import annotations

import asyncio
import typing as t

import pytest

from statesignals import (
    AsyncReceiverError,
    AsyncTrigger,
    MachineError,
    ReceiverError,
    SignalingAsyncMachine,
    SignalingCoreMachine,
    SignalingHierarchicalAsyncMachine,
    SignalingMachine,
    StateSignalsError,
    state_entered,
    state_exited,
    transition_completed,
)
from statesignals.testing import SignalRecorder
from tests.recording import names, payloads, states


class Job:
    """A plain model for imperative machines."""


@pytest.fixture
def log(signal_recorder: SignalRecorder) -> SignalRecorder:
    return signal_recorder


def job_machine(**options: t.Any) -> tuple[Job, SignalingAsyncMachine]:
    job = Job()
    options.setdefault("states", ["queued", "running", "done"])
    options.setdefault("initial", "queued")
    options.setdefault(
        "transitions", [["start", "queued", "running"], ["finish", "running", "done"]]
    )
    return job, SignalingAsyncMachine(job, **options)


def test_async_receivers_are_awaited_and_sync_receivers_called_in_connection_order() -> None:
    calls: list[str] = []

    async def notify_service(sender: Job, **payload: t.Any) -> None:
        await asyncio.sleep(0)
        calls.append(f"awaited {payload['dest']}")

    def audit(sender: Job, **payload: t.Any) -> None:
        calls.append(f"called {payload['dest']}")

    transition_completed.connect(audit)
    transition_completed.connect(notify_service)
    job, _ = job_machine()
    assert asyncio.run(job.start()) is True  # type: ignore[attr-defined]
    assert calls == ["called running", "awaited running"]


def test_signals_interleave_with_async_callbacks_as_in_a_sync_machine(log: SignalRecorder) -> None:
    order: list[str] = []

    def callback(name: str) -> t.Callable[[], t.Awaitable[None]]:
        async def run() -> None:
            await asyncio.sleep(0)
            order.append(f"{name} after {len(log.signals)} signals")

        return run

    job = Job()
    SignalingAsyncMachine(
        job,
        states=[
            {"name": "queued", "on_exit": callback("on_exit")},
            {"name": "running", "on_enter": callback("on_enter")},
        ],
        transitions=[
            {"trigger": "start", "source": "queued", "dest": "running", "after": callback("after")}
        ],
        initial="queued",
        after_state_change=callback("after_state_change"),
        finalize_event=callback("finalize_event"),
    )
    asyncio.run(job.start())  # type: ignore[attr-defined]
    assert order == [
        "on_exit after 0 signals",
        "on_enter after 1 signals",
        "after after 2 signals",
        "after_state_change after 2 signals",
        "finalize_event after 3 signals",
    ]
    assert names(log) == ["state_exited", "state_entered", "transition_completed"]


def test_every_refusing_async_guard_is_named_in_the_denial(log: SignalRecorder) -> None:
    async def has_worker() -> bool:
        return False

    job = Job()
    job.has_worker = has_worker  # type: ignore[attr-defined]
    job.has_quota = lambda: False  # type: ignore[attr-defined]
    SignalingAsyncMachine(
        job,
        states=["queued", "running"],
        transitions=[
            {
                "trigger": "start",
                "source": "queued",
                "dest": "running",
                "conditions": ["has_worker", "has_quota"],
            }
        ],
        initial="queued",
    )
    assert asyncio.run(job.start()) is False  # type: ignore[attr-defined]
    [denied] = payloads(log, "transition_denied")
    assert denied["reason"] == "conditions"
    assert denied["failed_conditions"] == ["has_worker", "has_quota"]


def test_an_invalid_async_trigger_is_denied_then_raised(log: SignalRecorder) -> None:
    job, _ = job_machine()
    with pytest.raises(MachineError) as raised:
        asyncio.run(job.finish())  # type: ignore[attr-defined]
    [denied] = payloads(log, "transition_denied")
    assert (denied["reason"], denied["error"]) == ("invalid_trigger", raised.value)


def test_a_trigger_cancelled_by_a_newer_one_sends_no_completion_but_its_failure(
    log: SignalRecorder,
) -> None:
    started = asyncio.Event()

    async def slow_upload() -> None:
        started.set()
        await asyncio.sleep(10)

    job = Job()
    job.slow_upload = slow_upload  # type: ignore[attr-defined]
    SignalingAsyncMachine(
        job,
        states=["queued", "running", "cancelled"],
        transitions=[
            {"trigger": "start", "source": "queued", "dest": "running", "after": "slow_upload"},
            ["cancel", "*", "cancelled"],
        ],
        initial="queued",
    )

    async def scenario() -> tuple[bool, bool]:
        first = asyncio.create_task(job.start())  # type: ignore[attr-defined]
        await started.wait()
        cancelled = await job.cancel()  # type: ignore[attr-defined]
        return await first, cancelled

    assert asyncio.run(scenario()) == (False, True)
    assert job.state == "cancelled"  # type: ignore[attr-defined]
    assert [p["trigger"] for p in payloads(log, "transition_completed")] == ["cancel"]
    [failed] = payloads(log, "transition_failed")
    assert failed["trigger"] == "start"
    assert isinstance(failed["error"], asyncio.CancelledError)
    assert names(log)[-1] == "transition_failed"


def test_receiver_errors_surface_in_the_task_whose_trigger_caused_them() -> None:
    first, _ = job_machine()
    second, _ = job_machine()
    spawned: list[asyncio.Task[bool]] = []

    def spawn_second(sender: Job, **payload: t.Any) -> None:
        if sender is first:
            spawned.append(asyncio.get_running_loop().create_task(second.start()))  # type: ignore[attr-defined]

    def fail_for_second(sender: Job, **payload: t.Any) -> None:
        if sender is second:
            raise ValueError("second's receiver failed")

    transition_completed.connect(spawn_second)
    transition_completed.connect(fail_for_second)

    async def scenario() -> tuple[bool, BaseException | None]:
        result = await first.start()  # type: ignore[attr-defined]
        error = None
        try:
            await spawned[0]
        except ReceiverError as group:
            error = group
        return result, error

    result, error = asyncio.run(scenario())
    assert result is True
    assert isinstance(error, ReceiverError)
    assert [str(e) for e in error.exceptions] == ["second's receiver failed"]


def test_async_receiver_errors_are_raised_after_the_trigger_finished() -> None:
    async def broken(sender: Job, **payload: t.Any) -> None:
        raise RuntimeError("webhook down")

    state_entered.connect(broken)
    job, _ = job_machine()
    with pytest.raises(ReceiverError) as raised:
        asyncio.run(job.start())  # type: ignore[attr-defined]
    assert job.state == "running"  # type: ignore[attr-defined]
    assert [str(e) for e in raised.value.exceptions] == ["webhook down"]


def test_a_sync_machine_with_an_async_receiver_fails_clearly_without_dropping_it() -> None:
    async def never_awaitable(sender: object, **payload: t.Any) -> None:
        raise AssertionError("a sync machine must not call a coroutine receiver")

    state_exited.connect(never_awaitable)
    job = Job()
    SignalingCoreMachine(job, states=["queued", "running"], initial="queued")
    with pytest.raises(StateSignalsError) as raised:
        job.to_running()  # type: ignore[attr-defined]
    assert isinstance(raised.value, ReceiverError)
    [error] = raised.value.exceptions
    assert isinstance(error, AsyncReceiverError)
    assert "never_awaitable" in str(error)
    assert "asynchronous machine" in str(error)


def test_nested_async_machine_sends_full_names_and_one_completion_per_trigger(
    log: SignalRecorder,
) -> None:
    job = Job()
    SignalingHierarchicalAsyncMachine(
        job,
        states=[
            "queued",
            {
                "name": "running",
                "parallel": [
                    {"name": "upload", "children": ["busy", "idle"], "initial": "busy"},
                    {"name": "scan", "children": ["busy", "idle"], "initial": "busy"},
                ],
            },
        ],
        transitions=[
            ["start", "queued", "running"],
            ["rest", "running_upload_busy", "running_upload_idle"],
            ["rest", "running_scan_busy", "running_scan_idle"],
        ],
        initial="queued",
    )

    async def scenario() -> None:
        await job.start()  # type: ignore[attr-defined]
        log.clear()
        assert await job.rest()  # type: ignore[attr-defined]
        with pytest.raises(MachineError):
            await job.start()  # type: ignore[attr-defined]

    asyncio.run(scenario())
    assert sorted(s for n, s in states(log) if n == "state_entered") == [
        "running_scan_idle",
        "running_upload_idle",
    ]
    assert names(log).count("transition_completed") == 1
    assert payloads(log, "transition_denied")[0]["reason"] == "invalid_trigger"


class Upload(SignalingMachine):
    machine_cls = SignalingAsyncMachine
    states = ["queued", "sent"]
    initial = "queued"
    transitions = [{"trigger": "send", "source": "queued", "dest": "sent", "conditions": "online"}]
    send: AsyncTrigger
    may_send: AsyncTrigger

    def __init__(self, online: bool = True) -> None:
        self.is_online = online

    async def online(self) -> bool:
        return self.is_online


def test_declared_async_triggers_return_coroutines_to_await(log: SignalRecorder) -> None:
    upload = Upload()

    async def scenario() -> tuple[bool, bool, bool]:
        may = upload.may_send()
        assert asyncio.iscoroutine(may)
        pending = upload.send()
        assert asyncio.iscoroutine(pending)
        return await may, await pending, await upload.trigger("to_queued")

    assert asyncio.run(scenario()) == (True, True, True)
    assert [p["dest"] for p in payloads(log, "transition_completed")] == ["sent", "queued"]


def test_declared_async_denial_is_reported() -> None:
    upload = Upload(online=False)
    denied: list[list[str]] = []

    @Upload.on_denied("send")
    def record(sender: Upload, **payload: t.Any) -> None:
        denied.append(payload["failed_conditions"])

    try:
        assert asyncio.run(upload.send()) is False
    finally:
        Upload.disconnect(record)
    assert denied == [["online"]]


def test_declared_nested_async_workflow_uses_trigger_event() -> None:
    class Pipeline(SignalingMachine):
        machine_cls = SignalingHierarchicalAsyncMachine
        states = ["idle", {"name": "run", "children": ["fetch", "build"], "initial": "fetch"}]
        initial = "idle"
        transitions = [["go", "idle", "run"], ["next_step", "run_fetch", "run_build"]]
        go: AsyncTrigger
        next_step: AsyncTrigger

    pipeline = Pipeline()

    async def scenario() -> list[bool]:
        return [await pipeline.go(), await pipeline.next_step()]

    assert asyncio.run(scenario()) == [True, True]
    assert pipeline.state == "run_build"


class Relay(SignalingMachine):
    """Queued per model: a trigger fired from a callback runs after the current one."""

    machine_cls = SignalingAsyncMachine
    states = ["a", "b", "c"]
    initial = "a"
    transitions = [
        {"trigger": "step", "source": "a", "dest": "b", "after": "chain"},
        {"trigger": "step", "source": "b", "dest": "c"},
    ]
    queued = "model"
    step: AsyncTrigger

    def __init__(self) -> None:
        self.trace: list[str] = []

    async def chain(self) -> None:
        self.trace.append(f"chain queues step in {self.state}")
        assert await self.step() is True
        self.trace.append(f"chain returns in {self.state}")


def test_declared_queued_per_model_workflow_queues_triggers_of_each_instance(
    log: SignalRecorder,
) -> None:
    relay = Relay()
    assert asyncio.run(relay.step()) is True
    assert relay.state == "c"
    assert relay.trace == ["chain queues step in b", "chain returns in b"]
    assert [p["dest"] for p in payloads(log, "transition_completed")] == ["b", "c"]
    machine: t.Any = Relay.machine
    assert machine._transition_queue_dict == {}  # no queue kept once its events ran

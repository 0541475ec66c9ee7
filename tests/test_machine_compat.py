"""SignalingMixin changes nothing of what transitions.Machine does; it only adds signals."""

from __future__ import annotations

import collections.abc as c
import enum
import pickle
import typing as t

import pytest
from transitions import Machine, MachineError
from transitions.core import State

from statesignals import SignalingCoreMachine, SignalingMixin, transition_failed
from statesignals.testing import SignalRecorder
from tests.recording import entries, payloads

MACHINE_CLASSES = [Machine, SignalingCoreMachine]


class Model:
    """A model that notes every callback with its arguments."""

    def __init__(self) -> None:
        self.calls: list[tuple[t.Any, ...]] = []
        self.allowed = True

    def note(self, *args: t.Any, **kwargs: t.Any) -> None:
        self.calls.append((args, kwargs))

    def check(self, *args: t.Any, **kwargs: t.Any) -> bool:
        self.calls.append(("check", args, kwargs))
        return self.allowed

    def explode(self, *args: t.Any, **kwargs: t.Any) -> None:
        raise RuntimeError("callback failed")


def go_model(
    machine_cls: type[Machine], transition: dict[str, t.Any] | None = None, **options: t.Any
) -> Model:
    """A Model with one trigger, ``go`` from a to b, on a machine of ``machine_cls``."""
    model = Model()
    go = {"trigger": "go", "source": "a", "dest": "b", **(transition or {})}
    machine_cls(model=model, states=["a", "b"], initial="a", transitions=[go], **options)
    return model


def both(build: c.Callable[[type[Machine]], t.Any]) -> tuple[t.Any, t.Any]:
    return build(Machine), build(SignalingCoreMachine)


def outcome(action: c.Callable[[], t.Any]) -> tuple[str, t.Any]:
    try:
        return "returned", action()
    except Exception as error:
        return "raised", (type(error), str(error))


@pytest.mark.parametrize("machine_cls", MACHINE_CLASSES)
def test_trigger_returns_true_false_or_raises_as_transitions(machine_cls: type[Machine]) -> None:
    model = go_model(machine_cls, {"conditions": "check"})
    model.allowed = False
    assert model.go() is False  # type: ignore[attr-defined]
    model.allowed = True
    assert model.go() is True  # type: ignore[attr-defined]
    with pytest.raises(MachineError):
        model.go()  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        model.trigger("unknown")  # type: ignore[attr-defined]


def test_callbacks_receive_the_same_arguments_in_the_same_order() -> None:
    def build(machine_cls: type[Machine]) -> Model:
        model = Model()
        machine_cls(
            model=model,
            states=["a", "b"],
            initial="a",
            transitions=[
                {
                    "trigger": "go",
                    "source": "a",
                    "dest": "b",
                    "prepare": "note",
                    "conditions": "check",
                    "before": "note",
                    "after": "note",
                }
            ],
            before_state_change="note",
            after_state_change="note",
        )
        model.go(1, key="value")  # type: ignore[attr-defined]
        return model

    plain, signaling = both(build)

    assert signaling.calls == plain.calls
    assert len(plain.calls) == 6


def test_send_event_passes_event_data_to_callbacks() -> None:
    def build(machine_cls: type[Machine]) -> list[t.Any]:
        seen: list[t.Any] = []
        machine = machine_cls(
            states=["a", "b"],
            initial="a",
            transitions=[["go", "a", "b"]],
            send_event=True,
            after_state_change=lambda event: seen.append((event.event.name, event.kwargs)),
        )
        machine.go(amount=3)
        return seen

    plain, signaling = both(build)
    assert signaling == plain == [("go", {"amount": 3})]


def test_queued_processing_runs_nested_triggers_after_the_current_one() -> None:
    def build(machine_cls: type[Machine]) -> tuple[list[str], bool]:
        order: list[str] = []

        class Queued:
            def on_enter_b(self) -> None:
                order.append("enter b")
                result.append(self.advance())  # type: ignore[attr-defined]
                order.append("advance queued")

            def on_enter_c(self) -> None:
                order.append("enter c")

        result: list[bool] = []
        model = Queued()
        machine_cls(
            model=model,
            states=["a", "b", "c"],
            initial="a",
            transitions=[["go", "a", "b"], ["advance", "b", "c"]],
            queued=True,
        )
        model.go()  # type: ignore[attr-defined]
        return order, result[0]

    plain, signaling = both(build)
    assert signaling == plain == (["enter b", "advance queued", "enter c"], True)


def test_auto_and_ordered_transitions_are_added_as_in_transitions() -> None:
    def build(machine_cls: type[Machine]) -> tuple[list[str], list[str]]:
        model = Model()
        machine = machine_cls(
            model=model, states=["a", "b", "c"], initial="a", ordered_transitions=True
        )
        visited = []
        for _ in range(3):
            model.next_state()  # type: ignore[attr-defined]
            visited.append(model.state)  # type: ignore[attr-defined]
        model.to_c()  # type: ignore[attr-defined]
        visited.append(model.state)  # type: ignore[attr-defined]
        return visited, sorted(machine.events)

    plain, signaling = both(build)
    assert signaling == plain
    assert plain[0] == ["b", "c", "a", "c"]


def test_many_models_on_one_machine_transition_independently(
    signal_recorder: SignalRecorder,
) -> None:
    models = [Model() for _ in range(5)]
    machine = SignalingCoreMachine(
        model=models, states=["a", "b"], initial="a", transitions=[["go", "a", "b"]]
    )

    models[2].go()  # type: ignore[attr-defined]

    assert [m.state for m in models] == ["a", "a", "b", "a", "a"]  # type: ignore[attr-defined]
    senders = {id(p["sender"]) for p in payloads(signal_recorder)}
    assert senders == {id(models[2])}
    models[2].to_a()  # type: ignore[attr-defined]
    assert machine.dispatch("go") is True
    assert [m.state for m in models] == ["b"] * 5  # type: ignore[attr-defined]
    assert len({id(p["sender"]) for p in payloads(signal_recorder)}) == 5


def test_callback_exception_propagates_and_sends_transition_failed(
    signal_recorder: SignalRecorder,
) -> None:
    model = Model()
    SignalingCoreMachine(
        model=model,
        states=["a", "b"],
        initial="a",
        transitions=[{"trigger": "go", "source": "a", "dest": "b", "after": "explode"}],
    )

    with pytest.raises(RuntimeError, match="callback failed"):
        model.go()  # type: ignore[attr-defined]

    assert model.state == "b"  # type: ignore[attr-defined]
    names = [p["signal"] for p in payloads(signal_recorder)]
    assert names == ["state_exited", "state_entered", "transition_failed"]
    assert isinstance(payloads(signal_recorder)[-1]["error"], RuntimeError)


def test_on_exception_handles_the_error_and_transition_failed_reports_it() -> None:
    def build(machine_cls: type[Machine]) -> tuple[bool, list[str]]:
        handled: list[str] = []
        model = go_model(
            machine_cls,
            {"before": "explode"},
            on_exception=lambda *args, **kwargs: handled.append("handled"),
        )
        return model.go(), handled  # type: ignore[attr-defined]

    failures: list[t.Any] = []

    def record(sender: object, **payload: t.Any) -> None:
        failures.append(payload["error"])

    with transition_failed.connected_to(record):
        plain, signaling = both(build)

    assert signaling == plain == (False, ["handled"])
    assert len(failures) == 1
    assert isinstance(failures[0], RuntimeError)


def test_finalize_event_runs_even_when_a_callback_raises() -> None:
    def build(machine_cls: type[Machine]) -> tuple[t.Any, list[str]]:
        finalized: list[str] = []
        model = go_model(
            machine_cls,
            {"before": "explode"},
            finalize_event=lambda *args, **kwargs: finalized.append("finalized"),
        )
        return outcome(model.go), finalized  # type: ignore[attr-defined]

    plain, signaling = both(build)
    assert signaling == plain
    assert plain[0][0] == "raised"


class Status(enum.Enum):
    NEW = 1
    DONE = 2


def test_enum_states_keep_enum_values_and_signal_state_names(
    signal_recorder: SignalRecorder,
) -> None:
    model = Model()
    SignalingCoreMachine(
        model=model,
        states=Status,
        initial=Status.NEW,
        transitions=[["finish", Status.NEW, Status.DONE]],
    )

    model.finish()  # type: ignore[attr-defined]

    assert model.state is Status.DONE  # type: ignore[attr-defined]
    assert entries(signal_recorder, marks=False) == [
        ("state_exited", "finish", "NEW", "DONE", "NEW"),
        ("state_entered", "finish", "NEW", "DONE", "DONE"),
        ("transition_completed", "finish", "NEW", "DONE"),
    ]
    assert payloads(signal_recorder)[-1]["event_data"].state.value is Status.DONE


class PicklableModel:
    pass


class AuditedMachine(SignalingMixin, Machine):
    pass


def test_machines_and_their_models_pickle_and_keep_signalling(
    signal_recorder: SignalRecorder,
) -> None:
    machine = AuditedMachine(states=["a", "b"], initial="a", transitions=[["go", "a", "b"]])

    copy = pickle.loads(pickle.dumps(machine))
    copy.go()

    assert copy.state == "b"
    assert machine.state == "a"
    assert entries(signal_recorder, marks=False)[-1] == ("transition_completed", "go", "a", "b")


class TaggedState(State):
    def __init__(self, *args: t.Any, tags: list[str] | None = None, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.tags = tags or []


class TaggedMachine(SignalingMixin, Machine):
    state_cls = TaggedState


def test_mixin_composes_over_custom_state_classes(signal_recorder: SignalRecorder) -> None:
    machine = TaggedMachine(
        states=["a", {"name": "b", "tags": ["billing"]}],
        initial="a",
        transitions=[["go", "a", "b"]],
    )
    machine.go()

    assert machine.get_state("b").tags == ["billing"]  # type: ignore[attr-defined]
    assert [p["signal"] for p in payloads(signal_recorder)] == [
        "state_exited",
        "state_entered",
        "transition_completed",
    ]
    assert pickle.loads(pickle.dumps(machine)).state == "b"


def test_receiver_errors_option_must_be_raise_or_log() -> None:
    from statesignals import WorkflowDefinitionError

    with pytest.raises(WorkflowDefinitionError, match="receiver_errors"):
        SignalingCoreMachine(states=["a"], initial="a", receiver_errors="ignore")  # type: ignore[arg-type]

"""States may use tags and timeout, as the workflow-file schema allows (transitions' features)."""

from __future__ import annotations

import threading

import pytest

from statesignals import (
    SignalingHierarchicalMachine,
    SignalingMachine,
    WorkflowDefinitionError,
    load_workflow,
    state_entered,
)


class Ticket(SignalingMachine):
    states = [
        "open",
        {"name": "escalated", "tags": ["urgent", "visible"]},
        {"name": "waiting", "timeout": 0.05, "on_timeout": "give_up"},
        "closed",
    ]
    initial = "open"
    transitions = [
        ["escalate", "open", "escalated"],
        ["wait", "open", "waiting"],
        ["close", ["waiting", "escalated"], "closed"],
    ]

    def give_up(self) -> None:
        self.trigger("close")


def test_a_state_with_tags_compiles_and_keeps_them() -> None:
    escalated = Ticket.machine.get_state("escalated")
    assert escalated.tags == ["urgent", "visible"]  # type: ignore[attr-defined]
    assert escalated.is_urgent  # type: ignore[attr-defined]
    assert not Ticket.machine.get_state("open").is_urgent  # type: ignore[attr-defined]


def test_a_state_with_a_timeout_runs_its_on_timeout_callback() -> None:
    closed = threading.Event()

    def on_closed(sender: object, **payload: object) -> None:
        if payload["state"] == "closed":
            closed.set()

    state_entered.connect(on_closed, weak=False)
    ticket = Ticket()
    ticket.trigger("wait")
    assert closed.wait(10), "the timeout never fired"
    assert ticket.state == "closed"


def test_a_workflow_file_with_tags_and_timeouts_loads() -> None:
    class Rules(SignalingMachine):
        machine_cls = SignalingHierarchicalMachine

        def expire(self) -> None:
            pass

    loaded = load_workflow(
        {
            "initial": "a",
            "states": [
                "a",
                {"name": "b", "tags": ["hot"], "timeout": 30, "on_timeout": "expire"},
                {"name": "c", "initial": "x", "children": [{"name": "x", "tags": ["inner"]}]},
            ],
        },
        base=Rules,
    )
    assert loaded.machine.get_state("b").tags == ["hot"]  # type: ignore[attr-defined]
    assert loaded.machine.get_state("c_x").is_inner  # type: ignore[attr-defined]


def test_a_timeout_without_its_callback_is_a_definition_error() -> None:
    with pytest.raises(WorkflowDefinitionError, match="on_timeout"):

        class Broken(SignalingMachine):
            states = ["a", {"name": "b", "timeout": 1}]
            initial = "a"


def test_an_undefined_on_timeout_name_is_reported_at_class_creation() -> None:
    with pytest.raises(WorkflowDefinitionError, match="on_timeout 'missing' is neither"):

        class Broken(SignalingMachine):
            states = ["a", {"name": "b", "timeout": 1, "on_timeout": "missing"}]
            initial = "a"

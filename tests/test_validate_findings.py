"""``validate`` reports findings by severity and every undefined guard or callback at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from statesignals import SignalingMachine, WorkflowDefinitionError, WorkflowFileError, validate
from statesignals.cli import main

# The last state is simply not marked final: a trap state, worth a warning, not a failure.
UNMARKED_END = {
    "initial": "draft",
    "states": ["draft", "sent"],
    "transitions": [{"trigger": "send", "source": "draft", "dest": "sent"}],
}
UNREACHABLE = {
    "initial": "draft",
    "states": ["draft", {"name": "sent", "final": True}, {"name": "lost", "final": True}],
    "transitions": [{"trigger": "send", "source": "draft", "dest": "sent"}],
}


def flow_file(tmp_path: Path, data: object, name: str = "flow.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return str(path)


def test_a_dead_end_is_a_warning_printed_with_exit_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = flow_file(tmp_path, UNMARKED_END)
    assert main(["validate", path]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{path}: warning: state 'sent' is a dead end: no transition leaves it and it is not "
        "marked final",
        f"{path}: Flow is valid (2 states, 1 warning)",
    ]


def test_strict_makes_warnings_fail_with_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = flow_file(tmp_path, UNMARKED_END)
    assert main(["validate", "--strict", path]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{path}: warning: state 'sent' is a dead end: no transition leaves it and it is not "
        "marked final",
    ]


def test_an_unreachable_state_is_an_error_with_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = flow_file(tmp_path, UNREACHABLE)
    assert main(["validate", path]) == 1
    assert capsys.readouterr().out == (
        f"{path}: error: state 'lost' cannot be reached from the initial state 'draft'\n"
    )


def test_findings_carry_their_severity() -> None:
    class Draft(SignalingMachine):
        states = ["draft", "sent", "lost"]
        initial = "draft"
        transitions = [["send", "draft", "sent"]]

    assert [(finding.kind, finding.severity) for finding in validate(Draft)] == [
        ("dead_end", "warning"),
        ("unreachable", "error"),
        ("dead_end", "warning"),
    ]


MISSING = {
    "initial": "a",
    "states": ["a", {"name": "b", "final": True, "on_enter": "greet"}],
    "transitions": [
        {"trigger": "go", "source": "a", "dest": "b", "conditions": ["is_ready", "is_paid"]},
        {"trigger": "again", "source": "b", "dest": "b", "after": "count"},
    ],
    "options": {"after_state_change": "save"},
}


def test_validate_without_a_base_reports_every_missing_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = flow_file(tmp_path, MISSING)
    assert main(["validate", path]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(": ")[1] for line in lines] == [
        "states[1].on_enter",
        "transitions[0].conditions",
        "transitions[0].conditions",
        "transitions[1].after",
        "options.after_state_change",
    ]
    assert [line.split(": ")[2].split()[0] for line in lines] == [
        "'greet'",
        "'is_ready'",
        "'is_paid'",
        "'count'",
        "'save'",
    ]


def test_load_workflow_names_every_missing_callback_in_one_error() -> None:
    with pytest.raises(WorkflowFileError) as raised:
        from statesignals import load_workflow

        load_workflow(MISSING)
    assert len(raised.value.mistakes) == 5
    assert raised.value.location == ("states", 1, "on_enter")
    assert "transitions[1].after: 'count' is neither" in str(raised.value)


def test_a_class_names_every_missing_callback_in_one_error() -> None:
    with pytest.raises(WorkflowDefinitionError) as raised:

        class Order(SignalingMachine):
            states = ["a", "b"]
            initial = "a"
            transitions = [
                {"trigger": "go", "source": "a", "dest": "b", "conditions": "is_paid"},
                {"trigger": "back", "source": "b", "dest": "a", "before": "undo"},
            ]

    message = str(raised.value)
    assert ".Order: 2 guard and callback names are not defined: " in message
    assert "conditions 'is_paid' is neither" in message
    assert "before 'undo' is neither" in message

"""Class creation and loading raise WorkflowDefinitionError, never a raw Python exception,
and never build a structure the declaration did not ask for."""

from __future__ import annotations

import typing as t

import pytest

from statesignals import (
    SignalingGraphMachine,
    SignalingHierarchicalMachine,
    SignalingMachine,
    WorkflowDefinitionError,
    WorkflowFileError,
    load_workflow,
)


def declare(**namespace: t.Any) -> type[SignalingMachine]:
    return type("Declared", (SignalingMachine,), namespace)


@pytest.mark.parametrize(
    ("namespace", "message"),
    [
        ({"states": ["a", "b"], "initial": ("a",)}, r"initial \('a',\) must name one state"),
        (
            {"states": ["a", "b"], "initial": ("a",), "machine_cls": SignalingGraphMachine},
            r"initial \('a',\) must name one state",
        ),
        (
            {"machine_cls": SignalingHierarchicalMachine, "states": ["a", "b"], "initial": []},
            r"initial \[\] must name one state",
        ),
        (
            {
                "machine_cls": SignalingHierarchicalMachine,
                "states": ["a", {"name": "c", "children": ["x", "y"]}],
                "initial": ["a", "c"],
            },
            r"initial \['a', 'c'\] must name one state",
        ),
        (
            {
                "machine_cls": SignalingHierarchicalMachine,
                "states": ["__", {"name": "_a"}],
                "initial": "__",
            },
            "state name '__' cannot start or end with '_' or hold '__'",
        ),
        (
            {
                "machine_cls": SignalingHierarchicalMachine,
                "states": ["b", {"name": "_a"}],
                "initial": "b",
            },
            r"states\[1\]: state name '_a' cannot start",
        ),
        (
            {
                "states": ["a", "b"],
                "initial": "a",
                "transitions": [{"trigger": "go", "source": "a", "dest": "b", "after": "..x"}],
            },
            r"after '\.\.x' is neither an attribute of Declared nor an importable",
        ),
    ],
)
def test_bad_declarations_raise_a_workflow_definition_error(
    namespace: dict[str, t.Any], message: str
) -> None:
    with pytest.raises(WorkflowDefinitionError, match=message) as raised:
        declare(**namespace)
    assert type(raised.value) is WorkflowDefinitionError


def test_a_trailing_separator_does_not_declare_a_parent_state() -> None:
    # "a_" used to create an undeclared state "a" that transitions could target.
    with pytest.raises(WorkflowDefinitionError, match="state name 'a_' cannot start or end"):
        declare(
            machine_cls=SignalingHierarchicalMachine,
            states=["a_", "b"],
            initial="b",
            transitions=[["go", "b", "a"]],
        )


def test_a_file_with_a_bad_nested_name_points_at_it() -> None:
    class Nested(SignalingMachine):
        machine_cls = SignalingHierarchicalMachine

    with pytest.raises(WorkflowFileError, match=r"<dict>: states\[0\]\.children\[1\]: state name"):
        load_workflow(
            {"initial": "c", "states": [{"name": "c", "initial": "x", "children": ["x", "y_"]}]},
            base=Nested,
        )


def test_nested_states_on_a_flat_machine_say_which_machine_they_need() -> None:
    with pytest.raises(WorkflowDefinitionError) as raised:
        declare(states=["a", {"name": "c", "initial": "x", "children": ["x"]}], initial="a")
    assert str(raised.value) == (
        "Declared: state 'c': children, initial declare nested states, which need a nested "
        "machine (machine_cls = SignalingHierarchicalMachine)"
    )

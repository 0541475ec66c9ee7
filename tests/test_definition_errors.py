"""Mistakes in a declared workflow fail when the class is created, naming class and entry."""

from __future__ import annotations

import typing as t

import pytest

from statesignals import SignalingMachine, StateSignalsError, WorkflowDefinitionError


def define(**attributes: t.Any) -> type[SignalingMachine]:
    namespace = {"states": ["draft", "published"], "initial": "draft", **attributes}
    return type("Article", (SignalingMachine,), namespace)


def assert_rejected(match: str, **attributes: t.Any) -> WorkflowDefinitionError:
    with pytest.raises(WorkflowDefinitionError, match=match) as raised:
        define(**attributes)
    assert str(raised.value).startswith("Article: ")
    return raised.value


def test_unknown_destination_state_is_named() -> None:
    assert_rejected(
        r"transitions\[0\] .*dest 'publishd' is not a state",
        transitions=[{"trigger": "publish", "source": "draft", "dest": "publishd"}],
    )


def test_unknown_source_state_in_a_list_is_named() -> None:
    assert_rejected(
        r"transitions\[1\] .*source 'archived' is not a state",
        transitions=[
            ["publish", "draft", "published"],
            ["unpublish", ["published", "archived"], "draft"],
        ],
    )


def test_duplicate_state_is_rejected() -> None:
    assert_rejected(
        r"states\[2\]: state 'draft' is declared twice", states=["draft", "published", "draft"]
    )


def test_initial_that_is_not_a_state_is_rejected() -> None:
    assert_rejected(r"initial: initial state 'new' is not a state", initial="new")


def test_missing_initial_is_rejected() -> None:
    assert_rejected("declares no initial state", initial=None)


def test_condition_the_class_does_not_define_is_named() -> None:
    assert_rejected(
        r"transitions\[0\] .*conditions 'is_reviewed' is neither an attribute of Article",
        transitions=[
            {
                "trigger": "publish",
                "source": "draft",
                "dest": "published",
                "conditions": "is_reviewed",
            }
        ],
    )


def test_callbacks_of_states_and_the_machine_are_checked_too() -> None:
    assert_rejected(
        r"state 'published': on_enter 'notify' is neither",
        states=["draft", {"name": "published", "on_enter": "notify"}],
    )
    assert_rejected(r"machine option: after_state_change 'audit'", after_state_change="audit")


def test_annotated_attributes_and_importable_paths_count_as_defined() -> None:
    namespace = {
        "states": ["draft", "published"],
        "initial": "draft",
        "transitions": [
            {
                "trigger": "publish",
                "source": "draft",
                "dest": "published",
                "conditions": "reviewed",
                "after": "json.dumps",
            }
        ],
        "__annotations__": {"reviewed": "bool"},
    }

    article_class = t.cast(type[SignalingMachine], type("Article", (SignalingMachine,), namespace))

    assert "publish" in article_class.machine.events


def test_trigger_that_clashes_with_an_attribute_is_rejected() -> None:
    assert_rejected(
        r"trigger 'publish' clashes with the attribute Article.publish",
        transitions=[["publish", "draft", "published"]],
        publish=lambda self: None,
    )


def test_trigger_named_like_the_state_attribute_is_rejected() -> None:
    assert_rejected(
        "trigger 'state' is the model attribute", transitions=[["state", "draft", "published"]]
    )


def test_generated_is_state_method_that_clashes_is_rejected() -> None:
    assert_rejected("generated method 'is_published' clashes", is_published=lambda self: True)


def test_unknown_transition_key_is_rejected() -> None:
    assert_rejected(
        r"unknown key\(s\) 'condition'",
        transitions=[
            {"trigger": "publish", "source": "draft", "dest": "published", "condition": "x"}
        ],
    )


def test_transition_without_dest_is_rejected() -> None:
    assert_rejected("'dest' is missing", transitions=[{"trigger": "publish", "source": "draft"}])


def test_trigger_that_is_not_a_method_name_is_rejected() -> None:
    assert_rejected(
        "trigger 'go live' is not a valid method name",
        transitions=[["go live", "draft", "published"]],
    )


def test_states_of_the_wrong_type_are_rejected() -> None:
    assert_rejected(r"states\[1\] 42 must be a name", states=["draft", 42])
    assert_rejected("has no 'name'", states=["draft", {"on_enter": "x"}])


def test_transitions_without_states_are_rejected() -> None:
    with pytest.raises(WorkflowDefinitionError, match="no states"):
        type("Empty", (SignalingMachine,), {"transitions": [["go", "a", "b"]]})


def test_errors_are_statesignals_errors_and_value_errors() -> None:
    error = assert_rejected("is not a state", initial="new")

    assert isinstance(error, StateSignalsError)
    assert isinstance(error, ValueError)


def test_machine_cls_must_be_a_signaling_machine() -> None:
    from transitions import Machine

    assert_rejected("machine_cls must be a transitions Machine class", machine_cls=Machine)


def test_plain_class_attribute_holding_the_state_is_rejected() -> None:
    assert_rejected("the class attribute 'state' holds the state", state="draft")


def test_an_unknown_receiver_error_policy_names_the_users_class() -> None:
    assert_rejected(
        r"receiver_errors must be 'raise' or 'log', not 'ignore'", receiver_errors="ignore"
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("after", 42), ("conditions", 42), ("before", object()), ("unless", [None])],
)
def test_a_transition_callback_that_is_neither_a_name_nor_callable_is_rejected(
    field: str, value: t.Any
) -> None:
    error = assert_rejected(
        rf"transitions\[0\] .*{field} .*is not a callable or the name of one",
        transitions=[{"trigger": "publish", "source": "draft", "dest": "published", field: value}],
    )
    assert error.location == ("transitions", 0, field)


@pytest.mark.parametrize("option", ["before_state_change", "after_state_change", "on_exception"])
def test_a_machine_callback_option_that_is_not_callable_is_rejected(option: str) -> None:
    assert_rejected(rf"{option} .*is not a callable or the name of one", **{option: object()})


def test_a_state_callback_that_is_not_callable_is_rejected() -> None:
    assert_rejected(
        r"state 'published'.*on_enter .*is not a callable or the name of one",
        states=["draft", {"name": "published", "on_enter": 42}],
    )


@pytest.mark.parametrize(
    "attribute", ["machine", "workflow", "trigger", "__dict__", "__class__", "may_trigger"]
)
def test_a_model_attribute_that_the_model_needs_for_itself_is_rejected(attribute: str) -> None:
    assert_rejected(
        rf"model_attribute {attribute!r} ",
        model_attribute=attribute,
        transitions=[["publish", "draft", "published"]],
    )

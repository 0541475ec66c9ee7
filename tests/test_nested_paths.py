"""shortest_paths and transition_paths cover nested workflows: every state, every transition."""

from __future__ import annotations

import pytest

from statesignals import SignalingHierarchicalMachine, SignalingMachine
from statesignals.testing import WorkflowPath, shortest_paths, transition_paths


class Document(SignalingMachine):
    machine_cls = SignalingHierarchicalMachine
    states = [
        "draft",
        {
            "name": "review",
            "initial": "reading",
            "children": ["reading", "commenting"],
            "transitions": [
                ["comment", "reading", "commenting"],
                ["done", "commenting", "reading"],
            ],
        },
        "published",
        {
            "name": "print",
            "parallel": [
                {"name": "text", "initial": "setting", "children": ["setting", "set"]},
                {"name": "cover", "initial": "design", "children": ["design", "approved"]},
            ],
        },
    ]
    initial = "draft"
    transitions = [
        ["submit", "draft", "review"],
        # Reached only from an inner state of a compound state.
        ["publish", "review_reading", "published"],
        # Leaves the compound state from whichever state inside it the model is in.
        ["withdraw", "review", "draft"],
        ["to_press", "published", "print"],
        ["typeset", "print_text_setting", "print_text_set"],
        {
            "trigger": "approve_cover",
            "source": "print_cover_design",
            "dest": "print_cover_approved",
            "conditions": "is_nice",
        },
    ]
    auto_transitions = False

    def is_nice(self) -> bool:
        return True


def test_every_state_a_nested_model_can_be_in_has_a_shortest_path() -> None:
    paths = {path.target: path.triggers for path in shortest_paths(Document)}
    assert paths == {
        "draft": (),
        "review_reading": ("submit",),
        "review_commenting": ("submit", "comment"),
        "published": ("submit", "publish"),
        "print_text_setting, print_cover_design": ("submit", "publish", "to_press"),
        "print_text_set, print_cover_design": ("submit", "publish", "to_press", "typeset"),
        "print_text_setting, print_cover_approved": (
            "submit",
            "publish",
            "to_press",
            "approve_cover",
        ),
        "print_text_set, print_cover_approved": (
            "submit",
            "publish",
            "to_press",
            "typeset",
            "approve_cover",
        ),
    }


def test_every_declared_transition_nested_ones_included_has_a_path() -> None:
    names = [str(path) for path in transition_paths(Document)]
    assert names == [
        "submit: draft -> review_reading",
        "publish: review_reading -> published",
        "withdraw: review_reading -> draft",
        "comment: review_reading -> review_commenting",
        "done: review_commenting -> review_reading",
        "to_press: published -> print_text_setting, print_cover_design",
        "typeset: print_text_setting, print_cover_design -> print_text_set, print_cover_design",
        "approve_cover: print_text_setting, print_cover_design -> print_text_setting, "
        "print_cover_approved",
    ]


@pytest.mark.parametrize("path", [*shortest_paths(Document), *transition_paths(Document)], ids=str)
def test_each_nested_path_runs_on_a_real_model(path: WorkflowPath) -> None:
    document = path.run(Document())
    state = document.state
    assert path.target == (", ".join(state) if isinstance(state, list) else state)

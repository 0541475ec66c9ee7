"""Paths through a workflow: shortest_paths, transition_paths and WorkflowPath.run."""

from __future__ import annotations

import pytest
from transitions import Machine

from statesignals import SignalingMachine, Trigger, WorkflowLookupError
from statesignals.testing import SignalRecorder, Step, shortest_paths, transition_paths


class Article(SignalingMachine):
    states = ["draft", "review", "published", "archived", "lost"]
    initial = "draft"
    transitions = [
        {"trigger": "submit", "source": "draft", "dest": "review"},
        {
            "trigger": "approve",
            "source": "review",
            "dest": "published",
            "conditions": "is_proofread",
        },
        {"trigger": "reject", "source": "review", "dest": "draft", "unless": "is_urgent"},
        {"trigger": "archive", "source": ["draft", "published"], "dest": "archived"},
        {"trigger": "touch", "source": "published", "dest": None},
    ]

    submit: Trigger

    def __init__(self, proofread: bool = True) -> None:
        self.proofread = proofread

    def __repr__(self) -> str:
        return "Article()"

    def is_proofread(self) -> bool:
        return self.proofread

    def is_urgent(self) -> bool:
        return False


def test_each_reachable_state_gets_its_shortest_trigger_sequence():
    paths = {path.target: path.triggers for path in shortest_paths(Article)}

    assert paths == {
        "draft": (),
        "review": ("submit",),
        "published": ("submit", "approve"),
        "archived": ("archive",),
    }


def test_state_paths_are_named_after_their_state_in_declaration_order():
    assert [str(path) for path in shortest_paths(Article)] == [
        "draft",
        "review",
        "published",
        "archived",
    ]


def test_every_transition_is_taken_by_one_path_ending_with_it():
    paths = {str(path): path.triggers for path in transition_paths(Article)}

    assert paths == {
        "submit: draft -> review": ("submit",),
        "archive: draft -> archived": ("archive",),
        "approve: review -> published": ("submit", "approve"),
        "reject: review -> draft": ("submit", "reject"),
        "archive: published -> archived": ("submit", "approve", "archive"),
        "touch: published -> published": ("submit", "approve", "touch"),
    }


def test_steps_name_the_guards_they_need():
    [path] = [path for path in transition_paths(Article) if str(path).startswith("reject")]

    assert path.steps == (
        Step("submit", "draft", "review"),
        Step("reject", "review", "draft", ("not is_urgent",)),
    )
    assert str(path.steps[1]) == "reject: review -> draft [not is_urgent]"


def test_internal_transitions_stay_in_their_state():
    [touch] = [path for path in transition_paths(Article) if path.triggers[-1] == "touch"]

    assert touch.steps[-1].internal
    assert touch.target == "published"


def test_auto_transitions_are_left_out_unless_asked_for():
    with_auto = {path.target: path.triggers for path in shortest_paths(Article, include_auto=True)}

    assert with_auto["lost"] == ("to_lost",)
    assert "lost" not in {path.target for path in shortest_paths(Article)}


def test_paths_come_from_a_plain_transitions_machine_too():
    machine = Machine(
        states=["a", "b"], transitions=[["go", "a", "b"]], initial="a", auto_transitions=False
    )

    assert [path.triggers for path in shortest_paths(machine)] == [(), ("go",)]


def test_a_class_without_a_workflow_is_refused_by_name():
    class Plain:
        pass

    with pytest.raises(WorkflowLookupError, match="Plain"):
        shortest_paths(Plain)


@pytest.mark.parametrize("path", transition_paths(Article), ids=str)
def test_running_a_path_takes_the_model_where_it_says(path):
    article = path.run(Article())

    assert article.state == path.target


def test_arrange_runs_before_each_step_and_trigger_args_are_passed():
    seen: list[str] = []

    class Payment(SignalingMachine):
        states = ["due", "paid"]
        initial = "due"
        transitions = [{"trigger": "pay", "source": "due", "dest": "paid", "conditions": "covers"}]

        def covers(self, amount: int) -> bool:
            return amount >= 10

    [_, path] = shortest_paths(Payment)
    payment = path.run(
        Payment(), args={"pay": (10,)}, arrange=lambda model, step: seen.append(str(step))
    )

    assert payment.state == "paid"
    assert seen == ["pay: due -> paid [covers]"]


def test_a_refused_step_fails_naming_the_step_its_guards_and_the_signals():
    [path] = [path for path in shortest_paths(Article) if path.target == "published"]

    with SignalRecorder(), pytest.raises(AssertionError) as failure:
        path.run(Article(proofread=False))

    assert str(failure.value) == (
        "path 'published', step 2 (approve: review -> published [is_proofread]): "
        "the model ended in 'review'; the step needs is_proofread\n"
        "recorded signals:\n"
        "  1. Article(): state_exited draft\n"
        "  2. Article(): state_entered review\n"
        "  3. Article(): transition_completed submit: draft -> review\n"
        "  4. Article(): transition_denied approve: conditions [is_proofread]"
    )


def test_a_path_refuses_a_model_that_is_not_where_the_path_starts():
    [path] = [path for path in shortest_paths(Article) if path.target == "review"]
    article = Article()
    article.submit()

    with pytest.raises(AssertionError, match="the model is in 'review', not 'draft'"):
        path.run(article)

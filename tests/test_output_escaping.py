"""Names come from files other people write: DOT, Mermaid and the terminal show them as text."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from statesignals import diagram
from statesignals.cli import main
from statesignals.definition import WorkflowDefinition

SVG = "{http://www.w3.org/2000/svg}"
INJECTED_GUARD = "ok\n    a --> [*]: injected"


def odd_workflow(*names: str, guard: str = "ok") -> WorkflowDefinition:
    return WorkflowDefinition(
        states=("a", *names),
        transitions=tuple(
            {"trigger": "go", "source": "a", "dest": name, "conditions": guard} for name in names
        ),
        initial="a",
    )


def test_a_guard_cannot_add_a_line_to_mermaid() -> None:
    text = diagram(odd_workflow("b", guard=INJECTED_GUARD), name="Odd").mermaid()
    assert "    a --> [*]: injected" not in text.splitlines()
    assert "    a --> b: go [ok#10;    a --> [*]#59;" not in text  # ":" is harmless, ";" is not
    assert "a --> b: go [ok#10;    a --> [*]: injected]" in text


def test_mermaid_escapes_entity_marks_and_statement_ends() -> None:
    text = diagram(odd_workflow("b", guard="x; y #quot;"), name="Odd").mermaid()
    assert "a --> b: go [x#59; y #35;quot#59;]" in text


def test_an_html_looking_state_name_is_text_in_dot_and_renders() -> None:
    drawn = diagram(odd_workflow("<b>bold</b>", "back\\"), name="Odd")
    assert 'label="<b>bold</b>"' in drawn.source
    texts = {
        element.text for element in ElementTree.fromstring(drawn.pipe("svg")).iter(f"{SVG}text")
    }
    assert {"<b>bold</b>", "back\\"} <= texts


def test_control_characters_never_reach_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ansi.json"
    path.write_text(
        json.dumps(
            {
                "initial": "a",
                "states": ["a", "\x1b[2Jclear", "nul\x00"],
                "transitions": [
                    {
                        "trigger": "go",
                        "source": "a",
                        "dest": "\x1b[2Jclear",
                        "conditions": "o\x07k",
                    },
                    {"trigger": "stop", "source": "a", "dest": "nul\x00"},
                ],
            }
        )
    )
    for command in (["describe"], ["diagram"], ["diagram", "--format", "mermaid"], ["validate"]):
        main([command[0], str(path), *command[1:]])
        captured = capsys.readouterr()
        shown = captured.out + captured.err
        assert not {"\x1b", "\x00", "\x07"} & set(shown), (command, shown)
        assert "\\x07" in shown or "clear" in shown

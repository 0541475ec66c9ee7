"""What the workflow adds to a class is visible to mypy --strict through annotations."""

from __future__ import annotations

from pathlib import Path

import pytest
from mypy import api

TYPED_MODEL = """
from statesignals import SignalingMachine, StateCheck, Trigger, TriggerCheck


class Ticket(SignalingMachine):
    states = ["new", "triaged"]
    initial = "new"
    transitions = [["triage", "new", "triaged"]]

    triage: Trigger
    may_triage: TriggerCheck
    is_triaged: StateCheck


ticket = Ticket()
ready: bool = ticket.may_triage() and ticket.triage()
done: bool = ticket.is_triaged() or ticket.is_triaged(allow_substates=True)
"""


def test_annotated_triggers_and_checks_pass_mypy_strict(
    tmp_path: Path, pytestconfig: pytest.Config
) -> None:
    module = tmp_path / "typed_ticket.py"
    module.write_text(TYPED_MODEL)
    # mypy's cache kept between runs (when pytest keeps one) saves most of its time.
    kept = getattr(pytestconfig, "cache", None)
    cache = kept.mkdir("mypy") if kept is not None else tmp_path / "mypy"
    report, errors, status = api.run(["--strict", "--cache-dir", str(cache), str(module)])
    assert status == 0, report + errors

    misspelt = tmp_path / "misspelt.py"
    misspelt.write_text(TYPED_MODEL + "wrong: bool = ticket.is_triaged(substates=True)\n")
    report, errors, status = api.run(["--strict", "--cache-dir", str(cache), str(misspelt)])
    assert status == 1 and 'Unexpected keyword argument "substates"' in report

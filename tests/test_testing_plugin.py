"""statesignals.testing as an installed pytest plugin, seen from a user's test run."""

from __future__ import annotations

from pathlib import Path

import pytest

ISOLATING_CONFTEST = Path(__file__).with_name("isolating_conftest.py")

WORKFLOW = """
from statesignals import SignalingMachine

class Door(SignalingMachine):
    states = ["closed", "open", "locked"]
    initial = "closed"
    auto_transitions = False
    transitions = [
        {"trigger": "open", "source": "closed", "dest": "open", "unless": "is_stuck"},
        {"trigger": "close", "source": "open", "dest": "closed"},
        {"trigger": "lock", "source": "closed", "dest": "locked"},
    ]
    stuck = False

    def __repr__(self):
        return "Door()"

    def is_stuck(self):
        return self.stuck
"""


@pytest.fixture
def user_project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(door=WORKFLOW)
    return pytester


def test_the_fixture_is_available_without_any_import_or_conftest(user_project):
    user_project.makepyfile(
        test_door="""
        from door import Door
        from statesignals.testing import assert_transitioned

        def test_opening(signal_recorder):
            door = Door()
            door.open()
            assert_transitioned(door, "closed", "open", via="open")
            assert len(signal_recorder.signals) == 3
        """
    )

    result = user_project.runpytest()

    result.assert_outcomes(passed=1)


def test_a_failing_assertion_shows_the_recorded_signals(user_project):
    user_project.makepyfile(
        test_door="""
        from door import Door
        from statesignals.testing import assert_denied

        def test_stuck_door_cannot_open(signal_recorder):
            door = Door()
            door.stuck = True
            door.open()
            assert_denied(door, "open", reason="conditions", failed=["is_stuck"])
        """
    )

    result = user_project.runpytest()

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            # fnmatch patterns: ? stands for each square bracket.
            "*AssertionError: Door() was not denied 'open' "
            "(reason 'conditions', failed conditions ?'is_stuck'?)",
            "*recorded signals:",
            "*1. Door(): transition_denied open: conditions ?not is_stuck?",
        ]
    )


def test_one_test_parametrized_over_every_path(user_project):
    user_project.makepyfile(
        test_door="""
        import pytest
        from door import Door
        from statesignals.testing import transition_paths

        @pytest.mark.parametrize("path", transition_paths(Door), ids=str)
        def test_path(path, signal_recorder):
            assert path.run(Door()).state == path.target
        """
    )

    result = user_project.runpytest("-v")

    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "*test_path?open: closed -> open? PASSED*",
            "*test_path?lock: closed -> locked? PASSED*",
            "*test_path?close: open -> closed? PASSED*",
        ]
    )


def test_the_recorder_is_disconnected_after_each_test(user_project):
    user_project.makepyfile(
        test_door="""
        from statesignals import signals

        def counts():
            return {name: len(signal.receivers) for name, signal in signals.items()}

        BEFORE = counts()

        def test_recording(signal_recorder):
            assert counts() == {name: count + 1 for name, count in BEFORE.items()}

        def test_after_it():
            assert counts() == BEFORE
        """
    )

    result = user_project.runpytest()

    result.assert_outcomes(passed=2)


def test_isolated_signals_disconnects_what_a_test_connected_before_the_next_test(user_project):
    user_project.makepyfile(
        test_door="""
        from door import Door
        from statesignals import signals, transition_completed

        heard = []

        def test_connecting(isolated_signals):
            transition_completed.connect(lambda door, **payload: heard.append("global"), weak=False)
            Door.on_transition("open")(lambda door, **payload: heard.append("per class"))
            Door().open()
            assert heard == ["global", "per class"]

        def test_after_it():
            heard.clear()
            Door().open()
            assert heard == []
            assert not any(signal.receivers for signal in signals.values())
        """
    )

    result = user_project.runpytest("-p", "no:randomly")

    result.assert_outcomes(passed=2)


def test_an_autouse_conftest_fixture_isolates_every_test(user_project):
    user_project.makeconftest(ISOLATING_CONFTEST.read_text(encoding="utf-8"))
    user_project.makepyfile(
        test_door="""
        from door import Door

        heard = []

        def test_connecting():
            Door.on_enter("open")(lambda door, **payload: heard.append("entered"))
            Door().open()
            assert heard == ["entered"]

        def test_after_it():
            heard.clear()
            Door().open()
            assert heard == []
        """
    )

    result = user_project.runpytest("-p", "no:randomly")

    result.assert_outcomes(passed=2)

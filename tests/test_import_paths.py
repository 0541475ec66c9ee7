"""Where public names are imported from: the old 0.1 paths, and testing without pytest."""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap
import warnings

import pytest

import statesignals

# Module of 0.1 -> the public names it held that must still import from there.
OLD_PATHS = {
    "statesignals.machine": ["SignalingMachine", "Trigger", "AsyncTrigger"],
    "statesignals.graph": ["WorkflowGraph", "Finding", "Edge", "StateNode", "validate"],
    "statesignals.diagrams": [
        "Diagram",
        "LastTransition",
        "diagram",
        "last_transition",
        "remember_last_transitions",
        "render_dot",
        "renderer",
        "INSTALL_HINT",
    ],
    "statesignals.testing": ["SignalRecorder", "assert_transitioned", "signal_recorder"],
    "statesignals.mixin": [
        "SignalingMixin",
        "SignalingCoreMachine",
        "SignalingState",
        "SignalingEvent",
        "PendingReceiverErrors",
        "state_name",
        "condition_label",
        "signaling_variants",
    ],
    "statesignals.receivers": [
        "WorkflowSignal",
        "SignalNamespace",
        "class_signal",
        "class_signals",
        "dispatch_table",
        "class_listens",
        "listened",
    ],
    "statesignals.nesting": ["SignalingNestedState", "SignalingNestedTransition"],
    "statesignals.asynchronous": ["SignalingAsyncState", "SignalingAsyncEvent"],
    "statesignals.locking": ["SignalingLockedEvent"],
    "statesignals.graph_machines": ["SignalingGraphTransition", "GraphStandIn"],
}


@pytest.mark.parametrize("module_name", sorted(OLD_PATHS))
def test_public_names_still_import_from_their_old_modules(module_name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        module = importlib.import_module(module_name)
    for name in OLD_PATHS[module_name]:
        assert getattr(module, name) is not None, f"{module_name}.{name}"


def test_an_old_module_name_warns_that_it_moved() -> None:
    sys.modules.pop("statesignals.graph", None)
    with pytest.warns(DeprecationWarning, match=r"statesignals\.analysis"):
        importlib.import_module("statesignals.graph")


def test_old_and_new_paths_give_the_same_objects() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        old_machine = importlib.import_module("statesignals.machine")
    assert old_machine.SignalingMachine is statesignals.SignalingMachine


WITHOUT_PYTEST = """
import sys
sys.modules["pytest"] = None  # import pytest now raises ImportError

from statesignals import SignalingMachine, Trigger
from statesignals.testing import SignalRecorder, assert_transitioned, disconnect_all

class Door(SignalingMachine):
    states = ["closed", "open"]
    initial = "closed"
    transitions = [["open", "closed", "open"]]
    open: Trigger

seen = []
Door.on_transition("open")(lambda door, **payload: seen.append(payload["dest"]))
with SignalRecorder():
    door = Door()
    door.open()
    assert_transitioned(door, "closed", "open", via="open")
assert seen == ["open"]
disconnect_all()
Door().open()
assert seen == ["open"], seen
assert "pytest" not in {name for name, module in sys.modules.items() if module is not None}
print("ok")
"""


def test_the_testing_tools_work_where_pytest_cannot_be_imported() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(WITHOUT_PYTEST)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "ok"

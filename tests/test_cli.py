"""The ``statesignals`` command: diagram, validate, describe; one-line errors."""

from __future__ import annotations

import collections.abc as c
import struct
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
import yaml

from examples.orders.models import Order
from statesignals.cli import main

ROOT = Path(__file__).parent.parent
ORDER_FILE = ROOT / "statesignals" / "examples" / "order.yaml"
TICKET_FILE = ROOT / "statesignals" / "examples" / "support_ticket.json"
ORDER_RULES = "statesignals.examples:OrderRules"
COMMAND = Path(sys.executable).parent / "statesignals"

# A module the tests import by reference, as users name their own models.
MODELS = """
from statesignals import SignalingMachine


class Order(SignalingMachine):
    states = ["pending", "paid", {"name": "done", "final": True}, "limbo"]
    initial = "pending"
    transitions = [
        {"trigger": "pay", "source": "pending", "dest": "paid", "conditions": "is_funded"},
        {"trigger": "finish", "source": "paid", "dest": "done", "unless": "is_blocked"},
    ]

    def is_funded(self):
        return True

    def is_blocked(self):
        return False


class Clean(SignalingMachine):
    states = ["a", {"name": "b", "final": True}]
    initial = "a"
    transitions = [["go", "a", "b"]]


NOT_A_MODEL = 3
"""


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> c.Iterator[str]:
    """A module ``cli_models`` in the current directory, as a user's project has."""
    (tmp_path / "cli_models.py").write_text(MODELS)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "cli_models"
    sys.modules.pop("cli_models", None)


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(COMMAND), *args], capture_output=True, text=True, cwd=cwd)


def test_diagram_of_a_class_renders_svg_and_png_files(models: str, tmp_path: Path) -> None:
    assert main(["diagram", f"{models}:Order", "-o", str(tmp_path / "order.svg")]) == 0
    root = ElementTree.parse(tmp_path / "order.svg").getroot()
    texts = {element.text for element in root.iter("{http://www.w3.org/2000/svg}text")}
    assert {"pending", "paid", "done", "limbo", "pay [is_funded]", "finish [!is_blocked]"} <= texts
    assert main(["diagram", f"{models}:Order", "-o", str(tmp_path / "order.png")]) == 0
    data = (tmp_path / "order.png").read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", data[16:24])
    assert width > 100
    assert height > 30


def test_diagram_prints_dot_by_default_and_mermaid_or_svg_on_request(
    models: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["diagram", f"{models}:Order"]) == 0
    assert capsys.readouterr().out.startswith("digraph Order {")
    assert main(["diagram", f"{models}:Order", "--format", "mermaid", "--direction", "TB"]) == 0
    mermaid = capsys.readouterr().out
    assert mermaid.startswith("stateDiagram-v2\n    direction TB\n")
    assert main(["diagram", f"{models}:Order", "-f", "svg", "--title", "Orders"]) == 0
    assert "<svg" in capsys.readouterr().out


def test_diagram_highlights_a_state_and_the_transition_to_it(
    models: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["diagram", f"{models}:Order", "--state", "paid", "--transition", "pay"]) == 0
    source = capsys.readouterr().out
    assert 'paid [label=paid fillcolor="#ffe08a"' in source
    assert 'pending -> paid [label="pay [is_funded]" color="#c0392b"' in source


def test_diagram_of_a_workflow_file_needs_no_guard_methods(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["diagram", str(ORDER_FILE), "-f", "mermaid"]) == 0
    assert "    paid --> shipped: ship [!is_on_hold]" in capsys.readouterr().out
    assert main(["diagram", str(TICKET_FILE), "-o", str(tmp_path / "ticket.svg")]) == 0
    assert "waiting_on_customer" in (tmp_path / "ticket.svg").read_text()


def test_png_to_stdout_is_refused(models: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagram", f"{models}:Order", "-f", "png"]) == 2
    assert capsys.readouterr().err == (
        "statesignals: error: png is binary: write it to a file with -o FILE.png\n"
    )


def test_validate_reports_unreachable_states_and_dead_ends_with_exit_1(
    models: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", f"{models}:Order"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{models}:Order: error: state 'limbo' cannot be reached from the initial state 'pending'",
        f"{models}:Order: warning: state 'limbo' is a dead end: no transition leaves it and it "
        "is not marked final",
    ]
    assert main(["validate", f"{models}:Clean"]) == 0
    assert capsys.readouterr().out == f"{models}:Clean: Clean is valid (2 states)\n"


def test_validate_a_file_with_the_base_class_its_guards_come_from(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["validate", str(ORDER_FILE), "--base", ORDER_RULES]) == 0
    assert capsys.readouterr().out == f"{ORDER_FILE}: Order is valid (5 states)\n"
    assert main(["validate", str(ORDER_FILE)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{ORDER_FILE}: {path}: {name!r} is neither an attribute of Order nor an importable "
        "'module.function' path"
        for path, name in [
            ("transitions[0].conditions", "is_funded"),
            ("transitions[1].after", "send_reminder"),
            ("transitions[2].unless", "is_on_hold"),
        ]
    ]


def test_validate_reports_a_misspelt_state_at_its_path_in_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = yaml.safe_load(ORDER_FILE.read_text())
    data["transitions"][3]["dest"] = "shiped"
    broken = tmp_path / "order.yaml"
    broken.write_text(yaml.safe_dump(data))
    assert main(["validate", str(broken), "--base", ORDER_RULES]) == 1
    assert capsys.readouterr().out == f"{broken}: transitions[3].dest: 'shiped' is not a state\n"


def test_describe_prints_a_table_of_triggers_sources_destinations_and_guards(
    models: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["describe", str(ORDER_FILE)]) == 0
    assert capsys.readouterr().out == (
        "Order: initial state 'pending'; final: delivered, cancelled; "
        "plus to_<state> auto transitions\n"
        "trigger  source         dest        guards\n"
        "-------  -------------  ----------  -----------\n"
        "pay      pending        paid        is_funded\n"
        "remind   pending        (internal)\n"
        "ship     paid           shipped     !is_on_hold\n"
        "deliver  shipped        delivered\n"
        "cancel   pending, paid  cancelled\n"
    )
    assert main(["describe", f"{models}:Order"]) == 0
    assert "finish   paid     done  !is_blocked" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["diagram", "nowhere:Order"], "cannot import 'nowhere': No module named 'nowhere'"),
        (["diagram", "cli_models:Nope"], "module 'cli_models' has no attribute 'Nope'"),
        (
            ["describe", "cli_models:NOT_A_MODEL"],
            "cli_models:NOT_A_MODEL is not a SignalingMachine subclass",
        ),
        (["describe", "Order"], "'Order' is neither a workflow file nor 'module:Class'"),
        (["describe", "missing.yaml"], "missing.yaml: cannot read: No such file or directory"),
        (
            ["diagram", "cli_models:Order", "--state", "paied"],
            "Order has no state 'paied'; known: pending, paid, done, limbo",
        ),
        (
            ["diagram", "cli_models:Order", "-o", "order.pdf"],
            "order.pdf: cannot tell the diagram format from the suffix '.pdf'",
        ),
        (["validate", "examples.nowhere:X"], "cannot import 'examples.nowhere'"),
        (
            ["validate", "x.yaml", "--base", "cli_models:NOT_A_MODEL"],
            "--base cli_models:NOT_A_MODEL is not a SignalingMachine subclass",
        ),
    ],
)
def test_bad_targets_exit_2_with_one_readable_line(
    models: str, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"statesignals: error: {message}")
    assert captured.err.count("\n") == 1


def test_a_module_that_raises_on_import_is_one_line_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "exploding_models.py").write_text("raise RuntimeError('no database')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["describe", "exploding_models:Order"]) == 2
    assert capsys.readouterr().err == (
        "statesignals: error: importing 'exploding_models' raised RuntimeError: no database\n"
    )


def test_traceback_flag_shows_the_full_error(models: str) -> None:
    with pytest.raises(Exception, match="has no attribute 'Nope'"):
        main(["--traceback", "diagram", f"{models}:Nope"])


@pytest.mark.parametrize("command", [[], ["diagram"], ["validate"], ["describe"]])
def test_every_command_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*command, "--help"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("usage: statesignals")


def test_the_console_script_renders_the_orders_example_from_the_project_directory(
    tmp_path: Path,
) -> None:
    target = tmp_path / "order.svg"
    completed = run("diagram", "examples.orders.models:Order", "-o", str(target))
    assert (completed.returncode, completed.stderr) == (0, "")
    root = ElementTree.parse(target).getroot()
    texts = {element.text for element in root.iter("{http://www.w3.org/2000/svg}text")}
    assert set(Order.workflow.state_names) <= texts


def test_the_console_script_reports_a_bad_target_without_a_traceback(tmp_path: Path) -> None:
    completed = run("diagram", "examples.orders.models:Ordr", cwd=ROOT)
    assert completed.returncode == 2
    assert completed.stderr == (
        "statesignals: error: module 'examples.orders.models' has no attribute 'Ordr'\n"
    )
    assert "Traceback" not in completed.stderr


def test_python_dash_m_runs_the_same_command() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "statesignals", "describe", str(TICKET_FILE)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert completed.returncode == 0
    assert completed.stdout.startswith("SupportTicket: initial state 'new'; final: closed\n")
    assert "escalate          assigned" in completed.stdout
    assert "(same state)" in completed.stdout
    usage = subprocess.run(
        [sys.executable, "-m", "statesignals"], capture_output=True, text=True, cwd=ROOT
    )
    assert usage.returncode == 2
    assert "usage: statesignals" in usage.stderr


def test_without_a_renderer_the_command_says_what_to_install(
    models: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("shutil.which", lambda name, *args, **kwargs: None)
    assert main(["diagram", f"{models}:Order", "-o", str(tmp_path / "order.png")]) == 2
    assert capsys.readouterr().err == (
        "statesignals: error: rendering SVG or PNG needs a Graphviz renderer: install the "
        "graphviz-pure wheel, a dependency of transitions-statesignals (pip install "
        "graphviz-pure), or Graphviz's dot program (https://graphviz.org/download/); DOT and "
        "Mermaid text need neither\n"
    )
    assert main(["diagram", f"{models}:Order", "-o", str(tmp_path / "order.mmd")]) == 0

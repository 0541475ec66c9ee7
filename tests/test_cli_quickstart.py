"""What a pip user runs first: the documented commands, shipped examples, ``init``."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from statesignals.cli import main

ROOT = Path(__file__).parent.parent
COMMAND = Path(sys.executable).parent / "statesignals"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(COMMAND), *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def documented_commands() -> list[list[str]]:
    """The shell commands of the first ``sh`` block of docs/cli.md."""
    text = (ROOT / "docs" / "cli.md").read_text()
    block = re.search(r"```sh\n(.*?)```", text, re.DOTALL)
    assert block is not None
    return [shlex.split(line, comments=True) for line in block.group(1).splitlines()]


def test_the_documented_commands_work_in_an_empty_directory(tmp_path: Path) -> None:
    commands = documented_commands()
    assert len(commands) >= 5
    for command in commands:
        assert command[0] == "statesignals"
        completed = run(*command[1:], cwd=tmp_path)
        assert completed.returncode == 0, (command, completed.stdout, completed.stderr)
    assert (tmp_path / "order.svg").read_text().startswith("<?xml")
    assert (tmp_path / "expense_report.png").read_bytes().startswith(b"\x89PNG")


def test_example_lists_the_shipped_workflows(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["example"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in listed] == ["order", "support_ticket"]
    assert "--base statesignals.examples:OrderRules" in listed[0]


def test_example_copies_a_file_that_validates_with_its_base(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["example", "support_ticket", "--dir", str(tmp_path)]) == 0
    copied = tmp_path / "support_ticket.json"
    assert capsys.readouterr().out.startswith(f"wrote {copied}\n")
    args = ["validate", str(copied), "--base", "statesignals.examples:TicketRules"]
    assert main(args) == 0
    assert "SupportTicket is valid" in capsys.readouterr().out


def test_example_never_overwrites_and_names_unknown_examples(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "order.yaml").write_text("mine")
    assert main(["example", "order", "--dir", str(tmp_path)]) == 2
    assert "order.yaml exists already" in capsys.readouterr().err
    assert (tmp_path / "order.yaml").read_text() == "mine"
    assert main(["example", "invoice"]) == 2
    assert "no example 'invoice'; choose one of order, support_ticket" in capsys.readouterr().err


def test_init_writes_a_starter_that_validates_draws_and_runs(tmp_path: Path) -> None:
    created = run("init", "expense_report", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "expense_report.py",
        "expense_report.yaml",
    ]
    checked = run(
        "validate",
        "expense_report.yaml",
        "--base",
        "expense_report:ExpenseReportRules",
        cwd=tmp_path,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout == "expense_report.yaml: ExpenseReport is valid (4 states)\n"
    drawn = run("diagram", "expense_report:ExpenseReport", "-o", "report.svg", cwd=tmp_path)
    assert drawn.returncode == 0, drawn.stderr
    assert "in_review" in (tmp_path / "report.svg").read_text()
    script = (
        "from expense_report import ExpenseReport\n"
        "report = ExpenseReport('')\n"
        "assert not report.submit()\n"
        "report.text = 'Train to Lyon'\n"
        "assert report.submit() and report.approve()\n"
        "print(report.state)\n"
    )
    used = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert used.returncode == 0, used.stderr
    assert used.stdout.splitlines()[-1] == "approved"


def test_init_refuses_bad_names_and_existing_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "Expense-Report", "--dir", str(tmp_path)]) == 2
    assert "cannot name a module" in capsys.readouterr().err
    (tmp_path / "ticket.py").write_text("mine")
    assert main(["init", "ticket", "--dir", str(tmp_path)]) == 2
    assert "ticket.py exists already; nothing was written" in capsys.readouterr().err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["ticket.py"]


def test_validate_imports_a_files_dotted_guard_only_when_allowed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flow = tmp_path / "zen.yaml"
    flow.write_text(
        "initial: a\nstates: [a, {name: b, final: true}]\n"
        "transitions: [{trigger: go, source: a, dest: b, conditions: this.s}]\n"
    )
    sys.modules.pop("this", None)
    assert main(["validate", str(flow)]) == 1
    captured = capsys.readouterr()
    assert "'this.s' would import code from 'this'" in captured.out
    assert "Beautiful is better than ugly" not in captured.out + captured.err
    assert "this" not in sys.modules
    assert main(["validate", str(flow), "--allow-import", "this"]) == 0
    sys.modules.pop("this", None)


def test_max_bytes_bounds_what_the_command_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flow = tmp_path / "small.yaml"
    flow.write_text("initial: a\nstates: [a]\n")
    assert main(["--max-bytes", "10", "describe", str(flow)]) == 2
    assert "larger than 10 bytes" in capsys.readouterr().err
    assert main(["describe", str(flow)]) == 0

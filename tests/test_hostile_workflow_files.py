"""Workflow files are data from outside: refused cleanly when they are hostile or broken.

Every case here once hung, ran code from the file, or escaped as a raw Python
exception; each now ends in one :class:`~statesignals.WorkflowFileError` that
names the file.
"""

from __future__ import annotations

import collections.abc as c
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from statesignals import (
    SignalingHierarchicalMachine,
    SignalingMachine,
    WorkflowFileError,
    dump_workflow,
    load_definition,
    load_workflow,
)
from statesignals.files import read_workflow

SMALL = {
    "initial": "a",
    "states": ["a", "b"],
    "transitions": [{"trigger": "go", "source": "a", "dest": "b"}],
}


class Rules(SignalingMachine):
    def is_ready(self) -> bool:
        return True


def small_yaml(tmp_path: Path, name: str = "small.yaml") -> Path:
    path = tmp_path / name
    path.write_text(
        "initial: a\nstates: [a, b]\ntransitions:\n  - {trigger: go, source: a, dest: b}\n"
    )
    return path


# Code in a file: names are methods of the base class, imports need an allow-list.


def test_a_dotted_guard_in_a_file_is_refused_before_anything_is_imported(tmp_path: Path) -> None:
    path = tmp_path / "zen.json"
    data = {
        **SMALL,
        "transitions": [{"trigger": "go", "source": "a", "dest": "b", "conditions": "this.s"}],
    }
    path.write_text(json.dumps(data))
    sys.modules.pop("this", None)
    with pytest.raises(
        WorkflowFileError,
        match=r"transitions\[0\]\.conditions: 'this\.s' would "
        r"import code from 'this'.*allowed_imports \(--allow-import this\)",
    ):
        load_workflow(path)
    assert "this" not in sys.modules


def test_a_dotted_callback_runs_only_when_its_module_is_allowed(tmp_path: Path) -> None:
    module = tmp_path / "allowed_rules.py"
    module.write_text("calls = []\ndef record(*args, **kwargs):\n    calls.append('after')\n")
    sys.path.insert(0, str(tmp_path))
    try:
        data = {
            **SMALL,
            "transitions": [
                {"trigger": "go", "source": "a", "dest": "b", "after": "allowed_rules.record"}
            ],
        }
        with pytest.raises(WorkflowFileError, match="would import code"):
            load_workflow(data)
        with pytest.raises(WorkflowFileError, match="would import code"):
            load_workflow(data, allowed_imports=["allowed"])  # a prefix is not a package
        loaded = load_workflow(data, allowed_imports=["allowed_rules"])
        model = loaded()
        assert model.trigger("go")
        assert sys.modules["allowed_rules"].calls == ["after"]
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("allowed_rules", None)


def test_dotted_names_are_refused_in_every_place_a_file_names_callbacks() -> None:
    nested = {
        "initial": "c",
        "states": [
            {
                "name": "c",
                "initial": "x",
                "children": ["x", "y"],
                "transitions": [
                    {"trigger": "hop", "source": "x", "dest": "y", "before": "os.getcwd"}
                ],
            }
        ],
    }
    with pytest.raises(WorkflowFileError, match=r"states\[0\]\.transitions\[0\]\.before"):
        load_workflow(nested, base=Nested)
    on_enter = {"initial": "a", "states": [{"name": "a", "on_enter": ["is_ready", "os.abort"]}]}
    with pytest.raises(WorkflowFileError, match=r"states\[0\]\.on_enter\[1\]: 'os\.abort'"):
        load_workflow(on_enter, base=Rules)
    option = {**SMALL, "options": {"after_state_change": "os.abort"}}
    with pytest.raises(WorkflowFileError, match=r"options\.after_state_change: 'os\.abort'"):
        load_workflow(option)
    special = {
        **SMALL,
        "transitions": [{"trigger": "go", "source": "a", "dest": "b", "conditions": "__class__"}],
    }
    with pytest.raises(WorkflowFileError, match="'__class__' is a special attribute"):
        load_workflow(special)


class Nested(SignalingMachine):
    machine_cls = SignalingHierarchicalMachine


# Hangs: alias bombs, FIFOs, devices, huge files.

BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
initial: a
states: *i
"""


def test_a_yaml_alias_bomb_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "laughs.yaml"
    path.write_text(BILLION_LAUGHS)
    with pytest.raises(WorkflowFileError, match=r"laughs\.yaml.*aliases expand the document by"):
        load_definition(path)


def test_a_self_referring_yaml_alias_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "loop.yaml"
    path.write_text("initial: a\nstates: &s [a, *s]\n")
    with pytest.raises(WorkflowFileError, match="refers to the collection it is in"):
        load_definition(path)


def test_modest_yaml_aliases_still_load(tmp_path: Path) -> None:
    path = tmp_path / "shared.yaml"
    path.write_text(
        "initial: a\nstates: [a, b, c]\ntransitions:\n"
        "  - {trigger: go, source: &both [a, b], dest: c}\n"
        "  - {trigger: stop, source: *both, dest: c}\n"
    )
    assert load_definition(path).transitions[1]["source"] == ["a", "b"]


def _in_thread(function: c.Callable[..., object], *args: object) -> BaseException | None:
    """Run ``function`` in a daemon thread; what it raised, or None if it is still running."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            function(*args)
        except BaseException as error:
            outcome.append(error)
        else:
            outcome.append(None)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(20)
    assert outcome, f"{function.__name__}{args} did not return"
    return outcome[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    error = _in_thread(load_definition, fifo)
    assert isinstance(error, WorkflowFileError)
    assert "pipe.yaml: not a regular file" in str(error)


def test_a_symlink_to_a_device_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "zero.yaml"
    link.symlink_to("/dev/zero")
    error = _in_thread(load_definition, link)
    assert isinstance(error, WorkflowFileError)
    assert "zero.yaml: not a regular file" in str(error)


def test_files_past_the_size_limit_are_refused_and_the_limit_is_configurable(
    tmp_path: Path,
) -> None:
    path = small_yaml(tmp_path)
    size = path.stat().st_size
    with pytest.raises(
        WorkflowFileError, match=f"larger than {size - 1:,} bytes; pass a larger max_bytes"
    ):
        load_definition(path, max_bytes=size - 1)
    assert load_definition(path, max_bytes=size).initial == "a"
    big = tmp_path / "big.yaml"
    big.write_text("# padding\n" * 200_000 + path.read_text())
    with pytest.raises(WorkflowFileError, match="larger than 1,000,000 bytes"):
        load_workflow(big)
    assert load_workflow(big, max_bytes=3_000_000).workflow.initial == "a"


# Silent wrong structure: duplicate keys.


def test_duplicate_keys_in_a_yaml_file_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "twice.yaml"
    path.write_text(
        "initial: a\nstates: [a, b]\ntransitions:\n"
        "  - trigger: go\n    source: a\n    dest: b\n    dest: a\n"
    )
    with pytest.raises(
        WorkflowFileError, match=r"twice\.yaml:7:5: invalid YAML: key 'dest' appears twice"
    ):
        load_definition(path)


def test_duplicate_keys_in_a_json_file_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "twice.json"
    path.write_text('{"initial": "a", "states": ["a"], "initial": "b"}')
    with pytest.raises(WorkflowFileError, match=r"twice\.json: key 'initial' appears twice"):
        load_definition(path)


def test_yaml_merge_keys_are_not_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "merge.yaml"
    path.write_text(
        "initial: a\nstates: [a, b]\ntransitions:\n"
        "  - &go {trigger: go, source: a, dest: b}\n"
        "  - {<<: *go, trigger: again}\n"
    )
    assert load_definition(path).transitions[1] == {"trigger": "again", "source": "a", "dest": "b"}


# Raw exceptions from bad bytes and numbers.


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("latin1.yaml", "initial: caf\xe9\nstates: [a]\n".encode("latin-1"), "not UTF-8 text"),
        ("utf16.yaml", "initial: a\nstates: [a]\n".encode("utf-16"), "not UTF-8 text"),
        ("binary.json", bytes(range(256)), "not UTF-8 text"),
        (
            "bigint.json",
            b'{"initial": "a", "states": ["a"], "x": ' + b"9" * 5000 + b"}",
            "invalid JSON",
        ),
        ("bigint.yaml", b"initial: a\nstates: [a]\nx: " + b"9" * 5000 + b"\n", "invalid YAML"),
        ("deep.json", b"[" * 100_000, "nested more than"),
        ("deep.yaml", b"[" * 100_000, "nested more than"),
        (
            "surrogate.json",
            b'{"initial": "\\ud800", "states": ["\\ud800"]}',
            "is not valid Unicode text",
        ),
    ],
)
def test_broken_bytes_give_a_workflow_file_error(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(WorkflowFileError, match=f"{name}: .*{message}|{name}:.*{message}"):
        load_definition(path)


def test_states_nested_too_deeply_are_refused(tmp_path: Path) -> None:
    state: dict[str, object] = {"name": "leaf"}
    for level in range(150):
        state = {"name": f"s{level}", "children": [state]}
    path = tmp_path / "deep_states.json"
    path.write_text(json.dumps({"initial": "s149", "states": [state]}))
    with pytest.raises(WorkflowFileError, match="nested more than 100 levels deep"):
        read_workflow(path)


def test_a_nul_in_a_file_name_is_a_workflow_file_error() -> None:
    with pytest.raises(WorkflowFileError, match="cannot hold a NUL character"):
        load_workflow("a\x00b.yaml")


# Round trip.


def test_an_option_set_to_its_default_survives_a_round_trip() -> None:
    class Quiet(SignalingMachine):
        states = ["a", "b"]
        initial = "a"
        transitions = [["go", "a", "b"]]
        send_event = False
        auto_transitions = True

    exported = dump_workflow(Quiet)
    assert exported["options"] == {"send_event": False, "auto_transitions": True}
    assert load_workflow(exported).workflow == Quiet.workflow


def test_a_nested_workflow_with_list_form_inner_transitions_exports_and_loads_back() -> None:
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
        ]
        initial = "draft"
        transitions = [["submit", "draft", "review"], ["publish", "review_reading", "published"]]

    exported = dump_workflow(Document)
    assert exported["states"][1]["transitions"] == [
        {"trigger": "comment", "source": "reading", "dest": "commenting"},
        {"trigger": "done", "source": "commenting", "dest": "reading"},
    ]
    loaded = load_workflow(exported, base=Nested)
    document = loaded()
    assert document.trigger("submit")
    assert document.trigger("comment")
    assert document.state == "review_commenting"


def test_the_command_reads_a_yaml_file_in_a_fresh_interpreter_without_a_traceback(
    tmp_path: Path,
) -> None:
    path = tmp_path / "laughs.yaml"
    path.write_text(BILLION_LAUGHS)
    completed = subprocess.run(
        [sys.executable, "-m", "statesignals", "describe", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert "aliases expand the document" in completed.stderr

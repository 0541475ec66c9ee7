"""The command never prints a traceback: every bad input is one line and exit 1 or 2.

First the inputs that once escaped as raw exceptions, then a fuzz test that
writes hostile workflow files and runs every command on them.
"""

from __future__ import annotations

import collections.abc as c
import contextlib
import io
import json
import signal
import tempfile
import typing as t
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from statesignals import SignalingHierarchicalMachine, SignalingMachine
from statesignals.cli import main


class NestedRules(SignalingMachine):
    """A base with a nested machine and a few guards, so that files compile deeply."""

    machine_cls = SignalingHierarchicalMachine

    def ok(self) -> bool:
        return True

    def note(self) -> None:
        pass


NESTED_BASE = f"{__name__}:NestedRules"
SECONDS_PER_RUN = 20


class Outcome(t.NamedTuple):
    status: int
    out: str
    err: str


def command(*args: str) -> Outcome:
    """Run ``statesignals ARGS`` in this process, failing the test if it hangs."""
    out, err = io.StringIO(), io.StringIO()

    def hung(signum: int, frame: object) -> None:
        raise TimeoutError(f"statesignals {' '.join(args)} ran for {SECONDS_PER_RUN} s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(SECONDS_PER_RUN)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(list(args))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    return Outcome(status, out.getvalue(), err.getvalue())


def assert_one_clean_line(outcome: Outcome, status: int) -> None:
    assert outcome.status == status, outcome
    assert "Traceback" not in outcome.out + outcome.err
    assert "internal error" not in outcome.err, outcome.err
    lines = (outcome.err or outcome.out).splitlines()
    assert len(lines) == 1, outcome


def nested(levels: int) -> dict[str, object]:
    state: dict[str, object] = {"name": "leaf"}
    for level in range(levels):
        state = {"name": f"s{level}", "initial": state["name"], "children": [state]}
    return {"initial": f"s{levels - 1}", "states": [state]}


FLOW = {"initial": "a", "states": ["a", {"name": "b", "final": True}]}
BROKEN_FILES: dict[str, bytes] = {
    "typo.json": json.dumps(
        {**FLOW, "transitions": [{"trigger": "go", "source": "a", "dest": "shiped"}]}
    ).encode(),
    "flatinner.json": json.dumps(
        {
            "initial": "a",
            "states": [
                {
                    "name": "a",
                    "initial": "b",
                    "children": ["b", "c"],
                    "transitions": [{"trigger": "hop", "source": "b", "dest": "c"}],
                }
            ],
        }
    ).encode(),
    "latin1.yaml": "initial: caf\xe9\nstates: [caf\xe9]\n".encode("latin-1"),
    "utf16.yaml": "initial: a\nstates: [a]\n".encode("utf-16"),
    "binary.yaml": bytes(range(256)) * 4,
    "bigint.json": b'{"initial": "a", "states": ["a"], "name": ' + b"7" * 5000 + b"}",
    "deep.json": b"[" * 100_000,
    "deep_states.json": json.dumps(nested(150)).encode(),
    "surrogate.json": b'{"initial": "\\ud800", "states": ["\\ud800"]}',
}


@pytest.mark.parametrize("name", sorted(BROKEN_FILES))
@pytest.mark.parametrize(
    ("args", "status"),
    [
        (["validate"], 1),
        (["validate", "--base", NESTED_BASE], 1),
        (["describe"], 2),
        (["diagram"], 2),
        (["diagram", "--format", "mermaid"], 2),
    ],
)
def test_a_broken_file_is_one_line_for_every_command(
    tmp_path: Path, name: str, args: list[str], status: int
) -> None:
    path = tmp_path / name
    path.write_bytes(BROKEN_FILES[name])
    outcome = command(*args[:1], str(path), *args[1:])
    if name == "flatinner.json" and args != ["validate"]:
        # Nested states drawn as written, and compiled on a nested machine: not broken there.
        assert outcome.status == 0, outcome
        return
    assert_one_clean_line(outcome, status)
    assert name in outcome.out + outcome.err


def test_a_nul_in_a_file_name_is_one_line() -> None:
    assert_one_clean_line(command("describe", "a\x00b.yaml"), 2)
    assert_one_clean_line(command("validate", "a\x00b.yaml"), 1)


# Fuzz: workflow-shaped documents, mostly valid enough to reach the checks, with odd names,
# wrong types and broken structure mixed in.

SIMPLE = st.sampled_from(["a", "b", "c", "d"])
ODD_NAMES = [
    "a_b",
    "a_",
    "_a",
    "__",
    "*",
    "=",
    "",
    "<b>bold</b>",
    'say "hi"',
    "line\nbreak",
    "\x1b[31mred",
    "nul\x00",
    "ok\n    a --> [*]: injected",
    "é",
    "{x}",
    "a.b",
    "back\\",
]
ODD = st.sampled_from(ODD_NAMES)
NAME = st.sampled_from(["a", "b", "c", "d"] * 5 + ODD_NAMES)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=False), st.text(max_size=6)
)
NAMES = st.one_of(NAME, NAME, st.lists(NAME, min_size=1, max_size=3))
CALLBACKS = st.one_of(
    st.sampled_from(["ok", "note", "ok", "note", "missing", "this.s", "__class__", "..x"]),
    st.lists(st.sampled_from(["ok", "note", "missing"]), max_size=2),
    SCALARS,
)
TRIGGER = st.one_of(
    st.sampled_from(["go", "back", "hop", "to_a", "state", "trigger", "is_a", "may_go"]), ODD
)
GOOD_TRANSITION = st.fixed_dictionaries(
    {
        "trigger": TRIGGER,
        "source": st.one_of(NAMES, st.just("*")),
        "dest": st.one_of(NAME, NAME, st.none(), st.just("=")),
    },
    optional={"conditions": CALLBACKS, "unless": CALLBACKS, "after": CALLBACKS},
)
TRANSITION = st.one_of(
    *[GOOD_TRANSITION] * 6,
    st.fixed_dictionaries({"trigger": TRIGGER, "source": SCALARS, "dset": SCALARS}),
    st.lists(NAME, min_size=1, max_size=4),
    SCALARS,
)


def state_with(children: st.SearchStrategy[t.Any]) -> st.SearchStrategy[t.Any]:
    return st.fixed_dictionaries(
        {"name": NAME},
        optional={
            "children": st.lists(children, min_size=1, max_size=3),
            "parallel": st.lists(children, min_size=1, max_size=3),
            "initial": NAMES,
            "final": st.booleans(),
            "transitions": st.lists(TRANSITION, max_size=3),
            "on_enter": CALLBACKS,
            "tags": st.lists(NAME, max_size=2),
            "timeout": st.one_of(st.integers(-1, 2), st.floats(0.1, 1)),
            "on_timeout": CALLBACKS,
            "ignore_invalid_triggers": st.booleans(),
        },
    )


STATE = st.recursive(NAME, state_with, max_leaves=8)
OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "auto_transitions": st.booleans(),
        "send_event": st.booleans(),
        "queued": st.one_of(st.booleans(), st.just("model")),
        "model_attribute": st.sampled_from(["state", "status", "machine", "__dict__", "x y"]),
        "receiver_errors": st.sampled_from(["raise", "log", "ignore"]),
        "after_state_change": CALLBACKS,
    },
)
WORKFLOW = st.fixed_dictionaries(
    {"initial": NAME, "states": st.lists(STATE, min_size=1, max_size=5)},
    optional={
        "name": st.sampled_from(["Order", "class", "X1", "Flow", "a b"]),
        "transitions": st.lists(TRANSITION, max_size=5),
        "options": OPTIONS,
    },
)
WILD = st.fixed_dictionaries(
    {},
    optional={
        "initial": st.one_of(NAMES, SCALARS),
        "states": st.one_of(st.lists(STATE, max_size=3), SCALARS),
        "transitions": st.one_of(st.lists(TRANSITION, max_size=3), SCALARS),
        "options": st.one_of(OPTIONS, SCALARS),
        "extra": SCALARS,
    },
)
# Valid but for a few names, so that the checks, compilation and drawing all run.
PLAIN_NAME = st.sampled_from(["b", "c", "d", "e"] * 40 + ODD_NAMES)
PLAIN_TRANSITION = st.fixed_dictionaries(
    {
        "trigger": st.sampled_from(["go", "back", "hop", "to_b", "trigger", "is_b"]),
        "source": st.one_of(st.just("a"), PLAIN_NAME, st.just("*")),
        "dest": st.one_of(st.just("a"), PLAIN_NAME),
    },
    optional={"conditions": st.sampled_from(["ok", "ok", "missing"]), "after": st.just("note")},
)


def spec_name(spec: t.Any) -> t.Any:
    return spec["name"] if isinstance(spec, dict) else spec


PLAIN_STATE = st.recursive(
    PLAIN_NAME,
    lambda children: st.fixed_dictionaries(
        {"name": PLAIN_NAME},
        optional={
            "children": st.lists(children, min_size=1, max_size=3, unique_by=spec_name),
            "final": st.booleans(),
            "transitions": st.lists(PLAIN_TRANSITION, max_size=2),
        },
    ),
    max_leaves=6,
)
PLAIN = st.fixed_dictionaries(
    {
        "initial": st.just("a"),
        "states": st.lists(PLAIN_STATE, max_size=4, unique_by=spec_name).map(
            lambda states: ["a", *(spec for spec in states if spec_name(spec) != "a")]
        ),
        "transitions": st.lists(PLAIN_TRANSITION, max_size=5),
    }
)
DOCUMENT = st.one_of(PLAIN, PLAIN, WORKFLOW, WILD)
COMMANDS = st.sampled_from(
    [
        ["validate"],
        ["validate", "--base", NESTED_BASE],
        ["validate", "--strict"],
        ["describe"],
        ["diagram"],
        ["diagram", "--format", "mermaid"],
        ["diagram", "--state", "a", "--transition", "go"],
    ]
)


def written(folder: Path, document: t.Any, form: str) -> Path:
    if form == "json":
        path = folder / "flow.json"
        path.write_text(json.dumps(document, ensure_ascii=False), "utf-8", "surrogatepass")
    else:
        path = folder / "flow.yaml"
        try:
            path.write_text(yaml.safe_dump(document, allow_unicode=True), "utf-8")
        except UnicodeEncodeError:
            path.write_text(yaml.safe_dump(document), "utf-8")
    return path


# Derandomized: the same few hundred cases on every run, so that the suite is stable;
# raise max_examples and drop derandomize to hunt for new cases.
@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(document=DOCUMENT, form=st.sampled_from(["json", "yaml"]), args=COMMANDS)
# A compound state's name once reached the terminal raw, in its start node's id.
@example(
    document={"initial": "a", "states": ["a", {"name": "\x1b[31mred", "children": ["b"]}]},
    form="json",
    args=["diagram"],
)
def test_fuzzed_workflow_files_exit_0_1_or_2_with_no_traceback(
    document: c.Mapping[str, t.Any], form: str, args: list[str]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = written(Path(folder), document, form)
        outcome = command(args[0], str(path), *args[1:])
    assert outcome.status in (0, 1, 2), outcome
    assert "Traceback" not in outcome.out + outcome.err
    assert "internal error" not in outcome.err, (document, args, outcome.err)
    if outcome.status == 2:
        assert len(outcome.err.splitlines()) == 1, outcome
    for character in "\x00\x1b":
        assert character not in outcome.out + outcome.err


@settings(max_examples=60, deadline=None, derandomize=True)
@given(content=st.binary(max_size=200), suffix=st.sampled_from([".json", ".yaml"]), args=COMMANDS)
def test_fuzzed_bytes_exit_0_1_or_2_with_no_traceback(
    content: bytes, suffix: str, args: list[str]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"flow{suffix}"
        path.write_bytes(content)
        outcome = command(args[0], str(path), *args[1:])
    assert outcome.status in (0, 1, 2), outcome
    assert "Traceback" not in outcome.out + outcome.err
    assert "internal error" not in outcome.err, (content, args, outcome.err)

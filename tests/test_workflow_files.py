"""Workflow files: loading from dicts, JSON and YAML, errors that point into the file, export."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from statesignals import (
    SignalingHierarchicalMachine,
    SignalingMachine,
    WorkflowDefinitionError,
    WorkflowFileError,
    dump_workflow,
    load_definition,
    load_workflow,
    save_workflow,
)
from statesignals.examples import OrderRules, TicketRules
from statesignals.files import workflow_schema
from tests.models import Page

EXAMPLES = Path(__file__).parent.parent / "statesignals" / "examples"
EXAMPLE_FILES = sorted(
    path for path in EXAMPLES.iterdir() if path.suffix in (".json", ".yaml", ".yml")
)
EXAMPLE_BASES: dict[str, type[SignalingMachine]] = {
    "order.yaml": OrderRules,
    "support_ticket.json": TicketRules,
}

ORDER: dict[str, object] = {
    "name": "Order",
    "initial": "pending",
    "states": ["pending", "paid", "shipped", {"name": "delivered", "final": True}],
    "transitions": [
        {"trigger": "pay", "source": "pending", "dest": "paid", "conditions": "is_funded"},
        {"trigger": "ship", "source": "paid", "dest": "shipped", "unless": "is_on_hold"},
        {"trigger": "deliver", "source": "shipped", "dest": "delivered"},
        {"trigger": "remind", "source": "pending", "dest": None, "after": "send_reminder"},
    ],
}


def write(tmp_path: Path, name: str, data: object) -> Path:
    path = tmp_path / name
    if path.suffix == ".json":
        path.write_text(json.dumps(data))
    else:
        path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def with_transition(index: int, **changes: object) -> dict[str, object]:
    data = json.loads(json.dumps(ORDER))
    data["transitions"][index].update(changes)
    return dict(data)


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".yml"])
def test_a_file_loads_into_a_working_class_whose_guards_are_base_methods(
    tmp_path: Path, suffix: str
) -> None:
    Order = load_workflow(write(tmp_path, f"order{suffix}", ORDER), base=OrderRules)
    assert Order.__name__ == "Order"
    assert issubclass(Order, OrderRules)
    unpaid = Order(total=10, paid=0)
    assert not unpaid.pay()  # type: ignore[attr-defined]
    unpaid.remind()  # type: ignore[attr-defined]
    assert (unpaid.state, unpaid.reminders) == ("pending", 1)
    paid = Order(total=10, paid=10)
    assert paid.pay()  # type: ignore[attr-defined]
    assert paid.ship()  # type: ignore[attr-defined]
    assert paid.state == "shipped"


def test_a_dict_loads_and_the_class_is_named_by_argument_file_or_file_name(
    tmp_path: Path,
) -> None:
    assert load_workflow(ORDER, base=OrderRules).__name__ == "Order"
    assert load_workflow(ORDER, base=OrderRules, name="Purchase").__name__ == "Purchase"
    unnamed = {key: value for key, value in ORDER.items() if key != "name"}
    path = write(tmp_path, "rush-order.yaml", unnamed)
    assert load_workflow(path, base=OrderRules).__name__ == "RushOrder"


def test_description_becomes_the_docstring() -> None:
    Order = load_workflow({**ORDER, "description": "An order."}, base=OrderRules)
    assert Order.__doc__ == "An order."


def test_options_are_machine_keywords(tmp_path: Path) -> None:
    Order = load_workflow(
        {**ORDER, "options": {"auto_transitions": False, "model_attribute": "status"}},
        base=OrderRules,
    )
    order = Order()
    assert order.status == "pending"  # type: ignore[attr-defined]
    assert not hasattr(order, "to_paid")


def test_a_misspelt_state_is_reported_with_the_file_and_the_path_inside_it(
    tmp_path: Path,
) -> None:
    data = with_transition(2, dest="shiped")
    path = write(tmp_path, "order.yaml", data)
    with pytest.raises(WorkflowFileError) as raised:
        load_workflow(path, base=OrderRules)
    assert str(raised.value) == f"{path}: transitions[2].dest: 'shiped' is not a state"
    assert raised.value.location == ("transitions", 2, "dest")
    assert isinstance(raised.value, WorkflowDefinitionError)


def test_an_undefined_guard_is_reported_at_its_path(tmp_path: Path) -> None:
    path = write(tmp_path, "order.json", with_transition(0, conditions=["is_funded", "is_rich"]))
    with pytest.raises(WorkflowFileError, match=r"order\.json: transitions\[0\]\.conditions: "):
        load_workflow(path, base=OrderRules)
    with pytest.raises(WorkflowFileError, match="'is_rich' is neither an attribute of Order"):
        load_workflow(path, base=OrderRules)


def test_a_bad_initial_state_is_reported_at_its_path() -> None:
    with pytest.raises(WorkflowFileError, match=r"^<dict>: initial: 'new' is not a state$"):
        load_workflow({**ORDER, "initial": "new"}, base=OrderRules)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"transitions": [{"trigger": "pay", "source": "pending", "dset": "paid"}]},
            "transitions[0]: 'dest' is a required property; "
            "Additional properties are not allowed ('dset' was unexpected)",
        ),
        (
            {"transitions": [{"trigger": "pay now", "source": "a", "dest": "b"}]},
            "transitions[0].trigger: 'pay now' does not match",
        ),
        (
            {"states": ["pending", {"name": "paid", "finale": True}]},
            "states[1]: Additional properties are not allowed ('finale' was unexpected)",
        ),
        ({"states": []}, "states: [] should be non-empty"),
        (
            {"options": {"auto_transition": False}},
            "options: Additional properties are not allowed ('auto_transition' was unexpected)",
        ),
        ({"initial": 3}, "initial: 3 is not of type 'string'"),
    ],
)
def test_schema_errors_name_the_file_and_the_path(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    path = write(tmp_path, "order.yaml", {**ORDER, **change})
    with pytest.raises(WorkflowFileError) as raised:
        load_workflow(path, base=OrderRules)
    assert str(raised.value).startswith(f"{path}: {message}")
    assert "\n" not in str(raised.value)


def test_a_missing_top_level_key_is_a_top_level_error() -> None:
    with pytest.raises(WorkflowFileError, match=r"<dict>: \(top level\): 'initial' is a required"):
        load_workflow({"states": ["a"]})


def test_syntax_errors_name_the_file_line_and_column(tmp_path: Path) -> None:
    bad_json = tmp_path / "order.json"
    bad_json.write_text('{"states": ["a"],\n "initial": }')
    with pytest.raises(
        WorkflowFileError, match=rf"^{bad_json}:2:13: invalid JSON: Expecting value"
    ):
        load_workflow(bad_json)
    bad_yaml = tmp_path / "order.yaml"
    bad_yaml.write_text("states: [a, b\ninitial: a\n")
    with pytest.raises(WorkflowFileError, match=rf"^{bad_yaml}:2:\d+: invalid YAML: "):
        load_workflow(bad_yaml)


def test_unreadable_or_unknown_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(WorkflowFileError, match=r"missing\.yaml: cannot read: No such file"):
        load_workflow(tmp_path / "missing.yaml")
    with pytest.raises(WorkflowFileError, match=r"order\.toml: a workflow file is .json, .yaml"):
        load_workflow(tmp_path / "order.toml")


def test_the_base_must_supply_methods_not_a_workflow() -> None:
    Order = load_workflow(ORDER, base=OrderRules)
    with pytest.raises(WorkflowFileError, match="base Order declares a workflow of its own"):
        load_workflow(ORDER, base=Order)
    with pytest.raises(WorkflowFileError, match="base must be a SignalingMachine subclass"):
        load_workflow(ORDER, base=dict)  # type: ignore[arg-type]


def test_the_schema_ships_with_the_package_and_describes_the_format() -> None:
    schema = workflow_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["states", "initial"]


def test_nested_states_load_as_a_definition_without_compiling() -> None:
    definition = load_definition(
        {
            "initial": "pending",
            "states": [
                "pending",
                {"name": "shipping", "initial": "packing", "children": ["packing", "moving"]},
            ],
            "transitions": [{"trigger": "start", "source": "pending", "dest": "shipping"}],
        }
    )
    assert definition.state_names == ("pending", "shipping")
    assert definition.states[1]["children"] == ["packing", "moving"]  # type: ignore[index]


NESTED_PARCEL: dict[str, object] = {
    "name": "Parcel",
    "initial": "packing",
    "states": [
        "packing",
        {
            "name": "shipping",
            "initial": "packed",
            "children": ["packed", "in_transit"],
            "transitions": [{"trigger": "dispatch", "source": "packed", "dest": "in_transit"}],
        },
        {"name": "delivered", "final": True},
    ],
    "transitions": [
        {"trigger": "pack", "source": "packing", "dest": "shipping"},
        {"trigger": "deliver", "source": "shipping_in_transit", "dest": "delivered"},
    ],
}


class NestedBase(SignalingMachine):
    machine_cls = SignalingHierarchicalMachine


def test_nested_states_load_into_a_working_class_on_a_nested_base() -> None:
    parcel_class = load_workflow(NESTED_PARCEL, base=NestedBase)
    parcel = parcel_class()

    for trigger in ("pack", "dispatch", "deliver"):
        assert parcel.trigger(trigger) is True

    assert parcel.state == "delivered"
    assert dump_workflow(parcel_class) == NESTED_PARCEL


def test_a_mistake_inside_a_nested_state_is_reported_at_its_path() -> None:
    data = copy.deepcopy(NESTED_PARCEL)
    data["states"][1]["transitions"][0]["dest"] = "in_transt"  # type: ignore[index]

    with pytest.raises(WorkflowFileError) as raised:
        load_workflow(data, base=NestedBase)

    assert str(raised.value) == "<dict>: states[1].transitions[0].dest: 'in_transt' is not a state"


# Export and round trip.


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda path: path.name)
def test_every_example_workflow_round_trips(path: Path, tmp_path: Path) -> None:
    base = EXAMPLE_BASES[path.name]
    loaded = load_workflow(path, base=base)
    exported = dump_workflow(loaded)
    reloaded = load_workflow(exported, base=base)
    assert reloaded.workflow == loaded.workflow
    assert reloaded.__name__ == loaded.__name__
    assert reloaded.__doc__ == loaded.__doc__
    # The export is the file's content, and writes back in the file's own format.
    original = (
        json.loads(path.read_text()) if path.suffix == ".json" else yaml.safe_load(path.read_text())
    )
    assert exported == original
    saved = save_workflow(loaded, tmp_path / path.name)
    assert load_workflow(saved, base=base).workflow == loaded.workflow


def test_every_example_workflow_file_is_covered_by_the_round_trip() -> None:
    assert {path.name for path in EXAMPLE_FILES} == set(EXAMPLE_BASES)


def test_a_declared_class_exports_its_workflow_with_enum_states_by_name() -> None:
    assert dump_workflow(Page) == {
        "name": "Page",
        "description": "A page.",
        "initial": "DRAFT",
        "states": ["DRAFT", "LIVE"],
        "transitions": [{"trigger": "publish", "source": "DRAFT", "dest": "LIVE"}],
        "options": {"auto_transitions": False},
    }


def test_a_guard_given_as_a_function_cannot_be_exported() -> None:
    def is_ready(model: object) -> bool:
        return True

    class Job(SignalingMachine):
        states = ["queued", "done"]
        initial = "queued"
        transitions = [
            {"trigger": "finish", "source": "queued", "dest": "done", "conditions": is_ready}
        ]

    with pytest.raises(WorkflowFileError, match=r"Job: transitions\[0\]\.conditions is <function"):
        dump_workflow(Job)


def test_save_refuses_an_unknown_suffix(tmp_path: Path) -> None:
    Order = load_workflow(ORDER, base=OrderRules)
    with pytest.raises(WorkflowFileError, match=r"order\.xml: a workflow file is .json, .yaml"):
        save_workflow(Order, tmp_path / "order.xml")

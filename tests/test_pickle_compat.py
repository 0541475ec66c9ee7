"""Pickles stored with the 0.1 module layout still load and keep signalling."""

from __future__ import annotations

import pickle
import typing as t
from pathlib import Path

from statesignals import transition_completed, transition_denied
from tests.models import Page, Phase, Shipment

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> t.Any:
    return pickle.loads((FIXTURES / f"{name}.pickle").read_bytes())


def completed() -> list[tuple[str, str, str]]:
    seen: list[tuple[str, str, str]] = []
    transition_completed.connect(
        lambda sender, **p: seen.append((p["trigger"], p["source"], p["dest"])), weak=False
    )
    return seen


def test_a_stored_declared_instance_loads_in_its_state_and_moves_on() -> None:
    seen = completed()
    order = load("declared_instance")

    assert isinstance(order, Shipment)
    assert order.state == "paid"
    assert order.ship()
    assert order.is_shipped()
    assert seen == [("ship", "paid", "shipped")]


def test_a_stored_enum_instance_loads_with_its_member() -> None:
    page = load("enum_instance")

    assert isinstance(page, Page)
    assert page.state is Phase.LIVE
    assert page.is_LIVE()


def test_a_stored_core_machine_loads_with_its_model_and_signals() -> None:
    seen = completed()
    denied: list[str] = []
    transition_denied.connect(lambda sender, **p: denied.append(p["reason"]), weak=False)
    machine = load("core_machine")
    model = machine.models[0]

    assert model.state == "b"
    assert not model.may_go()
    assert model.on()
    assert model.state == "c"
    assert seen == [("on", "b", "c")]
    assert machine.get_transitions("on")[0].conditions[0].func == "is_ready"
    machine.set_state("b")
    model.is_ready = lambda: False
    assert not model.on()
    assert denied == ["conditions"]


def test_a_stored_nested_machine_loads_and_sends_full_state_names() -> None:
    seen = completed()
    machine = load("nested_machine")
    model = machine.models[0]

    assert model.state == "busy_loading"
    assert model.save()
    assert model.state == "busy_saving"
    assert seen == [("save", "busy_loading", "busy_saving")]

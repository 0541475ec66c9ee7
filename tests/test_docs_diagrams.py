"""The docs build draws the example workflows (the MkDocs hook in docs/hooks/diagrams.py)."""

from __future__ import annotations

import importlib.util
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from types import ModuleType

from examples.orders.models import Order
from statesignals import load_definition

ROOT = Path(__file__).parent.parent
HOOK = ROOT / "docs" / "hooks" / "diagrams.py"
SVG_TEXT = "{http://www.w3.org/2000/svg}text"


def load_hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_diagrams_hook", HOOK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def texts(svg: bytes) -> set[str]:
    return {element.text or "" for element in ElementTree.fromstring(svg).iter(SVG_TEXT)}


def test_every_example_workflow_file_and_the_orders_class_get_an_svg() -> None:
    images = load_hook().example_diagrams()
    assert set(images) == {"order.svg", "support_ticket.svg", "orders-example.svg"}
    for name in ("order", "support_ticket"):
        path = next((ROOT / "statesignals" / "examples").glob(f"{name}.*"))
        states = set(load_definition(path).state_names)
        assert states <= texts(images[f"{name}.svg"])
    assert set(Order.workflow.state_names) | {"Order"} <= texts(images["orders-example.svg"])


def test_the_pages_link_the_images_the_hook_adds() -> None:
    page = (ROOT / "docs" / "diagrams.md").read_text()
    folder = load_hook().FOLDER
    for name in load_hook().example_diagrams():
        assert f"]({folder}/{name})" in page

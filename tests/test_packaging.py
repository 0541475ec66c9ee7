"""What ``pip install transitions-statesignals`` brings: rendering, and the example files."""

from __future__ import annotations

import tomllib
from importlib import metadata, resources
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_graphviz_pure_is_a_dependency_of_a_plain_install() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert any(entry.startswith("graphviz-pure") for entry in project["dependencies"])
    installed = metadata.requires("transitions-statesignals") or []
    assert any(entry.startswith("graphviz-pure") and "extra" not in entry for entry in installed)


def test_the_example_workflow_files_are_package_data() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    shipped = project["tool"]["setuptools"]["package-data"]["statesignals.examples"]
    examples = resources.files("statesignals.examples")
    for name in ("order.yaml", "support_ticket.json"):
        assert examples.joinpath(name).is_file()
        assert any(Path(name).match(pattern) for pattern in shipped)

"""An MkDocs hook: the docs show diagrams of the example workflows, drawn at build time.

Each example workflow (the files in ``statesignals/examples/`` and the orders
example's ``Order`` class) is rendered to SVG with ``statesignals.diagrams``
and added to the site as ``workflow-diagrams/<name>.svg``, so that pages link
to them like any image (``![Order](workflow-diagrams/order.svg)``) and the
images can never drift from the workflows. Nothing is written to the source
tree. Wire it in ``mkdocs.yml``::

    hooks:
      - docs/hooks/diagrams.py
"""

from __future__ import annotations

import sys
import typing as t
from pathlib import Path

from statesignals import diagram, load_definition
from statesignals.cli import model_class
from statesignals.files import class_name, read_workflow

if t.TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import Files

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW_FILES = ROOT / "statesignals" / "examples"
CLASSES = {"orders-example": "examples.orders.models:Order"}
"""Workflows declared in code, by the image name they get."""
FOLDER = "workflow-diagrams"


def example_diagrams() -> dict[str, bytes]:
    """SVG of every example workflow, by file name (``order.svg``)."""
    if str(ROOT) not in sys.path:  # the examples package, wherever mkdocs runs from
        sys.path.insert(0, str(ROOT))
    images: dict[str, bytes] = {}
    for path in sorted(WORKFLOW_FILES.iterdir()):
        if path.suffix not in (".json", ".yaml", ".yml"):
            continue
        name = class_name(read_workflow(path), path)
        drawn = diagram(load_definition(path), name=name, title=name)
        images[f"{path.stem}.svg"] = drawn.pipe("svg")
    for image, reference in CLASSES.items():
        model = model_class(reference)
        images[f"{image}.svg"] = diagram(model, title=model.__qualname__).pipe("svg")
    return images


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the example diagrams to the site being built."""
    from mkdocs.structure.files import File

    for name, svg in example_diagrams().items():
        files.append(File.generated(config, f"{FOLDER}/{name}", content=svg))
    return files

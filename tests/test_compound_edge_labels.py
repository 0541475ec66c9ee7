"""Edges into and out of compound states keep their labels beside them, outside the box."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree

from statesignals import SignalingHierarchicalMachine, SignalingMachine, diagram

SVG = "{http://www.w3.org/2000/svg}"


class Review(SignalingMachine):
    machine_cls = SignalingHierarchicalMachine
    states = [
        "draft",
        {
            "name": "reviewing",
            "parallel": [
                {
                    "name": "legal",
                    "initial": "pending",
                    "children": ["pending", "ok"],
                    "transitions": [["clear", "pending", "ok"]],
                },
                {
                    "name": "tech",
                    "initial": "pending",
                    "children": ["pending", "ok"],
                    "transitions": [["check", "pending", "ok"]],
                },
            ],
        },
        {"name": "approved", "final": True},
        {"name": "rejected", "final": True},
    ]
    initial = "draft"
    transitions = [
        ["submit", "draft", "reviewing"],
        {
            "trigger": "approve",
            "source": "reviewing",
            "dest": "approved",
            "conditions": "all_reviews_ok",
        },
        ["revise", "reviewing", "draft"],
        ["reject", "reviewing", "rejected"],
    ]

    def all_reviews_ok(self) -> bool:
        return True


COMPOUND_LABELS = ["submit", "approve [all_reviews_ok]", "revise", "reject"]


def test_compound_edges_carry_external_labels_in_dot() -> None:
    edges = [line for line in diagram(Review).source.splitlines() if "->" in line]
    compound = [line for line in edges if "ltail=" in line or "lhead=" in line]
    assert len(compound) == 4
    assert all("xlabel=" in line and " label=" not in line for line in compound)
    # Edges between leaves keep their ordinary label.
    assert any("[label=clear]" in line for line in edges)


def box(path: str) -> tuple[float, float, float, float]:
    numbers = [float(number) for number in re.findall(r"-?\d+(?:\.\d+)?", path)]
    xs, ys = numbers[0::2], numbers[1::2]
    return min(xs), min(ys), max(xs), max(ys)


def test_labels_of_edges_leaving_a_cluster_are_drawn_outside_it() -> None:
    root = ElementTree.fromstring(diagram(Review).pipe("svg"))
    cluster = next(group for group in root.iter(f"{SVG}g") if group.get("id") == "state_reviewing")
    outline = cluster.find(f"{SVG}path")
    assert outline is not None
    left, top, right, bottom = box(outline.get("d", ""))
    # A text's y is its baseline: its middle is a third of its height above.
    labels = {
        text.text: (
            float(text.get("x", 0)),
            float(text.get("y", 0)) - float(text.get("font-size", 0)) / 3,
        )
        for text in root.iter(f"{SVG}text")
        if text.text in COMPOUND_LABELS
    }
    assert set(labels) == set(COMPOUND_LABELS)
    for label, (x, y) in labels.items():
        assert not (left < x < right and top < y < bottom), (
            label,
            (x, y),
            (left, top, right, bottom),
        )

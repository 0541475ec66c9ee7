"""The YAML loader of workflow files: PyYAML's safe loader, stricter.

Duplicate keys are refused (PyYAML keeps the last one silently), and aliases
(``*anchor``) may not expand a document past a bound: a few hundred bytes of
nested aliases ("billion laughs") would otherwise become billions of nodes.
"""

from __future__ import annotations

import typing as t

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import CollectionNode, MappingNode, Node

_MERGE_TAG = "tag:yaml.org,2002:merge"


class WorkflowLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` refusing duplicate keys and alias expansion past a bound."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[t.Any, t.Any]:
        seen: set[t.Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:  # an unhashable key: the base class reports it
                continue
            if duplicate:
                raise ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"key {key!r} appears twice",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def check_aliases(self, root: Node, limit: int) -> None:
        """Raise ``yaml.YAMLError`` when aliases add more than ``limit`` nodes to ``root``
        once expanded, or refer to the collection they sit in."""
        expanded: dict[int, int] = {}
        in_progress: set[int] = set()
        pending: list[tuple[Node, bool]] = [(root, False)]
        while pending:
            node, children_done = pending.pop()
            key = id(node)
            if children_done:
                in_progress.discard(key)
                expanded[key] = 1 + sum(expanded[id(child)] for child in _children(node))
                continue
            if key in expanded:
                continue
            if key in in_progress:
                raise ConstructorError(
                    None, None, "an alias refers to the collection it is in", node.start_mark
                )
            in_progress.add(key)
            pending.append((node, True))
            pending.extend((child, False) for child in _children(node))
        added = expanded[id(root)] - len(expanded)
        if added > limit:
            raise ConstructorError(
                None,
                None,
                f"aliases expand the document by {added:,} nodes, more than {limit:,}",
                root.start_mark,
            )


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, CollectionNode):
        return list(node.value)
    return []


__all__ = ["WorkflowLoader"]

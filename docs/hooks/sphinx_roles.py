"""A Griffe extension: docstrings written for Sphinx read well on the API page.

The docstrings use ``:class:`~statesignals.ReceiverError```-style roles, which
Markdown would print verbatim. Each becomes a code span of the name it shows
(``~`` keeps only the last part, as Sphinx does).
"""

from __future__ import annotations

import re
import typing as t

import griffe

ROLE = re.compile(r":(?:class|func|meth|data|attr|exc|mod|obj):`(~?)([^`]+)`")
LITERAL_BLOCK = re.compile(r"(?<=\w)::$", re.MULTILINE)


def _as_code(match: re.Match[str]) -> str:
    short, target = match.groups()
    return f"`{target.rsplit('.', 1)[-1] if short else target}`"


class SphinxRoles(griffe.Extension):
    """Rewrites the roles of every docstring in a loaded package."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: t.Any) -> None:
        self._rewrite(pkg, set())

    def _rewrite(self, obj: griffe.Object, seen: set[str]) -> None:
        if obj.path in seen:
            return
        seen.add(obj.path)
        if obj.docstring is not None:
            text = ROLE.sub(_as_code, obj.docstring.value)
            # "declares it on the class::" introduces an indented block: Markdown needs one colon.
            obj.docstring.value = LITERAL_BLOCK.sub(":", text)
        for member in obj.members.values():
            if not member.is_alias:
                self._rewrite(t.cast(griffe.Object, member), seen)

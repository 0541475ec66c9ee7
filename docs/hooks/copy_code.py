"""An MkDocs hook: the copy button of a doctest example copies code that runs.

The examples are doctests (``>>>`` prompts, ``...`` continuations, expected
output), so that every one is known to run; pasted as shown they do not. For
each code block with prompts this hook gives the ``<pre>`` a ``data-copy``
attribute holding the code alone, which the Material theme's copy button
copies instead of the text on screen. Wire it in ``mkdocs.yml``::

    hooks:
      - docs/hooks/copy_code.py
"""

from __future__ import annotations

import html
import re
import typing as t

if t.TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import Files
    from mkdocs.structure.pages import Page

PRE = re.compile(r"<pre(?P<attributes>[^>]*)>(?P<body>.*?)</pre>", re.DOTALL)
TAG = re.compile(r"<[^>]+>")
PROMPTS = (">>> ", "... ")


def code_without_prompts(text: str) -> str | None:
    """The statements of a doctest, prompts and expected output left out; None when
    ``text`` has no prompts (it is plain code, copied as it is)."""
    lines = text.splitlines()
    if not any(line.startswith(">>>") for line in lines):
        return None
    code: list[str] = []
    for line in lines:
        if line.startswith(PROMPTS) or line in (">>>", "..."):
            code.append(line[4:])
        elif not line.strip() and code and code[-1]:
            code.append("")
    return "\n".join(code).strip("\n") + "\n"


def with_copy_text(page_html: str) -> str:
    """``page_html`` with a ``data-copy`` attribute on every ``<pre>`` showing a doctest."""

    def mark(match: re.Match[str]) -> str:
        attributes, body = match.group("attributes"), match.group("body")
        code = code_without_prompts(html.unescape(TAG.sub("", body)))
        if code is None or "data-copy" in attributes:
            return match.group()
        return f'<pre{attributes} data-copy="{html.escape(code, quote=True)}">{body}</pre>'

    return PRE.sub(mark, page_html)


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    return with_copy_text(html)

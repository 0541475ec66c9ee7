"""The documentation site and the doctests read the same pages, and every example runs."""

from __future__ import annotations

import collections.abc as c
import importlib.util
import re
from pathlib import Path

import griffe
import pytest
from mkdocs.config import load_config

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
# The block form of a pymdownx.snippets include: Python formatters leave it alone.
SNIPPET = re.compile(r"^--8<--\n([^:\n]+)(?::[\w-]+)?\n--8<--$")


def nav_pages(nav: c.Iterable[object]) -> c.Iterator[str]:
    for entry in nav:
        if isinstance(entry, str):
            yield entry
        elif isinstance(entry, dict):
            for value in entry.values():
                yield from nav_pages([value] if isinstance(value, str) else value)


def markdown_files() -> list[Path]:
    """What pytest collects as doctests (``--doctest-glob=*.md`` over docs/ and the README)."""
    return [*sorted(DOCS.rglob("*.md")), ROOT / "README.md"]


def test_every_markdown_file_under_docs_is_a_page_in_the_nav():
    config = load_config(str(ROOT / "mkdocs.yml"))
    pages = {DOCS / page for page in nav_pages(config.nav or [])}

    assert set(DOCS.rglob("*.md")) == pages


def test_build_code_under_docs_is_excluded_from_the_pages():
    config = load_config(str(ROOT / "mkdocs.yml"))
    hooks = [path.relative_to(DOCS).as_posix() for path in DOCS.glob("hooks/*.py")]

    assert hooks
    assert config.exclude_docs is not None
    assert all(config.exclude_docs.match_file(hook) for hook in hooks)


@pytest.mark.parametrize("page", markdown_files(), ids=lambda path: path.name)
def test_every_python_example_is_a_doctest_or_a_tested_file(page):
    for language, body in FENCE.findall(page.read_text(encoding="utf-8")):
        if language not in ("python", "py", "pycon"):
            continue
        snippet = SNIPPET.match(body.strip())
        if snippet:
            included = ROOT / snippet.group(1)
            assert included.is_file(), f"{page.name}: {included} does not exist"
            assert included.parts[len(ROOT.parts)] in ("tests", "examples"), (
                f"{page.name}: include only code the test suite runs, not {snippet.group(1)}"
            )
        else:
            assert body.lstrip().startswith(">>>"), (
                f"{page.name}: a python example that is not a >>> session does not run:\n{body}"
            )


def test_the_api_page_shows_sphinx_roles_as_code():
    spec = importlib.util.spec_from_file_location(
        "sphinx_roles", DOCS / "hooks" / "sphinx_roles.py"
    )
    assert spec is not None and spec.loader is not None
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)

    package = griffe.load(
        "statesignals",
        search_paths=[str(ROOT)],
        extensions=griffe.load_extensions(hook.SphinxRoles()),
    )

    docstring = package["dispatch.WorkflowSignal.send"].docstring
    assert docstring is not None
    assert "`ReceiverError`" in docstring.value
    assert ":class:" not in docstring.value

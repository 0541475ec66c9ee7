"""The documentation site and the doctests read the same pages, and every example runs."""

from __future__ import annotations

import ast
import collections.abc as c
import html
import importlib.util
import re
import typing as t
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


@pytest.mark.parametrize("page", ["index.md", "getting-started.md"])
def test_the_install_line_says_diagrams_render_after_a_plain_install(page: str) -> None:
    text = (DOCS / page).read_text()
    install = text.index("pip install transitions-statesignals")
    nearby = " ".join(text[install : install + 600].split())
    assert "graphviz-pure" in nearby
    assert "`dot`" in nearby
    assert "[render]" not in text


def snippet_sections(page: str) -> str:
    """The text of every section a page includes with ``--8<--`` blocks."""
    included = []
    for _, body in FENCE.findall((DOCS / page).read_text()):
        snippet = re.match(r"^--8<--\n([^:\n]+):([\w-]+)\n--8<--$", body.strip())
        if snippet:
            path, section = snippet.groups()
            text = (ROOT / path).read_text()
            start = text.index(f"--8<-- [start:{section}]")
            included.append(text[start : text.index(f"--8<-- [end:{section}]")])
    return "\n".join(included)


def test_the_testing_page_shows_every_helper_its_included_tests_use() -> None:
    shown = snippet_sections("testing.md")
    for helper in ("store", "place", "table"):
        assert f"{helper}(" in shown
        assert f"def {helper}(" in shown, f"testing.md uses {helper}() but never shows it"


def copy_hook() -> t.Any:
    spec = importlib.util.spec_from_file_location("copy_code", DOCS / "hooks" / "copy_code.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_site_runs_the_copy_hook() -> None:
    config = load_config(str(ROOT / "mkdocs.yml"))
    hooks: dict[str, t.Any] = dict(t.cast(t.Any, config.hooks))
    assert str(DOCS / "hooks" / "copy_code.py") in {
        str(Path(hook.__file__).resolve()) for hook in hooks.values()
    }


@pytest.mark.parametrize("page", [path.name for path in sorted(DOCS.glob("*.md"))])
def test_copying_an_example_gives_code_without_prompts_that_compiles(page: str) -> None:
    hook = copy_hook()
    for language, body in FENCE.findall((DOCS / page).read_text()):
        if language != "python" or ">>>" not in body:
            continue
        code = hook.code_without_prompts(body)
        assert ">>>" not in code and "\n... " not in code
        compile(code, page, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


def test_the_copy_button_of_a_rendered_doctest_copies_its_code() -> None:
    import markdown  # type: ignore[import-untyped]

    page = markdown.markdown(
        '```python\n>>> total = 2 + 3\n>>> if total:\n...     print("<total>")\n<total>\n```\n',
        extensions=["pymdownx.highlight", "pymdownx.superfences"],
    )
    marked = copy_hook().with_copy_text(page)
    copied = re.search(r'data-copy="([^"]*)"', marked)
    assert copied is not None
    assert html.unescape(copied.group(1)) == 'total = 2 + 3\nif total:\n    print("<total>")\n'
    assert ">>>" in html.unescape(re.sub(r"<[^>]+>", "", marked))  # the page still shows it


# What a code block of the site's content column shows without scrolling sideways.
CODE_COLUMNS = 80


def test_code_on_the_home_page_fits_the_column() -> None:
    for _, body in FENCE.findall((DOCS / "index.md").read_text()):
        for line in body.splitlines():
            assert len(line) <= CODE_COLUMNS, f"index.md: {line!r} is cut off on the page"

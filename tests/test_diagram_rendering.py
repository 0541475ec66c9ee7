"""Rendering diagrams to SVG and PNG: with ``dot``, with graphviz-pure, or a clear error."""

from __future__ import annotations

import os
import shutil
import stat
import struct
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from statesignals import DiagramError, SignalingMachine, Trigger, diagram, rendering

SVG = "{http://www.w3.org/2000/svg}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class Ticket(SignalingMachine):
    states = ["new", "assigned", "waiting on customer", {"name": "closed", "final": True}]
    initial = "new"
    transitions = [
        {"trigger": "assign", "source": "new", "dest": "assigned"},
        {"trigger": "ask", "source": "assigned", "dest": "waiting on customer"},
        {"trigger": "reply", "source": "waiting on customer", "dest": "assigned"},
        {"trigger": "close", "source": "assigned", "dest": "closed", "conditions": "is_solved"},
    ]

    assign: Trigger

    def is_solved(self) -> bool:
        return True


def svg_texts(data: bytes) -> set[str]:
    root = ElementTree.fromstring(data)
    assert root.tag == f"{SVG}svg"
    return {element.text or "" for element in root.iter(f"{SVG}text")}


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture
def no_dot(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make sure a system Graphviz on this machine does not hide the fallback."""
    real_which = shutil.which

    def which(name: str, mode: int = os.F_OK | os.X_OK, path: str | None = None) -> str | None:
        return None if name == "dot" else real_which(name, mode, path)

    monkeypatch.setattr(shutil, "which", which)


def test_renderer_falls_back_to_graphviz_pure_without_a_system_dot(no_dot: None) -> None:
    assert Path(rendering.renderer()).name == "graphviz-pure"


def test_svg_parses_as_xml_and_names_every_state(no_dot: None, tmp_path: Path) -> None:
    written = diagram(Ticket, title="Tickets").render(tmp_path / "ticket.svg")
    texts = svg_texts(written.read_bytes())
    assert {"new", "assigned", "waiting on customer", "closed", "Tickets"} <= texts
    assert "close [is_solved]" in texts


def test_png_has_the_png_signature_and_a_sane_size(no_dot: None, tmp_path: Path) -> None:
    written = diagram(Ticket).render(tmp_path / "ticket.png")
    width, height = png_size(written.read_bytes())
    assert 200 <= width <= 4000
    assert 50 <= height <= 4000
    assert width > height  # drawn left to right


def test_top_down_layout_is_taller_than_wide(no_dot: None) -> None:
    width, height = png_size(diagram(Ticket, direction="TB").pipe("png"))
    assert height > width


def test_the_current_state_is_filled_in_the_svg(no_dot: None) -> None:
    ticket = Ticket()
    ticket.assign()
    root = ElementTree.fromstring(diagram(ticket).pipe("svg"))
    filled = {
        group.get("id")
        for group in root.iter(f"{SVG}g")
        for shape in group
        if shape.tag in (f"{SVG}path", f"{SVG}polygon") and shape.get("fill") == "#ffe08a"
    }
    assert filled == {"state_assigned"}


def test_the_dot_program_is_used_when_it_is_on_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pure = rendering._graphviz_pure()
    assert pure is not None
    log = tmp_path / "calls.log"
    dot = tmp_path / "bin" / "dot"
    dot.parent.mkdir()
    # A stand-in for a system Graphviz that notes each call, then renders.
    dot.write_text(f'#!/bin/sh\necho "$@" >> {log}\nexec {pure} "$@"\n')
    dot.chmod(dot.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{dot.parent}{os.pathsep}{os.environ['PATH']}")
    assert rendering.renderer() == str(dot)
    assert svg_texts(diagram(Ticket).pipe("svg")) >= {"new", "closed"}
    assert log.read_text().split() == ["-Tsvg"]


def test_without_any_renderer_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name, *args, **kwargs: None)
    with pytest.raises(DiagramError) as raised:
        diagram(Ticket).render(tmp_path / "ticket.svg")
    message = str(raised.value)
    assert "(pip install graphviz-pure)" in message
    assert "Graphviz" in message
    assert not (tmp_path / "ticket.svg").exists()
    # Text formats need no renderer.
    assert diagram(Ticket).render(tmp_path / "ticket.dot").read_text().startswith("digraph")
    assert "stateDiagram-v2" in diagram(Ticket).render(tmp_path / "ticket.mmd").read_text()


def test_a_renderer_failure_is_a_diagram_error_with_its_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "dot"
    broken.write_text("#!/bin/sh\necho 'Error: syntax error in line 1' >&2\nexit 1\n")
    broken.chmod(broken.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(DiagramError, match="Ticket: dot failed to render svg: Error: syntax"):
        diagram(Ticket).pipe("svg")


def test_format_comes_from_the_suffix_or_is_refused(tmp_path: Path) -> None:
    with pytest.raises(
        DiagramError, match=r"cannot tell the diagram format from the suffix '.pdf'"
    ):
        diagram(Ticket).render(tmp_path / "ticket.pdf")
    written = diagram(Ticket).render(tmp_path / "ticket.txt", "mermaid")
    assert written.read_text().startswith("stateDiagram-v2")
    with pytest.raises(DiagramError, match="can render svg or png, not 'pdf'"):
        diagram(Ticket).pipe("pdf")  # type: ignore[arg-type]


def test_graphviz_pure_is_found_next_to_the_interpreter_when_not_on_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    found = rendering._graphviz_pure()
    assert found is not None
    assert Path(found).parent == Path(sys.executable).parent
    assert rendering.renderer() == found


def test_a_diagram_shows_itself_as_svg_in_notebooks(no_dot: None) -> None:
    assert "waiting on customer" in diagram(Ticket)._repr_svg_()


def test_state_names_with_colons_quotes_and_accents_render_as_written(no_dot: None) -> None:
    from statesignals import diagram
    from statesignals.definition import WorkflowDefinition

    names = ("review: legal", 'say "yes"', "geprüft")
    workflow = WorkflowDefinition(
        states=names,
        transitions=(
            {"trigger": "approve", "source": names[0], "dest": names[1]},
            {"trigger": "check", "source": names[1], "dest": names[2]},
        ),
        initial=names[0],
    )
    drawn = diagram(workflow, name="Odd", state=names[1])
    assert set(names) <= svg_texts(drawn.pipe("svg"))
    mermaid = drawn.mermaid()
    assert '    state "say #quot;yes#quot;" as say__yes_' in mermaid
    assert '    state "geprüft" as gepr_ft' in mermaid
    assert "    review__legal --> say__yes_: approve" in mermaid

"""Rendering DOT source to SVG or PNG with Graphviz's ``dot`` or the ``graphviz-pure`` wheel."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import typing as t
from pathlib import Path

from .errors import DiagramError

ImageFormat = t.Literal["svg", "png"]

INSTALL_HINT = (
    "install the graphviz-pure wheel, a dependency of transitions-statesignals "
    "(pip install graphviz-pure), "
    "or Graphviz's dot program (https://graphviz.org/download/); "
    "DOT and Mermaid text need neither"
)


def _graphviz_pure() -> str | None:
    found = shutil.which("graphviz-pure")
    if found:
        return found
    # Installed into the running environment but not on PATH (a venv not activated).
    for directory in {sysconfig.get_path("scripts"), os.path.dirname(sys.executable)}:
        candidate = shutil.which("graphviz-pure", path=directory)
        if candidate:
            return candidate
    return None


def renderer() -> str:
    """The program that renders SVG and PNG: Graphviz's ``dot`` or ``graphviz-pure``.

    ``dot`` is used when it is on ``PATH``; otherwise ``graphviz-pure`` from the
    ``render`` extra. Raises :class:`~statesignals.DiagramError` saying what to
    install when neither is there.
    """
    program = shutil.which("dot") or _graphviz_pure()
    if program is None:
        raise DiagramError(f"rendering SVG or PNG needs a Graphviz renderer: {INSTALL_HINT}")
    return program


def render_dot(source: str, format: ImageFormat, *, what: str = "diagram") -> bytes:
    """Render DOT ``source`` to SVG or PNG bytes with :func:`renderer`."""
    program = renderer()
    try:
        completed = subprocess.run(
            [program, f"-T{format}"], input=source.encode("utf-8"), capture_output=True, check=False
        )
    except OSError as error:
        raise DiagramError(f"{what}: cannot run {program}: {error}; {INSTALL_HINT}") from error
    if completed.returncode != 0:
        message = completed.stderr.decode("utf-8", "replace").strip().replace("\n", " ")
        raise DiagramError(f"{what}: {Path(program).name} failed to render {format}: {message}")
    return completed.stdout


__all__ = ["INSTALL_HINT", "ImageFormat", "render_dot", "renderer"]

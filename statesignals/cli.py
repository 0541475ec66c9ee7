"""The ``statesignals`` command: draw, validate and describe workflows.

::

    statesignals example order
    statesignals validate order.yaml --base statesignals.examples:OrderRules
    statesignals describe order.yaml
    statesignals init expense_report
    statesignals diagram expense_report:ExpenseReport -o expense_report.svg
    statesignals relay --database sqlite:///shop.db --celery shop.tasks:app
    statesignals outbox status --database sqlite:///shop.db

A TARGET is ``module:Class`` (a :class:`~statesignals.SignalingMachine`
subclass) or a workflow file (``.json``, ``.yaml``, ``.yml``). Errors are one
line on standard error and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import collections.abc as c
import importlib
import os
import sys
import typing as t
from pathlib import Path

from .analysis import WorkflowGraph, validate
from .declarative import SignalingMachine
from .definition import WorkflowDefinition
from .diagrams import OUTPUT_FORMATS, Diagram, diagram, format_for
from .errors import StateSignalsError, WorkflowDefinitionError
from .files import (
    MAX_FILE_BYTES,
    check_definition,
    class_name,
    definition_from,
    load_workflow,
    read_workflow,
)
from .outbox_commands import add_commands as add_outbox_commands
from .text import printable

EXIT_FINDINGS = 1
EXIT_ERROR = 2
FILE_SUFFIXES = (".json", ".yaml", ".yml")


class CommandError(Exception):
    """A bad target or option: reported as one line, exit status 2."""


def import_object(reference: str) -> t.Any:
    """The object a ``module:attribute`` reference names."""
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise CommandError(f"{reference!r} is neither a workflow file nor 'module:Class'")
    # Like ``python -m``, find modules in the current directory.
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise CommandError(f"cannot import {module_name!r}: {error}") from error
    except Exception as error:  # the user's module raised while being imported
        raise CommandError(
            f"importing {module_name!r} raised {type(error).__name__}: {error}"
        ) from error
    found: t.Any = module
    for part in attribute.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            raise CommandError(f"module {module_name!r} has no attribute {attribute!r}") from None
    return found


def _signaling_class(reference: str, label: str) -> type[SignalingMachine]:
    found = import_object(reference)
    if not (isinstance(found, type) and issubclass(found, SignalingMachine)):
        raise CommandError(f"{label} is not a SignalingMachine subclass")
    return found


def model_class(reference: str) -> type[SignalingMachine]:
    """The SignalingMachine subclass (with a workflow) that ``module:Class`` names."""
    found = _signaling_class(reference, reference)
    if not isinstance(getattr(found, "workflow", None), WorkflowDefinition):
        raise CommandError(f"{reference} declares no workflow")
    return found


def _is_file(target: str) -> bool:
    return Path(target).suffix.lower() in FILE_SUFFIXES or Path(target).is_file()


def _base(reference: str | None) -> type[SignalingMachine]:
    """The class whose methods a file's guard names refer to (``--base``)."""
    if reference is None:
        return SignalingMachine
    return _signaling_class(reference, f"--base {reference}")


def _file_workflow(target: str, options: argparse.Namespace) -> tuple[WorkflowDefinition, str]:
    """A file's workflow and name, without looking up its guards (nothing is compiled)."""
    data = read_workflow(target, max_bytes=options.max_bytes)
    name = class_name(data, target)
    definition = definition_from(data)
    check_definition(definition, printable(target), name)
    return definition, name


def _graph(target: str, options: argparse.Namespace) -> WorkflowGraph:
    if _is_file(target):
        definition, name = _file_workflow(target, options)
        return WorkflowGraph.from_definition(definition, name)
    return WorkflowGraph.of(model_class(target))


def _diagram(target: str, options: argparse.Namespace) -> Diagram:
    settings: dict[str, t.Any] = {
        "title": options.title,
        "direction": options.direction,
        "auto_transitions": options.auto_transitions,
        "state": options.state,
        "transition": options.transition,
    }
    if _is_file(target):
        definition, name = _file_workflow(target, options)
        return diagram(definition, name=name, **settings)
    return diagram(model_class(target), **settings)


def run_diagram(options: argparse.Namespace, out: t.TextIO) -> int:
    output: Path | None = options.output
    chosen = options.format or (format_for(output) if output is not None else "dot")
    if options.transition and not options.state:
        raise CommandError("--transition needs --state (the state it led to)")
    drawn = _diagram(options.target, options)
    if output is not None:
        drawn.render(output, chosen)
        return 0
    if chosen == "png":
        raise CommandError("png is binary: write it to a file with -o FILE.png")
    if chosen == "svg":
        out.write(drawn.pipe("svg").decode("utf-8"))
    elif chosen == "mermaid":
        out.write(drawn.mermaid())
    else:
        out.write(drawn.source)
    return 0


def run_validate(options: argparse.Namespace, out: t.TextIO) -> int:
    target: str = options.target
    try:
        if _is_file(target):
            loaded = load_workflow(
                target,
                base=_base(options.base),
                allowed_imports=options.allow_import,
                max_bytes=options.max_bytes,
            )
        else:
            loaded = model_class(target)
    except WorkflowDefinitionError as error:
        out.write("".join(f"{_one_line(mistake)}\n" for mistake in error.mistakes))
        return EXIT_FINDINGS
    except StateSignalsError as error:
        out.write(f"{_one_line(error)}\n")
        return EXIT_FINDINGS
    findings = validate(loaded)
    where = printable(target)
    for finding in findings:
        out.write(f"{where}: {finding.severity}: {printable(str(finding))}\n")
    errors = sum(finding.severity == "error" for finding in findings)
    warnings = len(findings) - errors
    if errors or (warnings and options.strict):
        return EXIT_FINDINGS
    states = sum(1 for _ in WorkflowGraph.of(loaded).walk())
    noted = f", {warnings} warning{'s' if warnings > 1 else ''}" if warnings else ""
    out.write(f"{where}: {loaded.__qualname__} is valid ({states} states{noted})\n")
    return 0


def describe_table(graph: WorkflowGraph) -> str:
    """The transitions of ``graph`` as an aligned text table."""
    rows = [("trigger", "source", "dest", "guards")]
    for transition in graph.transitions:
        if transition.dest is None:
            dest = "(internal)"
        else:
            dest = "(same state)" if transition.dest == "=" else transition.dest
        cells = (transition.trigger, ", ".join(transition.sources), dest, *transition.guards)
        trigger, sources, dest, *guards = map(printable, cells)
        rows.append((trigger, sources, dest, ", ".join(guards)))
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    finals = [printable(state.name) for state in graph.walk() if state.final]
    header = [f"{printable(graph.name)}: initial state {printable(repr(graph.initial))}"]
    if finals:
        header.append(f"final: {', '.join(finals)}")
    if graph.auto_transitions:
        header.append("plus to_<state> auto transitions")
    return "; ".join(header) + "\n" + "\n".join(lines) + "\n"


def run_describe(options: argparse.Namespace, out: t.TextIO) -> int:
    out.write(describe_table(_graph(options.target, options)))
    return 0


def run_example(options: argparse.Namespace, out: t.TextIO) -> int:
    from .examples import EXAMPLES

    if options.name is None:
        for example in EXAMPLES.values():
            out.write(
                f"{example.name}: {example.file_name}, {example.description} "
                f"(--base {example.base_reference})\n"
            )
        return 0
    if options.name not in EXAMPLES:
        raise CommandError(f"no example {options.name!r}; choose one of {', '.join(EXAMPLES)}")
    example = EXAMPLES[options.name]
    written = example.copy_to(options.dir)
    out.write(
        f"wrote {written}\ntry: statesignals validate {written} --base {example.base_reference}\n"
    )
    return 0


def run_init(options: argparse.Namespace, out: t.TextIO) -> int:
    from .starter import starter_names, write_starter

    written = write_starter(options.name, options.dir)
    names = starter_names(options.name)
    out.write("".join(f"wrote {path}\n" for path in written))
    module, model, rules = names["module"], names["model"], names["rules"]
    out.write(
        f"try: statesignals validate {written[0]} --base {module}:{rules}\n"
        f"     statesignals diagram {module}:{model} -o {options.name}.svg\n"
    )
    return 0


def _one_line(error: BaseException) -> str:
    return printable(" ".join(str(error).split()))


def parser() -> argparse.ArgumentParser:
    """The command-line parser (``statesignals --help``)."""
    main_parser = argparse.ArgumentParser(
        prog="statesignals",
        description="Draw, validate and describe statesignals workflows; relay their outbox.",
        epilog="TARGET is module:Class (a SignalingMachine subclass) or a .json/.yaml file.",
    )
    main_parser.add_argument(
        "--traceback", action="store_true", help="show the full traceback of an error"
    )
    main_parser.add_argument(
        "--max-bytes",
        type=int,
        default=MAX_FILE_BYTES,
        metavar="N",
        help=f"read workflow files up to N bytes (default: {MAX_FILE_BYTES:,})",
    )
    commands = main_parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    draw = commands.add_parser(
        "diagram",
        help="draw a workflow as SVG, PNG, DOT or Mermaid",
        description="Draw a workflow. Without -o, DOT, SVG or Mermaid text goes to stdout.",
    )
    draw.add_argument("target", metavar="TARGET")
    draw.add_argument("-o", "--output", type=Path, metavar="FILE", help="write to FILE")
    draw.add_argument(
        "-f",
        "--format",
        choices=OUTPUT_FORMATS,
        help="output format (default: from FILE's suffix, else dot)",
    )
    draw.add_argument("--state", metavar="S", help="highlight state S as the current one")
    draw.add_argument(
        "--transition", metavar="TRIGGER", help="highlight the TRIGGER transition that led to S"
    )
    draw.add_argument("--title", help="a title above the diagram")
    draw.add_argument(
        "--direction",
        choices=("LR", "TB"),
        default="LR",
        help="left to right (default) or top down",
    )
    draw.add_argument(
        "--auto-transitions", action="store_true", help="also draw the to_<state> transitions"
    )
    draw.set_defaults(run=run_diagram)

    check = commands.add_parser(
        "validate",
        help="check a workflow; report unreachable states and dead ends",
        description=(
            "Load and check a workflow: the file's schema, its states, guards and "
            "callbacks (errors), then unreachable states (errors) and non-final dead "
            "ends (warnings). Exit status 1 on any error, 0 otherwise; --strict makes "
            "warnings errors."
        ),
    )
    check.add_argument("target", metavar="TARGET")
    check.add_argument(
        "--base",
        metavar="MODULE:CLASS",
        help="the SignalingMachine subclass whose methods the file's guard names refer to",
    )
    check.add_argument(
        "--allow-import",
        action="append",
        default=[],
        metavar="MODULE",
        help="let the file's dotted guard names import from MODULE (repeatable)",
    )
    check.add_argument(
        "--strict", action="store_true", help="treat warnings (dead ends) as errors: exit 1"
    )
    check.set_defaults(run=run_validate)

    table = commands.add_parser(
        "describe",
        help="list a workflow's triggers, sources, destinations and guards",
        description="Print a table of a workflow's transitions.",
    )
    table.add_argument("target", metavar="TARGET")
    table.set_defaults(run=run_describe)

    copy = commands.add_parser(
        "example",
        help="list the example workflow files, or copy one into a directory",
        description="Without NAME, list the examples shipped with statesignals; "
        "with NAME, copy that workflow file into --dir (never overwriting a file).",
    )
    copy.add_argument("name", metavar="NAME", nargs="?")
    copy.add_argument("-d", "--dir", type=Path, default=Path(), help="where to write it")
    copy.set_defaults(run=run_example)

    start = commands.add_parser(
        "init",
        help="write a starter workflow file and the model module that loads it",
        description="Write NAME.yaml (a workflow) and NAME.py (its guards and the model "
        "class loaded from the file) into --dir; existing files are never overwritten.",
    )
    start.add_argument("name", metavar="NAME", help="a module name, such as expense_report")
    start.add_argument("-d", "--dir", type=Path, default=Path(), help="where to write them")
    start.set_defaults(run=run_init)
    add_outbox_commands(commands)
    return main_parser


def main(argv: c.Sequence[str] | None = None) -> int:
    """Run the ``statesignals`` command; returns its exit status."""
    options = parser().parse_args(argv)
    try:
        return t.cast(int, options.run(options, sys.stdout))
    except (CommandError, StateSignalsError, OSError) as error:
        if options.traceback:
            raise
        print(f"statesignals: error: {_one_line(error)}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as error:  # a case no check foresaw: still one line, never a traceback
        if options.traceback:
            raise
        print(
            f"statesignals: error: internal error: {type(error).__name__}: {_one_line(error)} "
            "(--traceback shows where)",
            file=sys.stderr,
        )
        return EXIT_ERROR


__all__ = ["describe_table", "main", "parser"]

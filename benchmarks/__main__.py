"""``python -m benchmarks``: run every line, print the table, write the results as JSON."""

from __future__ import annotations

import argparse
import collections.abc as c
import dataclasses
import json
import os
import platform
import sys
import time
from importlib import metadata
from pathlib import Path

from .suite import LINES, Row, format_value, missing_row

DEFAULT_OUTPUT = Path(__file__).parent / "results" / "latest.json"
COLUMNS = ("measure", "statesignals", "anchor", "ratio", "target", "met?")


def environment() -> dict[str, str]:
    """The machine and the versions a run was made with."""
    versions = {
        name: metadata.version(name)
        for name in ("transitions-statesignals", "transitions", "blinker", "python-statemachine")
        if _installed(name)
    }
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "machine": f"{platform.system()} {platform.machine()}, {cpu_model()} x {os.cpu_count()}",
        **versions,
    }


def cpu_model() -> str:
    """The processor's name as Linux reports it, else what platform knows."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _installed(distribution: str) -> bool:
    try:
        metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True


def table(rows: list[Row]) -> str:
    """The rows as a Markdown table: measure | statesignals | anchor | ratio | target | met?."""
    lines = [
        [
            row.measure,
            _value(row.subject, row.subject_value, row.unit),
            _value(row.anchor, row.anchor_value, row.unit),
            "-" if row.ratio is None else f"{row.ratio:.2f}",
            row.target,
            {True: "yes", False: "NO", None: row.note or "-"}[row.met],
        ]
        for row in rows
    ]
    widths = [max(len(cells[i]) for cells in [list(COLUMNS), *lines]) for i in range(6)]

    def render(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([render(list(COLUMNS)), rule, *(render(cells) for cells in lines)])


def _value(label: str, value: float | None, unit: str) -> str:
    if value is None:
        return label
    return f"{format_value(value, unit)} ({label})"


def measure(line: c.Callable[[int], Row], rounds: int) -> Row:
    """Run one line; a line that raises is reported in the table, not fatal to the run."""
    try:
        return line(rounds)
    except Exception as error:
        return missing_row(line.__name__, "-", "-", f"failed: {type(error).__name__}: {error}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT, help="JSON file")
    parser.add_argument("--rounds", type=int, default=41, help="rounds per timed line")
    parser.add_argument("-k", "--only", default="", help="run lines whose name contains this")
    options = parser.parse_args(argv)
    started = time.perf_counter()
    env = environment()
    print(", ".join(f"{key} {value}" for key, value in env.items()))
    rows = []
    for line in LINES:
        if options.only in line.__name__:
            rows.append(measure(line, options.rounds))
            print(f"  measured {rows[-1].measure}", file=sys.stderr)
    print(table(rows))
    missed = [row.measure for row in rows if row.met is False]
    print(
        f"{len(rows)} lines in {time.perf_counter() - started:.0f} s; targets missed: {len(missed)}"
    )
    options.output.parent.mkdir(parents=True, exist_ok=True)
    results = {"environment": env, "rows": [dataclasses.asdict(row) for row in rows]}
    options.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results written to {options.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

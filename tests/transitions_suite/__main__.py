"""Run ``transitions``' own test suite with the plain classes and with their twins.

``python -m tests.transitions_suite`` (``make transitions-suite``; part of ``make test``).
Exits non-zero when a test that passes with the plain classes fails, errors or is
skipped with the twins.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

from .statesignals_twins import EXCLUDED

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "transitions-suite"
# It lints transitions' own source with pycodestyle (not a dependency here): it says
# nothing about machines and is left out of both runs.
IGNORED = ["tests/test_codestyle.py"]


def fetch(version: str, cache: Path) -> Path:
    """The suite of ``transitions`` ``version``, extracted from its sdist into ``cache``."""
    suite = cache / f"transitions-{version}"
    if (suite / "tests" / "__init__.py").exists():
        return suite
    cache.mkdir(parents=True, exist_ok=True)
    sdist = cache / f"transitions-{version}.tar.gz"
    if not sdist.exists():
        subprocess.run(
            [
                *(sys.executable, "-m", "pip", "download", "--quiet"),
                *("--disable-pip-version-check", "--no-deps", "--no-binary", ":all:"),
                *("--dest", str(cache), f"transitions=={version}"),
            ],
            check=True,
        )
    top = f"transitions-{version}/"
    with tarfile.open(sdist) as archive:
        for member in archive.getmembers():
            path = member.name.removeprefix(top)
            if path in ("conftest.py", "pytest.ini") or path.startswith("tests/"):
                member.name = path
                archive.extract(member, suite, filter="data")
    return suite


def run(suite: Path, twins: bool) -> dict[str, str]:
    """Each test's outcome (``passed``, ``failed``, ``skipped``) in one run of ``suite``."""
    name = "twins" if twins else "plain"
    report = suite / f"{name}.xml"
    command = [sys.executable, "-m", "pytest", "-q", "--tb=short", "-p", "no:cacheprovider"]
    # Its pytest.ini stops at the first failure (-x); both runs must go to the end.
    command += ["-o", "addopts=", f"--junitxml={report}", "--rootdir", str(suite)]
    command += [f"--ignore={path}" for path in IGNORED]
    # Its diagram tests that fail without Graphviz's dot program leave temporary files
    # open; the ResourceWarning is raised in whichever test runs when they are collected,
    # which differs from run to run.
    command += [
        "-W",
        "ignore::ResourceWarning",
        "-W",
        "ignore::pytest.PytestUnraisableExceptionWarning",
    ]
    if twins:
        command += ["-p", "statesignals_twins"]
    # Its package is called tests too: the plugin is found by its own directory.
    environment = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    with (suite / f"{name}.log").open("w") as log:
        subprocess.run(
            [*command, "tests"], cwd=suite, env=environment, stdout=log, stderr=log, check=False
        )
    return outcomes(report)


def outcomes(report: Path) -> dict[str, str]:
    results = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        # junit names a test by dotted class path; rebuild pytest's node id.
        parts = case.get("classname", "").split(".")
        test_class = parts[-1] if parts[-1][:1].isupper() else None
        module_parts = parts[:-1] if test_class else parts
        node = "/".join(module_parts) + ".py"
        node += f"::{test_class}" if test_class else ""
        node += f"::{case.get('name')}"
        kinds = {child.tag for child in case}
        if kinds & {"failure", "error"}:
            results[node] = "failed"
        elif "skipped" in kinds:
            results[node] = "skipped"
        else:
            results[node] = "passed"
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=CACHE)
    options = parser.parse_args(argv)
    version = importlib.metadata.version("transitions")
    suite = fetch(version, options.cache)
    plain = run(suite, twins=False)
    twinned = run(suite, twins=True)
    regressed = sorted(
        node
        for node, outcome in plain.items()
        if outcome == "passed" and node not in EXCLUDED and twinned.get(node) != "passed"
    )

    def counts(results: dict[str, str]) -> str:
        values = list(results.values())
        return ", ".join(f"{values.count(kind)} {kind}" for kind in ("passed", "failed", "skipped"))

    print(f"transitions {version} suite, plain classes: {counts(plain)}")
    print(
        f"transitions {version} suite, signaling twins: {counts(twinned)}, {len(EXCLUDED)} excluded"
    )
    for node in regressed:
        print(f"  passes with the plain classes, not with the twins: {node}")
    if regressed:
        print(f"  tracebacks: {suite / 'twins.log'}")
    return 1 if regressed else 0


if __name__ == "__main__":
    sys.exit(main())

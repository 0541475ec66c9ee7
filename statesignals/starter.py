"""``statesignals init``: a starter workflow file and the model module that loads it."""

from __future__ import annotations

import keyword
from pathlib import Path

from .errors import StateSignalsError

WORKFLOW = """\
# The {name} workflow. Guards and callbacks are methods of {module}:{rules}.
# Check it:  statesignals validate {name}.yaml --base {module}:{rules}
# Draw it:   statesignals diagram {module}:{model} -o {name}.svg
name: {model}
description: A {title} that is drafted, reviewed, then approved or rejected.
initial: draft
states:
  - draft
  - in_review
  - name: approved
    final: true
  - name: rejected
    final: true
transitions:
  - trigger: submit
    source: draft
    dest: in_review
    conditions: is_complete
  - trigger: revise
    source: in_review
    dest: draft
  - trigger: approve
    source: in_review
    dest: approved
    after: notify
  - trigger: reject
    source: in_review
    dest: rejected
    after: notify
"""

MODULE = '''\
"""The {title} model: its workflow is {name}.yaml, its guards and callbacks are here."""

from __future__ import annotations

from pathlib import Path

from statesignals import SignalingMachine, load_workflow


class {rules}(SignalingMachine):
    """What the {title} workflow decides with: the methods {name}.yaml names."""

    def __init__(self, text: str = "") -> None:
        self.text = text

    def is_complete(self) -> bool:
        return bool(self.text.strip())

    def notify(self) -> None:
        print(f"{{self!r}} is now {{self.state}}")


{model} = load_workflow(Path(__file__).with_name("{name}.yaml"), base={rules}, module=__name__)
'''


def starter_names(name: str) -> dict[str, str]:
    """The names a starter uses: ``expense_report`` gives the model ``ExpenseReport``."""
    if not name.isidentifier() or keyword.iskeyword(name) or not name.islower():
        raise StateSignalsError(
            f"{name!r} cannot name a module: use lower case letters, digits and underscores"
        )
    model = "".join(word.capitalize() for word in name.split("_") if word)
    return {
        "name": name,
        "module": name,
        "model": model,
        "rules": f"{model}Rules",
        "title": name.replace("_", " ").strip(),
    }


def write_starter(name: str, directory: str | Path = ".") -> list[Path]:
    """Write ``NAME.yaml`` and ``NAME.py`` into ``directory``; existing files are never
    overwritten. Returns the paths written."""
    names = starter_names(name)
    folder = Path(directory)
    files = {folder / f"{name}.yaml": WORKFLOW, folder / f"{name}.py": MODULE}
    existing = [str(path) for path in files if path.exists()]
    if existing:
        raise StateSignalsError(f"{', '.join(existing)} exists already; nothing was written")
    folder.mkdir(parents=True, exist_ok=True)
    for path, template in files.items():
        path.write_text(template.format(**names), encoding="utf-8")
    return list(files)


__all__ = ["starter_names", "write_starter"]

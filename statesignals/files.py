"""Workflow files: a workflow as a dict, a JSON file or a YAML file, and back.

A workflow file holds what a class declares (``states``, ``transitions``,
``initial``, machine ``options``) plus its ``name`` and ``description``; guard
and callback names refer to methods of the base class it is loaded onto::

    Order = load_workflow("order.yaml", base=OrderRules)

Files are validated against the JSON Schema shipped with the package
(``statesignals/workflow.schema.json``), then checked like any declared
workflow; every error names the file and the path inside it
(``order.yaml: transitions[3].dest: 'shiped' is not a state``).
:func:`dump_workflow` and :func:`save_workflow` write a class's workflow back.
"""

from __future__ import annotations

import collections.abc as c
import functools
import inspect
import json
import os
import typing as t
from enum import Enum
from importlib import resources
from pathlib import Path

from .declarative import SignalingMachine
from .definition import TRANSITION_CALLBACK_FIELDS, WorkflowDefinition, machine_option_defaults
from .errors import WorkflowDefinitionError, WorkflowFileError

WorkflowSource = str | os.PathLike[str] | c.Mapping[str, t.Any]
"""A path to a ``.json``/``.yaml``/``.yml`` file, or the workflow as a dict."""

_DICT_ORIGIN = "<dict>"
_STATE_CALLBACKS = ("on_enter", "on_exit", "on_timeout")


@functools.cache
def workflow_schema() -> dict[str, t.Any]:
    """The JSON Schema of workflow files."""
    text = resources.files(__package__).joinpath("workflow.schema.json").read_text("utf-8")
    return t.cast(dict[str, t.Any], json.loads(text))


def json_path(location: c.Iterable[str | int]) -> str:
    """``("transitions", 3, "dest")`` as ``transitions[3].dest``."""
    path = ""
    for key in location:
        path += f"[{key}]" if isinstance(key, int) else f".{key}" if path else str(key)
    return path or "(top level)"


def _read(source: WorkflowSource) -> tuple[t.Any, str]:
    if isinstance(source, c.Mapping):
        return source, _DICT_ORIGIN
    path = Path(source)
    origin = str(source)
    suffix = path.suffix.lower()
    if suffix not in (".json", ".yaml", ".yml"):
        raise WorkflowFileError(
            f"{origin}: a workflow file is .json, .yaml or .yml, not {suffix or 'suffix-less'}"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise WorkflowFileError(f"{origin}: cannot read: {error.strerror or error}") from error
    if suffix == ".json":
        try:
            return json.loads(text), origin
        except json.JSONDecodeError as error:
            raise WorkflowFileError(
                f"{origin}:{error.lineno}:{error.colno}: invalid JSON: {error.msg}"
            ) from error
    import yaml  # imported on use: loading files is not every program's business

    try:
        return yaml.safe_load(text), origin
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{origin}:{mark.line + 1}:{mark.column + 1}" if mark else origin
        problem = getattr(error, "problem", None) or str(error)
        raise WorkflowFileError(f"{where}: invalid YAML: {problem}") from error


def _validate(data: t.Any, origin: str) -> dict[str, t.Any]:
    import jsonschema

    validator = jsonschema.Draft202012Validator(workflow_schema())
    errors = list(validator.iter_errors(data))
    best = jsonschema.exceptions.best_match(errors)
    if best is None:
        return t.cast(dict[str, t.Any], data)
    # Every complaint about the entry at fault: a misspelt key is both missing and unexpected.
    messages = {
        " ".join(error.message.split()): None
        for error in [best, *errors]
        if error is best
        or (error.absolute_path == best.absolute_path and error.validator not in ("anyOf", "oneOf"))
    }
    where = json_path(best.absolute_path)
    raise WorkflowFileError(f"{origin}: {where}: {'; '.join(messages)}")


def read_workflow(source: WorkflowSource) -> dict[str, t.Any]:
    """The workflow in ``source`` as a dict, validated against :func:`workflow_schema`."""
    data, origin = _read(source)
    return _validate(data, origin)


def definition_from(data: c.Mapping[str, t.Any]) -> WorkflowDefinition:
    """The :class:`~statesignals.definition.WorkflowDefinition` of a validated workflow dict."""
    return WorkflowDefinition(
        states=tuple(data["states"]),
        transitions=tuple(dict(entry) for entry in data.get("transitions", ())),
        initial=data["initial"],
        options=dict(data.get("options", {})),
    )


def load_definition(source: WorkflowSource) -> WorkflowDefinition:
    """The workflow in ``source``, schema-validated but not compiled into a class.

    Enough to draw or describe it; guard names are not looked up.
    """
    return definition_from(read_workflow(source))


def class_name(data: c.Mapping[str, t.Any], source: WorkflowSource, name: str | None = None) -> str:
    """The class name for a workflow: ``name``, else the file's ``name``, else the file name's."""
    if name:
        return name
    if "name" in data:
        return str(data["name"])
    if isinstance(source, c.Mapping):
        return "Workflow"
    words = Path(source).stem.replace("-", "_").split("_")
    candidate = "".join(word[:1].upper() + word[1:] for word in words if word)
    return candidate if candidate.isidentifier() else "Workflow"


def load_workflow(
    source: WorkflowSource,
    *,
    base: type[SignalingMachine] = SignalingMachine,
    name: str | None = None,
    module: str | None = None,
) -> type[SignalingMachine]:
    """Load a workflow into a new subclass of ``base``.

    ``base`` supplies the methods that guard and callback names refer to (and
    may choose ``machine_cls``); it declares no states of its own. The class is
    named by ``name``, else the file's ``name``, else the file name
    (``support_ticket.yaml`` gives ``SupportTicket``). Raises
    :class:`~statesignals.WorkflowFileError` naming the file and the path in it.
    """
    data, origin = _read(source)
    data = _validate(data, origin)
    if not (isinstance(base, type) and issubclass(base, SignalingMachine)):
        raise WorkflowFileError(f"{origin}: base must be a SignalingMachine subclass, not {base!r}")
    if isinstance(getattr(base, "workflow", None), WorkflowDefinition):
        raise WorkflowFileError(
            f"{origin}: base {base.__qualname__} declares a workflow of its own; "
            "load files onto a class that only supplies guards and callbacks"
        )
    name = class_name(data, source, name)
    namespace: dict[str, t.Any] = {
        "__module__": module or base.__module__,
        "__qualname__": name,
        "__doc__": data.get("description"),
        "states": data["states"],
        "transitions": data.get("transitions", []),
        "initial": data["initial"],
        **data.get("options", {}),
    }
    try:
        return type(name, (base,), namespace)
    except WorkflowFileError:
        raise
    except WorkflowDefinitionError as error:
        if error.location:
            raise WorkflowFileError(
                f"{origin}: {json_path(error.location)}: {error.problem}",
                location=error.location,
                problem=error.problem,
            ) from error
        raise WorkflowFileError(f"{origin}: {error}") from error


# Export.


def _fail_export(cls: type, where: str, value: t.Any) -> t.NoReturn:
    raise WorkflowFileError(
        f"{cls.__qualname__}: {where} is {value!r}, which a workflow file cannot hold; "
        "declare it by name (a method of the class) to export it"
    )


def _names(cls: type, where: str, value: t.Any) -> t.Any:
    """A state reference or callback list as plain names."""
    if isinstance(value, (list, tuple)):
        return [_names(cls, f"{where}[{index}]", item) for index, item in enumerate(value)]
    if isinstance(value, Enum):
        return value.name
    if value is None or isinstance(value, str):
        return value
    _fail_export(cls, where, value)


def _plain(cls: type, where: str, value: t.Any) -> t.Any:
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, (list, tuple)):
        return [_plain(cls, f"{where}[{index}]", item) for index, item in enumerate(value)]
    _fail_export(cls, where, value)


def _export_state(cls: type, where: str, spec: t.Any) -> t.Any:
    if not isinstance(spec, dict):
        return _names(cls, where, spec)
    exported: dict[str, t.Any] = {}
    for key, value in spec.items():
        if key in ("children", "parallel", "states"):
            exported["children" if key == "states" else key] = [
                _export_state(cls, f"{where}.{key}[{index}]", child)
                for index, child in enumerate(value)
            ]
        elif key == "transitions":
            exported[key] = [
                _export_transition(cls, f"{where}.transitions[{index}]", entry)
                for index, entry in enumerate(value)
            ]
        elif key in (*_STATE_CALLBACKS, "name", "initial"):
            exported[key] = _names(cls, f"{where}.{key}", value)
        else:
            exported[key] = _plain(cls, f"{where}.{key}", value)
    return exported


def _export_transition(cls: type, where: str, entry: c.Mapping[str, t.Any]) -> dict[str, t.Any]:
    exported: dict[str, t.Any] = {}
    for key, value in entry.items():
        if key in ("trigger", "source", "dest", *TRANSITION_CALLBACK_FIELDS):
            exported[key] = _names(cls, f"{where}.{key}", value)
        else:
            exported[key] = _plain(cls, f"{where}.{key}", value)
    return exported


def dump_workflow(model_class: type[SignalingMachine]) -> dict[str, t.Any]:
    """The workflow of ``model_class`` as a dict in the workflow-file format.

    Enum states are written by name; options left at their default are left
    out. Raises :class:`~statesignals.WorkflowFileError` for what a file
    cannot hold, such as a guard given as a function instead of a name.
    """
    workflow = getattr(model_class, "workflow", None)
    if not isinstance(workflow, WorkflowDefinition):
        raise WorkflowFileError(f"{model_class.__qualname__} declares no workflow to export")
    data: dict[str, t.Any] = {"name": model_class.__name__}
    description = model_class.__dict__.get("__doc__")
    if description:
        data["description"] = inspect.cleandoc(description)
    data["initial"] = _names(model_class, "initial", workflow.initial)
    data["states"] = [
        _export_state(model_class, f"states[{index}]", spec)
        for index, spec in enumerate(workflow.states)
    ]
    data["transitions"] = [
        _export_transition(model_class, f"transitions[{index}]", entry)
        for index, entry in enumerate(workflow.transitions)
    ]
    defaults = machine_option_defaults(model_class.machine_cls)
    options = {
        key: _plain(model_class, f"options.{key}", value)
        for key, value in workflow.options.items()
        # A keyword without a default (Parameter.empty) never equals a value: kept.
        if key in defaults and defaults[key] != value
    }
    if options:
        data["options"] = options
    return data


def save_workflow(model_class: type[SignalingMachine], path: str | os.PathLike[str]) -> Path:
    """Write the workflow of ``model_class`` to a ``.json``, ``.yaml`` or ``.yml`` file."""
    target = Path(path)
    data = dump_workflow(model_class)
    suffix = target.suffix.lower()
    if suffix == ".json":
        text = json.dumps(data, indent=2) + "\n"
    elif suffix in (".yaml", ".yml"):
        import yaml

        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    else:
        raise WorkflowFileError(f"{target}: a workflow file is .json, .yaml or .yml")
    target.write_text(text, encoding="utf-8")
    return target


__all__ = [
    "WorkflowSource",
    "class_name",
    "definition_from",
    "dump_workflow",
    "json_path",
    "load_definition",
    "load_workflow",
    "read_workflow",
    "save_workflow",
    "workflow_schema",
]

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
import stat
import typing as t
from enum import Enum
from importlib import resources
from pathlib import Path

from transitions import Machine
from transitions.extensions.nesting import HierarchicalMachine

from .checks import check_workflow
from .declarative import SignalingMachine
from .definition import (
    MACHINE_CALLBACK_OPTIONS,
    TRANSITION_CALLBACK_FIELDS,
    Location,
    WorkflowDefinition,
    machine_option_defaults,
    normalize_transitions,
)
from .errors import WorkflowDefinitionError, WorkflowFileError
from .text import printable as _printable

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


MAX_FILE_BYTES = 1_000_000
"""The largest workflow file read by default (``max_bytes=`` changes it): about 5,000 states."""

MAX_ALIAS_NODES = 10_000
"""How many nodes YAML aliases (``*anchor``) may add to a file once expanded."""

MAX_DEPTH = 100
"""How deeply lists and objects may nest in a workflow file (a state nested in another
takes three levels: the state, its ``children`` list, the child)."""


def _read(source: WorkflowSource, max_bytes: int = MAX_FILE_BYTES) -> tuple[t.Any, str]:
    if isinstance(source, c.Mapping):
        _check_shape(source, _DICT_ORIGIN)
        return source, _DICT_ORIGIN
    origin = _printable(os.fspath(source))
    if "\x00" in os.fspath(source):
        raise WorkflowFileError(f"{origin}: a file name cannot hold a NUL character")
    path = Path(source)
    suffix = path.suffix.lower()
    if suffix not in (".json", ".yaml", ".yml"):
        raise WorkflowFileError(
            f"{origin}: a workflow file is .json, .yaml or .yml, not {suffix or 'suffix-less'}"
        )
    text = _decode(_read_regular_file(path, origin, max_bytes), origin)
    try:
        data = _parse_json(text, origin) if suffix == ".json" else _parse_yaml(text, origin)
    except RecursionError:
        raise WorkflowFileError(f"{origin}: nested more than {MAX_DEPTH} levels deep") from None
    _check_shape(data, origin)
    return data, origin


def _read_regular_file(path: Path, origin: str, max_bytes: int) -> bytes:
    """The bytes of a regular file, refusing FIFOs, devices and files past ``max_bytes``."""
    try:
        # Non-blocking: opening a FIFO must not wait for a writer; fstat then refuses it.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as error:
        raise WorkflowFileError(f"{origin}: cannot read: {error.strerror or error}") from error
    with os.fdopen(descriptor, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise WorkflowFileError(f"{origin}: not a regular file")
        try:
            data = file.read(max_bytes + 1)
        except OSError as error:
            raise WorkflowFileError(f"{origin}: cannot read: {error.strerror or error}") from error
    if len(data) > max_bytes:
        raise WorkflowFileError(
            f"{origin}: larger than {max_bytes:,} bytes; pass a larger max_bytes to read it"
        )
    return data


def _decode(data: bytes, origin: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise WorkflowFileError(
            f"{origin}: not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start})"
        ) from None


def _parse_json(text: str, origin: str) -> t.Any:
    def unique_keys(pairs: list[tuple[str, t.Any]]) -> dict[str, t.Any]:
        found: dict[str, t.Any] = {}
        for key, value in pairs:
            if key in found:
                raise WorkflowFileError(f"{origin}: key {_printable(repr(key))} appears twice")
            found[key] = value
        return found

    try:
        return json.loads(text, object_pairs_hook=unique_keys)
    except json.JSONDecodeError as error:
        raise WorkflowFileError(
            f"{origin}:{error.lineno}:{error.colno}: invalid JSON: {error.msg}"
        ) from error
    except ValueError as error:  # an integer past Python's digit limit
        raise WorkflowFileError(f"{origin}: invalid JSON: {error}") from None


def _parse_yaml(text: str, origin: str) -> t.Any:
    import yaml  # imported on use: loading files is not every program's business

    from .yaml_loader import WorkflowLoader

    try:
        loader = WorkflowLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            loader.check_aliases(node, MAX_ALIAS_NODES)
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{origin}:{mark.line + 1}:{mark.column + 1}" if mark else origin
        problem = getattr(error, "problem", None) or str(error)
        raise WorkflowFileError(f"{where}: invalid YAML: {_printable(problem)}") from error
    except ValueError as error:  # an integer past Python's digit limit
        raise WorkflowFileError(f"{origin}: invalid YAML: {error}") from None


def _check_shape(data: t.Any, origin: str) -> None:
    """Refuse what no workflow holds but would break later steps: deep nesting (recursion)
    and lone surrogates (text that cannot be written out)."""
    pending: list[tuple[t.Any, int]] = [(data, 0)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if not value.isascii():
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError:
                    raise WorkflowFileError(
                        f"{origin}: {_printable(repr(value))} is not valid Unicode text"
                    ) from None
            continue
        if isinstance(value, c.Mapping):
            items: c.Iterable[t.Any] = [*value.keys(), *value.values()]
        elif isinstance(value, (list, tuple)):
            items = value
        else:
            continue
        if depth >= MAX_DEPTH:
            raise WorkflowFileError(f"{origin}: nested more than {MAX_DEPTH} levels deep")
        pending.extend((item, depth + 1) for item in items)


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


def read_workflow(source: WorkflowSource, *, max_bytes: int = MAX_FILE_BYTES) -> dict[str, t.Any]:
    """The workflow in ``source`` as a dict, validated against :func:`workflow_schema`.

    Only regular files up to ``max_bytes`` are read; duplicate keys, YAML aliases
    that expand past :data:`MAX_ALIAS_NODES` and nesting past :data:`MAX_DEPTH` are
    refused with a :class:`~statesignals.WorkflowFileError`.
    """
    data, origin = _read(source, max_bytes)
    return _validate(data, origin)


def definition_from(data: c.Mapping[str, t.Any]) -> WorkflowDefinition:
    """The :class:`~statesignals.definition.WorkflowDefinition` of a validated workflow dict."""
    return WorkflowDefinition(
        states=tuple(data["states"]),
        transitions=tuple(dict(entry) for entry in data.get("transitions", ())),
        initial=data["initial"],
        options=dict(data.get("options", {})),
    )


def load_definition(
    source: WorkflowSource, *, max_bytes: int = MAX_FILE_BYTES
) -> WorkflowDefinition:
    """The workflow in ``source``, schema-validated but not compiled into a class.

    Enough to draw or describe it: its states and transitions are checked (an
    unknown state is a :class:`~statesignals.WorkflowFileError`), its guard
    names are not looked up.
    """
    data, origin = _read(source, max_bytes)
    definition = definition_from(_validate(data, origin))
    check_definition(definition, origin, class_name(data, source))
    return definition


def check_definition(definition: WorkflowDefinition, origin: str, name: str) -> None:
    """Check the states and transitions of a file's workflow as class creation would,
    without the class its guards belong to; nested states are read as a nested machine."""
    nested = any(
        isinstance(spec, dict) and bool({"children", "parallel", "transitions"} & spec.keys())
        for spec in definition.states
    )
    machine_cls = HierarchicalMachine if nested else Machine
    try:
        check_workflow(type(name, (), {}), definition, machine_cls, look_up_callbacks=False)
    except WorkflowDefinitionError as error:
        raise _in_file(origin, error) from error


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
    allowed_imports: c.Iterable[str] = (),
    max_bytes: int = MAX_FILE_BYTES,
) -> type[SignalingMachine]:
    """Load a workflow into a new subclass of ``base``.

    ``base`` supplies the methods that guard and callback names refer to (and
    may choose ``machine_cls``); it declares no states of its own. The class is
    named by ``name``, else the file's ``name``, else the file name
    (``support_ticket.yaml`` gives ``SupportTicket``). Raises
    :class:`~statesignals.WorkflowFileError` naming the file and the path in it.

    A workflow file is data: its guard and callback names are methods of
    ``base``. A dotted name (``myapp.rules.is_funded``) is imported only when
    its module is listed in ``allowed_imports`` (``["myapp.rules"]``; a package
    allows its submodules); otherwise loading fails before anything is imported.
    """
    data, origin = _read(source, max_bytes)
    data = _validate(data, origin)
    _check_imports(data, origin, tuple(allowed_imports))
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
        mistakes = [_in_file(origin, mistake) for mistake in error.mistakes]
        if len(mistakes) == 1:
            raise mistakes[0] from error
        raise WorkflowFileError(
            "; ".join(str(mistake) for mistake in mistakes),
            location=error.location,
            problem=error.problem,
            mistakes=mistakes,
        ) from error
    except Exception as error:  # a check that missed something transitions then refused
        raise WorkflowFileError(
            f"{origin}: {name} cannot be built: {type(error).__name__}: {error}"
        ) from error


def _in_file(origin: str, error: WorkflowDefinitionError) -> WorkflowFileError:
    """A class's definition error as one that points into the file."""
    if not error.location:
        return WorkflowFileError(f"{origin}: {error}")
    return WorkflowFileError(
        f"{origin}: {json_path(error.location)}: {error.problem}",
        location=error.location,
        problem=error.problem,
    )


def _callback_references(data: c.Mapping[str, t.Any]) -> c.Iterator[tuple[Location, str]]:
    """Every guard and callback name in a validated workflow dict, with its location."""

    def names(location: Location, value: t.Any) -> c.Iterator[tuple[Location, str]]:
        if isinstance(value, str):
            yield location, value
        elif isinstance(value, list):
            for index, item in enumerate(value):
                yield from names((*location, index), item)

    def transitions(location: Location, entries: t.Any) -> c.Iterator[tuple[Location, str]]:
        for index, entry in enumerate(entries or ()):
            for key in TRANSITION_CALLBACK_FIELDS:
                yield from names((*location, index, key), entry.get(key))

    def states(location: Location, specs: t.Any) -> c.Iterator[tuple[Location, str]]:
        for index, spec in enumerate(specs or ()):
            if not isinstance(spec, dict):
                continue
            here = (*location, index)
            for key in _STATE_CALLBACKS:
                yield from names((*here, key), spec.get(key))
            yield from transitions((*here, "transitions"), spec.get("transitions"))
            for key in ("children", "parallel"):
                yield from states((*here, key), spec.get(key))

    yield from states(("states",), data.get("states"))
    yield from transitions(("transitions",), data.get("transitions"))
    options = data.get("options", {})
    for key in MACHINE_CALLBACK_OPTIONS:
        yield from names(("options", key), options.get(key))


def _check_imports(data: c.Mapping[str, t.Any], origin: str, allowed: tuple[str, ...]) -> None:
    for location, name in _callback_references(data):
        module, _, _ = name.rpartition(".")
        if name.startswith("__") and name.endswith("__"):
            problem = f"{name!r} is a special attribute, not a guard or callback"
        elif not module or any(
            module == entry or module.startswith(f"{entry}.") for entry in allowed
        ):
            continue
        else:
            problem = (
                f"{name!r} would import code from {module!r}; a workflow file names "
                "methods of its base class, and imports only modules listed in "
                f"allowed_imports (--allow-import {module})"
            )
        raise WorkflowFileError(
            f"{origin}: {json_path(location)}: {_printable(problem)}",
            location=location,
            problem=problem,
        )


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


def _export_transition(cls: type, where: str, entry: t.Any) -> dict[str, t.Any]:
    if isinstance(entry, (list, tuple)):
        # The list form, as transitions inside a compound state may be written.
        (entry,) = normalize_transitions(cls, [entry])
    exported: dict[str, t.Any] = {}
    for key, value in entry.items():
        if key in ("trigger", "source", "dest", *TRANSITION_CALLBACK_FIELDS):
            exported[key] = _names(cls, f"{where}.{key}", value)
        else:
            exported[key] = _plain(cls, f"{where}.{key}", value)
    return exported


def dump_workflow(model_class: type[SignalingMachine]) -> dict[str, t.Any]:
    """The workflow of ``model_class`` as a dict in the workflow-file format.

    Enum states are written by name; options that no class of the workflow
    sets are left out. Raises :class:`~statesignals.WorkflowFileError` for what a file
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
    # An option a user's class sets is written even at its default: the class
    # loaded from the file must declare it too, or its workflow differs.
    user_classes = [klass for klass in model_class.__mro__ if klass not in SignalingMachine.__mro__]
    options = {
        key: _plain(model_class, f"options.{key}", value)
        for key, value in workflow.options.items()
        # A keyword without a default (Parameter.empty) never equals a value: kept.
        if key in defaults
        and (defaults[key] != value or any(key in klass.__dict__ for klass in user_classes))
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
    "MAX_ALIAS_NODES",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "WorkflowSource",
    "check_definition",
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

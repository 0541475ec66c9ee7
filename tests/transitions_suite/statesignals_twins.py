"""pytest plugin: ``transitions``' tests see the signaling twin of every machine class.

Loaded with ``-p statesignals_twins`` into a run of ``transitions``' own suite (whose
package is also called ``tests``: it names callbacks ``tests.test_core.on_exit_A``).
While the test modules are imported, every ``transitions`` module attribute that
holds a machine class (``Machine``, ``HierarchicalMachine``, ``AsyncMachine`` ...) holds
its twin (``SignalingMixin`` in front of it), so ``from transitions import Machine`` and
``from transitions.extensions.asyncio import AsyncMachine`` in a test module bind the
twin; ``MachineFactory.get_predefined`` returns twins for the whole run. The defining
modules get their own classes back once collection is over: ``transitions`` calls
``super(Machine, self)`` with the module global, which must stay the class it names.

A receiver is connected to every workflow signal, so that the signaling code runs as
it does in a program that listens, not only the shortcuts taken when nobody does.
"""

from __future__ import annotations

import collections.abc as c
import importlib
import pkgutil
import typing as t

import pytest
import transitions
from transitions.extensions import factory

import statesignals

# transitions' structural test of MachineFactory's classes: it asserts that
# LockedMachine defines __getattribute__ in its own class __dict__. A twin is a subclass
# with SignalingMixin in front and inherits that method, so the assertion is about how
# the classes are laid out, not about how any machine behaves.
EXCLUDED = {
    "tests/test_factory.py::TestFactory::test_mixins": (
        "asserts LockedMachine.__dict__ holds __getattribute__; a twin inherits it"
    ),
}

# Packages whose attributes stay twins for the whole run (tests import from them inside
# test functions); nothing in transitions refers to a machine class through them.
REEXPORTING = ("transitions", "transitions.extensions")


def _twins() -> dict[type, type]:
    found: dict[type, type] = {}
    for name in statesignals.__all__:
        value = getattr(statesignals, name)
        if isinstance(value, type) and issubclass(value, statesignals.SignalingMixin):
            plain = value.__bases__[-1]
            if value is not statesignals.SignalingMixin and plain.__module__.startswith(
                "transitions"
            ):
                found[plain] = value
    return found


TWINS = _twins()


def _import_transitions() -> list[t.Any]:
    """Every importable module of ``transitions``, imported before anything is swapped,
    so that their own globals keep naming their own classes."""
    modules = [transitions]
    for info in pkgutil.walk_packages(transitions.__path__, "transitions."):
        try:
            modules.append(importlib.import_module(info.name))
        except ImportError:  # an optional backend (pygraphviz) that is not installed
            continue
    return modules


def _swap(modules: c.Iterable[t.Any]) -> list[tuple[t.Any, str, type]]:
    swapped = []
    for module in modules:
        for name, value in list(vars(module).items()):
            if isinstance(value, type) and value in TWINS:
                swapped.append((module, name, value))
                setattr(module, name, TWINS[value])
    return swapped


def _noop(sender: object, **payload: t.Any) -> None:
    pass


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(_Twins(), "statesignals-twins")


class _Twins:
    def __init__(self) -> None:
        self.modules = _import_transitions()
        factory._CLASS_MAP = {
            features: TWINS.get(cls, cls) for features, cls in factory._CLASS_MAP.items()
        }
        _swap(m for m in self.modules if m.__name__ in REEXPORTING)
        for signal in statesignals.signals.values():
            signal.connect(_noop, weak=False)

    @pytest.hookimpl(wrapper=True)
    def pytest_collection(self, session: pytest.Session) -> t.Generator[None, object, object]:
        swapped = _swap(m for m in self.modules if m.__name__ not in REEXPORTING)
        try:
            return (yield)
        finally:
            for module, name, plain in swapped:
                setattr(module, name, plain)

    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        kept = [item for item in items if item.nodeid not in EXCLUDED]
        if len(kept) != len(items):
            config.hook.pytest_deselected(items=[i for i in items if i.nodeid in EXCLUDED])
            items[:] = kept

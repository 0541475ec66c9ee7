"""Deprecated: the 0.1 home of :class:`WorkflowSignal` and the per-class receivers.

The signal class is in :mod:`statesignals.dispatch`, the per-class routes in
:mod:`statesignals.routes`. Kept for one release.
"""

from __future__ import annotations

import collections.abc as c
import warnings

from .dispatch import SignalNamespace, WorkflowSignal
from .routes import (
    RouteKey,
    RouteSignal,
    listened,
    listens,
    route,
    routed_classes,
    routes_of,
    table,
)

warnings.warn(
    "statesignals.receivers is split into statesignals.dispatch and statesignals.routes",
    DeprecationWarning,
    stacklevel=2,
)

class_signal = route
class_listens = listens


def dispatch_table(model_class: type) -> c.Mapping[RouteKey, tuple[RouteSignal, ...]]:
    """The per-class signals that fire for instances of ``model_class``, by key."""
    return table(model_class)


class _ClassSignals(c.Mapping[type, dict[RouteKey, RouteSignal]]):
    """A read-only view of the routes by class, as the 0.1 ``class_signals`` dict."""

    def __getitem__(self, model_class: type) -> dict[RouteKey, RouteSignal]:
        if model_class not in routed_classes():
            raise KeyError(model_class)
        return routes_of(model_class)

    def __iter__(self) -> c.Iterator[type]:
        return iter(routed_classes())

    def __len__(self) -> int:
        return len(routed_classes())


class_signals: c.Mapping[type, dict[RouteKey, RouteSignal]] = _ClassSignals()

__all__ = [
    "SignalNamespace",
    "WorkflowSignal",
    "class_listens",
    "class_signal",
    "class_signals",
    "dispatch_table",
    "listened",
]

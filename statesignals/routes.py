"""Per-class routes: the signals of receivers connected to one transition or one state
of one model class (``Order.on_transition("ship")``, ``Order.on_enter("paid")``).

Each (class, signal, trigger or state name) gets its own :class:`RouteSignal`, so a
send costs the same however many receivers other transitions have. The name
:data:`EVERY` routes every trigger or state of the class (``Order.on_transition()``,
``transition_completed.connect(r, sender=Order)``: see :class:`ModelSignal`). Senders ask
:func:`targets` (which route signals fire for an instance of a class, base classes'
first) and :func:`listens` (whether any of them has a receiver); both answers are
cached per class.

What this module guarantees:

* nothing here keeps a class alive: routes and caches are keyed by the class's id
  and dropped, with their receivers, when the class is garbage-collected;
* routes are created under one lock, and every cache is computed and stored under
  it: a thread sending while another connects never sees a table change size;
* a connect or disconnect clears the ``listens`` answers under the same lock, so an
  answer computed before it can never be stored after it: a receiver connected
  before a trigger starts always hears it.
"""

from __future__ import annotations

import collections.abc as c
import threading
import typing as t
import weakref

from .dispatch import SignalNamespace, WorkflowSignal

F = t.TypeVar("F", bound=c.Callable[..., t.Any])

RouteKey = tuple[str, str]
"""(signal name, trigger or state name), e.g. ``("transition_completed", "ship")``."""

EVERY = "*"
"""The name in a :data:`RouteKey` for receivers of every trigger or state."""

_lock = threading.RLock()
# Per class id: the routes declared on that class itself.
_declared: dict[int, dict[RouteKey, RouteSignal]] = {}
# Per class id: a weak reference whose callback forgets the class's entries.
_classes: dict[int, weakref.ref[type]] = {}
# Caches per class id, for every class whose instances sent a signal while routes existed.
_tables: dict[int, dict[RouteKey, tuple[RouteSignal, ...]]] = {}
_listening: dict[int, dict[str, frozenset[str]]] = {}

routed: set[str] = set()
"""The names of the signals that some route has receivers for. Senders test it before
asking anything else: while no route of a signal has a receiver (none was ever
connected, or all were disconnected again) its sends pay nothing for routes."""
# Per signal name: how many routes of it have receivers.
_routes_with_receivers: dict[str, int] = {}


class RouteSignal(WorkflowSignal):
    """The signal of one route; connecting or disconnecting clears the ``listens`` answers."""

    def __init__(self, name: str, signal_name: str) -> None:
        super().__init__(name)
        self.signal_name = signal_name
        """The name of the workflow signal this routes (``"transition_completed"``)."""
        self._counted = False

    def _receivers_changed(self) -> None:
        with _lock:
            _listening.clear()
            name = self.signal_name
            if self.receivers and not self._counted:
                self._counted = True
                _routes_with_receivers[name] = _routes_with_receivers.get(name, 0) + 1
                # In before connect() returns: a trigger started after it sees the route.
                routed.add(name)
            elif not self.receivers and self._counted:
                self._counted = False
                _routes_with_receivers[name] -= 1
                if not _routes_with_receivers[name]:
                    del _routes_with_receivers[name]
                    routed.discard(name)


def _forget(class_id: int) -> c.Callable[[weakref.ref[type]], None]:
    def forget(_: weakref.ref[type]) -> None:
        with _lock:
            _classes.pop(class_id, None)
            _tables.pop(class_id, None)
            _listening.pop(class_id, None)
            signals = _declared.pop(class_id, {})
        for signal in signals.values():
            # Its receivers would otherwise stay connected (and counted) forever.
            signal.disconnect_all()

    return forget


def _track(model_class: type) -> int:
    """The id of ``model_class``, watched so that its entries go when it does (lock held)."""
    class_id = id(model_class)
    if class_id not in _classes:
        _classes[class_id] = weakref.ref(model_class, _forget(class_id))
    return class_id


def route(model_class: type, signal_name: str, name: str) -> RouteSignal:
    """The signal for receivers of ``signal_name`` about ``name`` on ``model_class``."""
    key = (signal_name, name)
    with _lock:
        declared = _declared.setdefault(_track(model_class), {})
        signal = declared.get(key)
        if signal is None:
            signal = declared[key] = RouteSignal(
                f"{model_class.__qualname__}.{signal_name}[{name}]", signal_name
            )
            _tables.clear()
            _listening.clear()
        return signal


def routes_of(model_class: type) -> dict[RouteKey, RouteSignal]:
    """A copy of the routes declared on ``model_class`` itself (none are created)."""
    with _lock:
        return dict(_declared.get(id(model_class), {}))


def table(model_class: type) -> c.Mapping[RouteKey, tuple[RouteSignal, ...]]:
    """Every route that fires for instances of ``model_class``, by key (see :func:`targets`)."""
    found = _tables.get(id(model_class))
    return found if found is not None else _table(model_class)


def _table(model_class: type) -> dict[RouteKey, tuple[RouteSignal, ...]]:
    with _lock:
        stored = _tables.get(id(model_class))
        if stored is not None:  # another thread computed it while this one waited
            return stored
        declared = [
            _declared[id(klass)]
            for klass in reversed(model_class.__mro__)
            if id(klass) in _declared
        ]
        table: dict[RouteKey, tuple[RouteSignal, ...]] = {}
        for key in {key for routes in declared for key in routes}:
            # Per class: the routes of this name, then those of every name.
            names = dict.fromkeys((key, (key[0], EVERY)))
            table[key] = tuple(
                routes[name] for routes in declared for name in names if name in routes
            )
        _tables[_track(model_class)] = table
        return table


def targets(model_class: type, signal_name: str, name: str) -> tuple[RouteSignal, ...]:
    """The route signals that fire for an instance of ``model_class``.

    Routes of base classes come first, so a receiver connected on a parent class
    runs before one connected on a subclass; for one class, routes of ``name``
    come before routes of :data:`EVERY` name.
    """
    table = _tables.get(id(model_class))
    if table is None:
        table = _table(model_class)
    return table.get((signal_name, name)) or table.get((signal_name, EVERY)) or ()


def _listening_for(model_class: type) -> dict[str, frozenset[str]]:
    with _lock:
        # Stored under this lock, which every connect takes to clear it: still fresh.
        stored = _listening.get(id(model_class))
        if stored is not None:
            return stored
        names: dict[str, set[str]] = {}
        for klass in model_class.__mro__:
            for (signal_name, about), signal in _declared.get(id(klass), {}).items():
                if signal.receivers:
                    names.setdefault(signal_name, set()).add(about)
        listening = {signal_name: frozenset(abouts) for signal_name, abouts in names.items()}
        _listening[_track(model_class)] = listening
        return listening


def listens(model_class: type, signal_name: str, name: str | None = None) -> bool:
    """Whether a route receiver of ``signal_name`` listens for instances of ``model_class``.

    Only receivers about ``name`` (a trigger or a state) count when it is given.
    Machines ask this for every signal of every trigger once any route exists, so it
    costs two dict lookups once the answer for the class is cached.
    """
    listening = _listening.get(id(model_class))
    if listening is None:
        listening = _listening_for(model_class)
    about_names = listening.get(signal_name)
    return about_names is not None and (name is None or name in about_names or EVERY in about_names)


def listened(signal: WorkflowSignal, model: object, name: str | None = None) -> bool:
    """Whether sending ``signal`` about ``model`` would reach a receiver, global or routed.

    ``name`` narrows the per-class check to one trigger or state.
    """
    return bool(signal.receivers) or (
        signal.name in routed and listens(type(model), signal.name, name)
    )


class ModelSignal(WorkflowSignal):
    """A workflow signal, whose senders are models: a class as ``sender`` means every
    instance of that class and of its subclasses (the :data:`EVERY` route)."""

    def connect(self, receiver: F, sender: t.Any = WorkflowSignal.ANY, weak: bool = True) -> F:
        """Connect ``receiver``, as :meth:`WorkflowSignal.connect`; a class as ``sender``
        connects it to every instance of the class and its subclasses."""
        if not isinstance(sender, type):
            return super().connect(receiver, sender, weak)
        # A workflow class refuses receivers its machine could never call.
        vet = getattr(sender, "_vet_receiver", None)
        if callable(vet):
            vet(receiver, f"{self.name}.connect(..., sender={sender.__qualname__})")
        return route(sender, self.name, EVERY).connect(receiver, weak=weak)

    def disconnect(
        self, receiver: c.Callable[..., t.Any], sender: t.Any = WorkflowSignal.ANY
    ) -> None:
        """Disconnect ``receiver`` from ``sender`` (a class: as connected with it), or
        from every sender, classes included."""
        if isinstance(sender, type):
            signal = routes_of(sender).get((self.name, EVERY))
            if signal is not None:
                signal.disconnect(receiver)
            return
        super().disconnect(receiver, sender)
        if sender is WorkflowSignal.ANY and self.name in routed:
            with _lock:
                signals = [
                    routes[(self.name, EVERY)]
                    for routes in _declared.values()
                    if (self.name, EVERY) in routes
                ]
            for signal in signals:
                signal.disconnect(receiver)


class ModelSignalNamespace(SignalNamespace):
    """The namespace of the workflow signals: its signals are :class:`ModelSignal`\\ s."""

    signal_class = ModelSignal


def routed_classes() -> list[type]:
    """The live classes that have routes of their own."""
    with _lock:
        found = (_classes[class_id]() for class_id in _declared if class_id in _classes)
        return [model_class for model_class in found if model_class is not None]


def clear_routes() -> None:
    """Disconnect every route's receivers and forget every route and cache."""
    with _lock:
        signals = [signal for declared in _declared.values() for signal in declared.values()]
        _declared.clear()
        _tables.clear()
        _listening.clear()
    for signal in signals:
        signal.disconnect_all()


__all__ = [
    "EVERY",
    "ModelSignal",
    "ModelSignalNamespace",
    "RouteKey",
    "RouteSignal",
    "clear_routes",
    "listened",
    "listens",
    "route",
    "routed",
    "routed_classes",
    "routes_of",
    "table",
    "targets",
]

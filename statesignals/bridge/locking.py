"""Signals for ``transitions``' thread-safe machines (``LockedMachine`` and combinations).

A locked machine runs each trigger while holding the machine's contexts (a lock
by default). Signals are sent from inside the trigger, so inside the lock:
receivers of one model see its transitions in the order they happened.

Instances of a declared workflow share one machine. Holding that machine's lock
for every trigger would make triggers of unrelated instances wait for each other
(a slow receiver of one order would stall every other order, and a receiver
waiting for another instance's trigger would deadlock). A flat locked machine
therefore locks each instance on its own, with a re-entrant lock kept on the
instance (:data:`MODEL_LOCK_ATTRIBUTE`), still without a machine per instance.
A nested machine is locked per instance too: ``HierarchicalMachine`` scopes itself
to a region while a trigger runs (its ``scoped``, ``states``, ``events``,
``prefix_path``, ``_stack`` and ``_next_scope``, and each state's ``_scope``), so a
locked nested machine keeps that scope per thread (:func:`keep_scope_per_thread`).
It keeps the machine's lock where the machine itself changes while a trigger runs,
or where the user asked for it:

* ``queued=True`` (each instance has its own queue, but the machine keeps them all);
* ``machine_context=`` given (your context managers are entered for every trigger);
* models without a ``__dict__`` (``__slots__``), and models added to the machine,
  which use ``transitions``' own per-model contexts.
"""

from __future__ import annotations

import functools
import inspect
import threading
import typing as t

from transitions.core import Machine
from transitions.extensions.locking import LockedEvent, PicklableLock

from .core import SignalingEvent

MODEL_LOCK_ATTRIBUTE = "_statesignals_lock"
"""The instance attribute holding an instance's :class:`ModelLock`, set on its first trigger."""


class ModelLock:
    """The re-entrant lock of one model; pickling or deep-copying the model gives a new one."""

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock = threading.RLock()

    def __enter__(self) -> None:
        self._lock.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self._lock.release()

    def __reduce__(self) -> tuple[type[ModelLock], tuple[()]]:
        return (ModelLock, ())


class ThreadIdent(threading.local):
    """``transitions``' ``IdentManager``, kept per thread.

    ``LockedMachine`` skips its lock for calls made by the thread that is inside
    the machine's contexts (``_ident.current == get_ident()``). With one ident
    for the machine, threads inside the triggers of different instances would
    overwrite each other's; here each thread sees only its own, counted so that a
    trigger fired from a receiver does not clear it for the trigger around it.
    """

    current = 0
    _depth = 0

    def __enter__(self) -> None:
        self._depth += 1
        self.current = threading.get_ident()

    def __exit__(self, *exc_info: object) -> None:
        self._depth -= 1
        if not self._depth:
            self.current = 0

    def __reduce__(self) -> tuple[type[ThreadIdent], tuple[()]]:
        return (ThreadIdent, ())


def prepare_locked_machine(machine: t.Any) -> None:
    """Lock the models ``machine`` does not hold one by one, where that is safe.

    Only for a machine built without models (a declared workflow's): one built
    with models keeps ``transitions``' locking exactly, reading its plain ident.
    """
    contexts = machine.machine_context
    machine._locks_per_model = (
        not machine.models
        and len(contexts) == 2
        and type(contexts[0]) is PicklableLock
        and contexts[1] is machine._ident
        and not machine.has_queue
        and (not getattr(machine, "_nested", False) or scoped_per_thread(type(machine)))
    )
    if machine._locks_per_model:
        machine._ident = contexts[1] = ThreadIdent()


def model_lock(model: object) -> ModelLock | None:
    """The lock of ``model``, created on first use; None for a model without ``__dict__``."""
    stored = getattr(model, "__dict__", None)
    if stored is None:
        return None
    lock = stored.get(MODEL_LOCK_ATTRIBUTE)
    if lock is None:
        # setdefault is atomic: two threads' first triggers end up with one lock.
        lock = stored.setdefault(MODEL_LOCK_ATTRIBUTE, ModelLock())
    return t.cast(ModelLock, lock)


SCOPE_ATTRIBUTES = ("scoped", "states", "events", "prefix_path")
"""The attributes ``HierarchicalMachine.__enter__`` and ``__exit__`` change to scope the
machine to a state; outside any scope they hold the machine's root, shared by all threads."""

Scope = tuple[t.Any, t.Any, t.Any, list[str]]
"""The values of :data:`SCOPE_ATTRIBUTES`, as ``HierarchicalMachine`` stacks them."""


class ThreadScope(threading.local):
    """One thread's scope of a nested machine: its ``_stack``, its ``_next_scope`` and,
    inside a scope, the values of :data:`SCOPE_ATTRIBUTES` (None at the root)."""

    def __init__(self) -> None:
        self.stack: list[Scope] = []
        self.next_scope: Scope | None = None
        self.inside: Scope | None = None

    def __reduce__(self) -> tuple[type[ThreadScope], tuple[()]]:
        return (ThreadScope, ())


_THREAD_SCOPE = "_statesignals_thread_scope"

_machine_dict = t.cast(t.Callable[[object], dict[str, t.Any]], vars(Machine)["__dict__"].__get__)
"""A machine's ``__dict__``, read without ``LockedMachine.__getattribute__`` (which
costs some 600 ns a call): the scope attributes are read many times per trigger."""


def _thread_scope(machine: object) -> ThreadScope:
    stored = _machine_dict(machine)
    scope = stored.get(_THREAD_SCOPE)
    if scope is None:
        scope = stored.setdefault(_THREAD_SCOPE, ThreadScope())
    return t.cast(ThreadScope, scope)


_SCOPE_INDEX = {name: index for index, name in enumerate(SCOPE_ATTRIBUTES)}

_object_getattribute = object.__getattribute__


def scoped_getattribute(machine: t.Any, item: str) -> t.Any:
    """``LockedMachine.__getattribute__`` of a machine that keeps its scope per thread.

    As ``LockedMachine``'s, it hands out public methods wrapped in the machine's
    contexts. It also reads :data:`SCOPE_ATTRIBUTES` and ``_stack`` from the thread's
    own scope, and wraps a trigger of a model the machine does not hold
    (:data:`PER_MODEL_METHODS`) in the model's lock instead. One method for all of it:
    the attributes of a nested machine are read a hundred times per trigger.
    """
    index = _SCOPE_INDEX.get(item)
    if index is not None:
        stored = _machine_dict(machine)
        scope = stored.get(_THREAD_SCOPE)
        if scope is not None:
            inside = scope.inside
            if inside is not None:
                return inside[index]
        return _object_getattribute(machine, item)
    if item == "_stack":
        return _thread_scope(machine).stack
    value = _object_getattribute(machine, item)
    if item[0] != "_" and inspect.ismethod(value):
        if item in PER_MODEL_METHODS and _machine_dict(machine).get("_locks_per_model"):
            return functools.partial(_trigger_locked_per_model, machine, value)
        return functools.partial(_object_getattribute(machine, "_locked_method"), value)
    return value


class NextScope:
    """``HierarchicalMachine._next_scope``, set by ``machine(state)`` for the ``with``
    that follows: each thread's own."""

    def __get__(self, machine: object, owner: type | None = None) -> t.Any:
        if machine is None:
            return self
        return _thread_scope(machine).next_scope

    def __set__(self, machine: object, value: Scope | None) -> None:
        _thread_scope(machine).next_scope = value


def enter_scope(machine: t.Any) -> None:
    """``HierarchicalMachine.__enter__``, on the thread's own scope."""
    scope = _thread_scope(machine)
    inside = scope.inside
    if inside is None:
        stored = _machine_dict(machine)
        inside = (stored["scoped"], stored["states"], stored["events"], stored["prefix_path"])
    scope.stack.append(inside)
    scope.inside = scope.next_scope
    scope.next_scope = None


def exit_scope(machine: t.Any, *exc_info: object) -> None:
    """``HierarchicalMachine.__exit__``, on the thread's own scope: back at the root, the
    thread reads the machine's own attributes again."""
    scope = _thread_scope(machine)
    previous = scope.stack.pop()
    scope.inside = previous if scope.stack else None


class _StateScopes(threading.local):
    def __init__(self) -> None:
        self.by_state: dict[int, list[str]] = {}


_state_scopes = _StateScopes()


class ScopedPerThread:
    """A nested state whose ``_scope`` (its parents' names while its callbacks run,
    which make up its ``name``) is each thread's own: two threads may enter or exit
    the same state at once, for two models."""

    @property
    def _scope(self) -> list[str]:
        scope = _state_scopes.by_state.get(id(self))
        return [] if scope is None else scope

    @_scope.setter
    def _scope(self, value: list[str]) -> None:
        if value:
            _state_scopes.by_state[id(self)] = value
        else:
            _state_scopes.by_state.pop(id(self), None)


def scoped_per_thread(machine_cls: type) -> bool:
    """Whether ``machine_cls`` keeps the scope of a nested machine per thread."""
    return getattr(machine_cls, "__getattribute__", None) is scoped_getattribute


def scoped_state_class(machine_cls: type, state_cls: type) -> type:
    """``state_cls`` with its ``_scope`` kept per thread, named as an attribute of
    ``machine_cls`` (``state_cls``) for pickle."""
    if issubclass(state_cls, ScopedPerThread):
        return state_cls
    return type(
        state_cls.__name__,
        (ScopedPerThread, state_cls),
        {
            "__module__": machine_cls.__module__,
            "__qualname__": f"{machine_cls.__qualname__}.state_cls",
            "_signaling_variant": True,
        },
    )


def keep_scope_per_thread(machine_cls: t.Any) -> None:
    """Make the nested, locked ``machine_cls`` keep its scope per thread, so that threads
    may run triggers of different models through one machine at once.

    The scope lives in the thread's :class:`ThreadScope` once the machine is built
    (:func:`prepare_locked_machine`); until then, and for pickle, it is the machine's
    own attributes, as ``HierarchicalMachine`` keeps it.
    """
    if not scoped_per_thread(machine_cls):
        machine_cls.__getattribute__ = scoped_getattribute
        machine_cls._next_scope = NextScope()
        machine_cls.__enter__ = enter_scope
        machine_cls.__exit__ = exit_scope
    machine_cls.state_cls = scoped_state_class(machine_cls, machine_cls.state_cls)


PER_MODEL_METHODS = frozenset({"trigger_event", "to_state"})
"""The public methods of a nested machine that run a transition of the model passed first."""


def _trigger_locked_per_model(
    machine: t.Any, func: t.Callable[..., t.Any], *args: t.Any, **kwargs: t.Any
) -> t.Any:
    """Run ``func`` (a trigger of the model passed first) in the model's lock, or, for a
    model the machine holds, in the contexts ``transitions`` gives it."""
    stored = _machine_dict(machine)
    if args and id(args[0]) not in stored["model_context_map"]:
        lock = model_lock(args[0])
        if lock is not None:
            with lock, stored["_ident"]:
                return func(*args, **kwargs)
    return machine._locked_method(func, *args, **kwargs)


class SignalingLockedEvent(SignalingEvent, LockedEvent):
    """A locked event that also locks models the machine does not hold.

    ``LockedEvent`` finds a model's contexts in ``machine.model_context_map``,
    filled by ``add_model``. Instances of a :class:`~statesignals.SignalingMachine`
    share one machine without being added to it; they take their own lock (or,
    where the machine must be locked as a whole, the machine's contexts) instead
    of running unlocked.
    """

    def trigger(self, model: object, *args: t.Any, **kwargs: t.Any) -> bool:
        machine: t.Any = self.machine
        if id(model) in machine.model_context_map:
            return super().trigger(model, *args, **kwargs)
        # A machine pickled before per-model locks existed lacks the attribute.
        per_model = machine.__dict__.get("_locks_per_model", False)
        lock = model_lock(model) if per_model else None
        if lock is None:
            return t.cast(bool, machine._locked_method(super().trigger, model, *args, **kwargs))
        with lock, machine._ident:
            return super(LockedEvent, self).trigger(model, *args, **kwargs)


SIGNALING_VARIANTS: dict[type, type] = {LockedEvent: SignalingLockedEvent}
"""Signaling classes for the classes of ``transitions.extensions.locking``."""

__all__ = [
    "MODEL_LOCK_ATTRIBUTE",
    "PER_MODEL_METHODS",
    "SCOPE_ATTRIBUTES",
    "SIGNALING_VARIANTS",
    "ModelLock",
    "NextScope",
    "Scope",
    "ScopedPerThread",
    "SignalingLockedEvent",
    "ThreadIdent",
    "ThreadScope",
    "enter_scope",
    "exit_scope",
    "keep_scope_per_thread",
    "model_lock",
    "prepare_locked_machine",
    "scoped_getattribute",
    "scoped_per_thread",
    "scoped_state_class",
]

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
It keeps the machine's lock where the machine itself changes while a trigger runs,
or where the user asked for it:

* nested machines (``HierarchicalMachine`` scopes the machine to a region while
  a trigger runs);
* ``queued=True`` (one queue for the whole machine);
* ``machine_context=`` given (your context managers are entered for every trigger);
* models without a ``__dict__`` (``__slots__``), and models added to the machine,
  which use ``transitions``' own per-model contexts.
"""

from __future__ import annotations

import threading
import typing as t

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
        and not getattr(machine, "_nested", False)
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
    "SIGNALING_VARIANTS",
    "ModelLock",
    "SignalingLockedEvent",
    "ThreadIdent",
    "model_lock",
    "prepare_locked_machine",
]

"""How receivers are called: in connection order, all of them, errors gathered.

:class:`WorkflowSignal` is the blinker signal every statesignals signal is made
of. It differs from :class:`blinker.Signal` in three ways, each something a
workflow relies on:

* receivers run in the order they were connected (blinker's order is undefined);
* a receiver that raises does not stop the others: every receiver runs, then the
  errors are raised together as one :class:`~statesignals.ReceiverError`;
* a coroutine receiver sent to synchronously is reported as an
  :class:`~statesignals.AsyncReceiverError` instead of being skipped, and so is
  a receiver whose call returns a coroutine (an ``async def __call__`` object, a
  lambda calling a coroutine function); ``send_async`` awaits what they return.

Exceptions that are not errors (``KeyboardInterrupt``, ``SystemExit``,
``GeneratorExit``) do not stop the other receivers either: once all have run,
the first is raised as it is. A ``CancelledError`` raised by a receiver while
its own task is not being cancelled (it awaited something cancelled elsewhere)
is a receiver error, :class:`~statesignals.ReceiverCancelledError`; when the
task itself is cancelled, it propagates at once.

It is the only module that reaches into blinker's internals (its receiver and
sender tables, its cleanup callbacks); everything else uses the public API here.
"""

from __future__ import annotations

import asyncio
import collections.abc as c
import itertools
import logging
import threading
import typing as t
import weakref
from inspect import getattr_static, isawaitable, iscoroutinefunction

from blinker import ANY, NamedSignal, Namespace
from blinker._utilities import make_id

from .errors import AsyncReceiverError, ReceiverCancelledError, ReceiverError

F = t.TypeVar("F", bound=c.Callable[..., t.Any])

ANY_ID = 0
_connection_sequence = itertools.count()
_LOGGER = logging.getLogger("statesignals")


def is_coroutine_receiver(receiver: c.Callable[..., t.Any]) -> bool:
    """Whether calling ``receiver`` returns a coroutine: a coroutine function, or an
    object whose ``__call__`` is one."""
    if iscoroutinefunction(receiver):
        return True
    # An instance whose class defines ``async def __call__``.
    if isinstance(receiver, type):
        return False
    return iscoroutinefunction(getattr_static(type(receiver), "__call__", None))


def receiver_name(receiver: c.Callable[..., t.Any]) -> str:
    """How an error message names ``receiver``."""
    return getattr(receiver, "__qualname__", None) or repr(receiver)


def _cancelling() -> bool:
    """Whether the running task is being cancelled (a CancelledError is its own)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _discard(awaitable: t.Any) -> None:
    close = getattr(awaitable, "close", None)
    if callable(close):
        close()


class WorkflowSignal(NamedSignal):
    """A named blinker signal with ordered, fault-isolated dispatch.

    Connect and disconnect exactly as with :class:`blinker.Signal`
    (``weak=True`` is blinker's default: a receiver that nothing else references,
    such as a lambda or a function defined inside another function, is
    disconnected as soon as it is garbage-collected; pass ``weak=False`` for those).
    """

    connected: t.ClassVar[set[WorkflowSignal]] = set()
    """The signals that have at least one receiver; machines skip work when it is empty."""

    def __init__(self, name: str, doc: str | None = None) -> None:
        super().__init__(name, doc)
        self._connected_at: dict[c.Hashable, int] = {}
        self._coroutine_ids: set[c.Hashable] = set()
        # Receiver ids in call order, per sender id that has receivers of its own
        # (ANY_ID for every other sender). Cleared on every (dis)connection.
        self._dispatch_order: dict[c.Hashable, tuple[c.Hashable, ...]] = {}
        # Sends read the cache without locking; whatever changes blinker's receiver
        # tables or fills the cache holds this lock, so threads sending while others
        # connect never see a set change size, nor cache an order missing a receiver.
        self._lock = threading.RLock()
        self.alone: tuple[WorkflowSignal] = (self,)
        """The signal on its own, for senders that pass on a tuple of signals to send."""

    def connect(self, receiver: F, sender: t.Any = ANY, weak: bool = True) -> F:
        """Connect ``receiver``; it is called after every receiver connected before it.

        Connecting a receiver that is already connected (to another sender, say)
        keeps its place in the order.
        """
        receiver_id = make_id(receiver)
        with self._lock:
            if receiver_id not in self.receivers:
                self._connected_at[receiver_id] = next(_connection_sequence)
            if is_coroutine_receiver(receiver):
                self._coroutine_ids.add(receiver_id)
            connected = super().connect(receiver, sender, weak)
            self._dispatch_order.clear()
            WorkflowSignal.connected.add(self)
            self._receivers_changed()
        return connected

    def is_connected(self, receiver: c.Callable[..., t.Any]) -> bool:
        """Whether ``receiver`` is connected (to any sender)."""
        return make_id(receiver) in self.receivers

    def _disconnect(self, receiver_id: c.Hashable, sender_id: c.Hashable) -> None:
        with self._lock:
            super()._disconnect(receiver_id, sender_id)
            if sender_id != ANY_ID:
                self._forget_if_unused(receiver_id, sender_id)
            if receiver_id not in self.receivers:
                self._connected_at.pop(receiver_id, None)
                self._coroutine_ids.discard(receiver_id)
            if not self.receivers:
                WorkflowSignal.connected.discard(self)
            self._dispatch_order.clear()
            self._receivers_changed()

    def _receivers_changed(self) -> None:
        """Called, holding the signal's lock, after a receiver was connected or disconnected."""

    def _forget_if_unused(self, receiver_id: c.Hashable, sender_id: c.Hashable) -> None:
        """Drop the bookkeeping of ``sender_id`` and ``receiver_id`` that nothing uses any more.

        blinker keeps a receiver in ``receivers`` after it was disconnected from its
        last sender (or that sender was collected): a strong receiver of one model
        would outlive the model, and every send would still see a receiver.
        """
        if not self._by_sender.get(sender_id):
            self._by_sender.pop(sender_id, None)
            self._weak_senders.pop(sender_id, None)
        if receiver_id in self.receivers and not self._by_receiver.get(receiver_id):
            super()._disconnect(receiver_id, ANY_ID)

    def disconnect_all(self) -> None:
        """Disconnect every receiver, from every sender."""
        with self._lock:
            for receiver_id in list(self.receivers):
                self._disconnect(receiver_id, ANY_ID)

    def _make_cleanup_sender(self, sender_id: c.Hashable) -> c.Callable[[weakref.ref[t.Any]], None]:
        blinker_cleanup = super()._make_cleanup_sender(sender_id)

        def cleanup(ref: weakref.ref[t.Any]) -> None:
            with self._lock:
                receiver_ids = tuple(self._by_sender.get(sender_id, ()))
                blinker_cleanup(ref)
                for receiver_id in receiver_ids:
                    if not self._by_receiver.get(receiver_id):
                        self._disconnect(receiver_id, ANY_ID)
                # The id of a collected sender can be reused by a new object.
                self._dispatch_order.clear()

        return cleanup

    def _receiver_ids(self, sender: t.Any) -> tuple[c.Hashable, ...]:
        by_sender = self._by_sender
        key: c.Hashable = ANY_ID
        # Only when some receiver is connected to one sender does the sender's id matter.
        if len(by_sender) > (ANY_ID in by_sender):
            sender_id = make_id(sender)
            if sender_id in by_sender:
                key = sender_id
        try:
            return self._dispatch_order[key]
        except KeyError:
            pass
        with self._lock:
            ids = set(by_sender.get(ANY_ID, ()))
            if key != ANY_ID:
                ids |= by_sender.get(key, set())
            ordered = tuple(sorted(ids, key=lambda rid: self._connected_at.get(rid, -1)))
            self._dispatch_order[key] = ordered
        return ordered

    def receivers_for(self, sender: t.Any) -> c.Generator[c.Callable[..., t.Any], None, None]:
        """Yield the live receivers for ``sender``, in connection order."""
        if not self.receivers:
            return
        for receiver_id in self._receiver_ids(sender):
            receiver = self._live_receiver(receiver_id)
            if receiver is not None:
                yield receiver

    def _live_receiver(self, receiver_id: c.Hashable) -> c.Callable[..., t.Any] | None:
        receiver = self.receivers.get(receiver_id)
        if isinstance(receiver, weakref.ref):
            strong = receiver()
            if strong is None:
                self._disconnect(receiver_id, ANY_ID)
            return strong
        return receiver

    def send(
        self,
        sender: t.Any | None = None,
        /,
        *,
        _async_wrapper: c.Callable[
            [c.Callable[..., c.Coroutine[t.Any, t.Any, t.Any]]], c.Callable[..., t.Any]
        ]
        | None = None,
        **kwargs: t.Any,
    ) -> list[tuple[c.Callable[..., t.Any], t.Any]]:
        """Call every receiver for ``sender`` in connection order.

        Unlike :meth:`blinker.Signal.send`, an exception from one receiver does not
        stop the others: once all have run, :class:`~statesignals.ReceiverError`
        is raised with every exception. A coroutine receiver, without
        ``_async_wrapper``, adds an :class:`~statesignals.AsyncReceiverError`.
        """
        return self.send_payload(sender, kwargs, _async_wrapper)

    def send_payload(
        self,
        sender: t.Any,
        payload: dict[str, t.Any],
        async_wrapper: c.Callable[
            [c.Callable[..., c.Coroutine[t.Any, t.Any, t.Any]]], c.Callable[..., t.Any]
        ]
        | None = None,
    ) -> list[tuple[c.Callable[..., t.Any], t.Any]]:
        """:meth:`send` with the keyword arguments in one dict, which is not copied.

        Machines send every signal this way: on the path of every trigger,
        repacking the payload into a new dict for each signal is a cost worth saving.
        """
        receivers = self.receivers
        if self.is_muted or not receivers:
            return []
        results: list[tuple[c.Callable[..., t.Any], t.Any]] = []
        errors: list[BaseException] = []  # interrupts too, sorted out if there are any
        # _receiver_ids, its common case written out: no receiver for one sender only.
        by_sender = self._by_sender
        ordered = (
            self._dispatch_order.get(ANY_ID) if len(by_sender) == (ANY_ID in by_sender) else None
        )
        if ordered is None:
            ordered = self._receiver_ids(sender)
        for receiver_id in ordered:
            # _live_receiver, inlined: this loop runs for every signal of every trigger.
            receiver = receivers.get(receiver_id)
            if isinstance(receiver, weakref.ref):
                receiver = receiver()
                if receiver is None:
                    self._disconnect(receiver_id, ANY_ID)
                    continue
            elif receiver is None:
                continue
            call = receiver
            if receiver_id in self._coroutine_ids:
                if async_wrapper is None:
                    errors.append(self._sync_send_error(receiver))
                    continue
                call = async_wrapper(receiver)
            try:
                result = call(sender, **payload)
            except BaseException as error:
                errors.append(error)
                continue
            if result is not None and isawaitable(result):
                # Nobody would await it: its work would be lost without a word.
                _discard(result)
                errors.append(self._sync_send_error(receiver))
                continue
            results.append((receiver, result))
        if errors:
            raise self._failure(errors)
        return results

    async def send_async(
        self,
        sender: t.Any | None = None,
        /,
        *,
        _sync_wrapper: c.Callable[
            [c.Callable[..., t.Any]], c.Callable[..., c.Coroutine[t.Any, t.Any, t.Any]]
        ]
        | None = None,
        **kwargs: t.Any,
    ) -> list[tuple[c.Callable[..., t.Any], t.Any]]:
        """Await coroutine receivers and call plain ones, in connection order.

        Errors are gathered as in :meth:`send`.
        """
        return await self.send_payload_async(sender, kwargs, _sync_wrapper)

    async def send_payload_async(
        self,
        sender: t.Any,
        payload: dict[str, t.Any],
        sync_wrapper: c.Callable[
            [c.Callable[..., t.Any]], c.Callable[..., c.Coroutine[t.Any, t.Any, t.Any]]
        ]
        | None = None,
    ) -> list[tuple[c.Callable[..., t.Any], t.Any]]:
        """:meth:`send_async` with the keyword arguments in one dict, which is not copied."""
        if self.is_muted or not self.receivers:
            return []
        results: list[tuple[c.Callable[..., t.Any], t.Any]] = []
        errors: list[BaseException] = []  # interrupts too, sorted out if there are any
        for receiver_id in self._receiver_ids(sender):
            receiver = self._live_receiver(receiver_id)
            if receiver is None:
                continue
            try:
                if receiver_id in self._coroutine_ids:
                    result = await receiver(sender, **payload)
                elif sync_wrapper is not None:
                    result = await sync_wrapper(receiver)(sender, **payload)
                else:
                    result = receiver(sender, **payload)
                    if result is not None and isawaitable(result):
                        result = await result
                results.append((receiver, result))
            except asyncio.CancelledError as error:
                if _cancelling():
                    raise
                errors.append(self._stray_cancellation(receiver, error))
            except BaseException as error:
                errors.append(error)
        if errors:
            raise self._failure(errors)
        return results

    def _sync_send_error(self, receiver: c.Callable[..., t.Any]) -> AsyncReceiverError:
        kind = "is a coroutine function" if iscoroutinefunction(receiver) else "returns a coroutine"
        return AsyncReceiverError(
            f"receiver {receiver_name(receiver)} of signal {self.name!r} {kind}, but the "
            "signal was sent synchronously; connect a plain function or send from an "
            "asynchronous machine"
        )

    def _stray_cancellation(
        self, receiver: c.Callable[..., t.Any], error: asyncio.CancelledError
    ) -> ReceiverCancelledError:
        cancelled = ReceiverCancelledError(
            f"receiver {receiver_name(receiver)} of signal {self.name!r} raised "
            "CancelledError while its task was not being cancelled (it awaited something "
            "cancelled elsewhere)"
        )
        cancelled.__cause__ = error
        return cancelled

    def _failure(self, errors: list[BaseException]) -> BaseException:
        """What a send raises once every receiver ran: the first interrupt
        (``KeyboardInterrupt`` ...), the errors beside it logged; else the errors as one
        :class:`~statesignals.ReceiverError`."""
        failures = [error for error in errors if isinstance(error, Exception)]
        if len(failures) == len(errors):
            return self._receiver_error(failures)
        interrupt = next(error for error in errors if not isinstance(error, Exception))
        if failures:
            for error in failures:
                _LOGGER.error("receiver raised %r", error, exc_info=error)
            interrupt.add_note(
                f"{len(failures)} other receiver error(s) of signal {self.name!r} were "
                "logged on the 'statesignals' logger"
            )
        return interrupt

    def _receiver_error(self, errors: list[Exception]) -> ReceiverError:
        count = "1 receiver" if len(errors) == 1 else f"{len(errors)} receivers"
        return ReceiverError(f"{count} of signal {self.name!r} raised", errors)


class SignalNamespace(Namespace):
    """A :class:`blinker.Namespace` whose signals are :class:`WorkflowSignal`\\ s
    (of ``signal_class``)."""

    signal_class: t.ClassVar[type[WorkflowSignal]] = WorkflowSignal

    def signal(self, name: str, doc: str | None = None) -> WorkflowSignal:
        """Return the signal called ``name``, creating it on first use."""
        if name not in self:
            self[name] = self.signal_class(name, doc)
        found = self[name]
        assert isinstance(found, WorkflowSignal)
        return found


__all__ = ["SignalNamespace", "WorkflowSignal", "is_coroutine_receiver", "receiver_name"]

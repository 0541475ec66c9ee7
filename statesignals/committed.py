"""``transition_committed``: the signal for work that must not run for a change that is undone.

A transition is *committed* once nothing can take it back. For a model that lives
only in memory that is when its trigger returns; for a persisted model
(:mod:`statesignals.sqlalchemy`) it is when the outermost database transaction that
wrote it commits. One receiver serves both::

    @transition_committed.connect
    def send_mail(order, transition, **payload): ...

Each committed transition is described by a :class:`TransitionRecord`, which stays
usable after the database session that wrote it is closed.

For in-memory models the signal rides on ``transition_completed``: while a committed
receiver is connected, a receiver of ``transition_completed`` (the *bridge*) sends
``transition_committed`` for every completed transition of a model that is not
persisted. Nobody listening means no bridge, so triggers pay nothing for the signal.
"""

from __future__ import annotations

import collections.abc as c
import typing as t
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .dispatch import WorkflowSignal
from .errors import ReceiverError, StateSignalsError
from .routes import route, routed, targets
from .scope import defer_receiver_errors

F = t.TypeVar("F", bound=c.Callable[..., t.Any])

AsyncWrapper = c.Callable[
    [c.Callable[..., c.Coroutine[t.Any, t.Any, t.Any]]], c.Callable[..., t.Any]
]
"""Turns a coroutine receiver into a plain callable (a database driver's greenlet bridge)."""

PERSISTED = "__statesignals_persisted__"
"""Class attribute that is true for model classes whose transitions are committed by a
database: the bridge leaves them to the persistence layer."""

_BRIDGED = "statesignals_committed_sent"
"""Set on an EventData once its committed signal was sent (the bridge may be reached
both through the global signal and through a per-class one)."""


DurableConnector = c.Callable[[c.Callable[..., t.Any], type, "str | None"], c.Callable[..., t.Any]]
"""Makes a function a durable receiver of a class (and trigger): set by statesignals.outbox,
which sits above this layer, when it is imported."""

_durable_connector: DurableConnector | None = None


def provide_durable_connector(connector: DurableConnector) -> None:
    """Called by :mod:`statesignals.outbox` so ``transition_committed.connect_durable`` works."""
    global _durable_connector
    _durable_connector = connector


@dataclass(frozen=True, slots=True)
class TransitionRecord:
    """One transition of one model, as written and as committed.

    ``primary_key`` and ``version`` are None for models that are not persisted;
    ``primary_key`` is the row's identity (a tuple, one value per key column).
    ``trigger`` is None only for the creation entry of a history table.
    """

    model_class: type
    primary_key: tuple[t.Any, ...] | None
    version: int | None
    trigger: str
    source: str
    dest: str
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    instance: object = field(default=None, compare=False, repr=False)
    """The model itself; after its session closed it may be expired (read the fields
    of the record, not its attributes)."""
    args: tuple[t.Any, ...] = field(default=(), compare=False, repr=False)
    """The positional arguments the trigger was called with."""
    kwargs: c.Mapping[str, t.Any] = field(default_factory=dict, compare=False, repr=False)
    """The keyword arguments the trigger was called with (durable receivers get both)."""

    @classmethod
    def of(
        cls, model: object, payload: c.Mapping[str, t.Any], version: int | None = None
    ) -> TransitionRecord:
        """The record of the transition a ``transition_completed`` ``payload`` describes."""
        event_data = payload.get("event_data")
        return cls(
            model_class=type(model),
            primary_key=None,
            version=version,
            trigger=payload["trigger"],
            source=payload["source"],
            dest=payload["dest"],
            instance=model,
            args=tuple(event_data.args) if event_data is not None else (),
            kwargs=dict(event_data.kwargs) if event_data is not None else {},
        )

    @property
    def key(self) -> str | None:
        """The primary key as text (values joined by ``","``), as history tables store it."""
        if self.primary_key is None:
            return None
        return ",".join(str(value) for value in self.primary_key)

    def describe(self) -> str:
        """``Order 7 pay (pending -> paid)``: how error messages name the transition."""
        key = "" if self.key is None else f" {self.key}"
        return f"{self.model_class.__qualname__}{key} {self.trigger} ({self.source} -> {self.dest})"


class CommittedSignal(WorkflowSignal):
    """The ``transition_committed`` signal: while it has receivers, the bridge listens.

    ``completed`` is the ``transition_completed`` signal the bridge listens to.
    """

    def __init__(self, name: str, doc: str | None = None, *, completed: WorkflowSignal) -> None:
        super().__init__(name, doc)
        self._completed = completed

    def _receivers_changed(self) -> None:
        if self.receivers:
            self._completed.connect(self.bridge, weak=False)
        else:
            self._completed.disconnect(self.bridge)

    def connect_durable(self, model_class: type, trigger: str | None = None) -> c.Callable[[F], F]:
        """Decorator: the receiver becomes a durable receiver (:mod:`statesignals.outbox`)
        of every committed transition of ``model_class`` and its subclasses (of
        ``trigger`` only, when given). It is not connected to this signal: a worker
        runs it, once per transition, as ``receiver(event, session)``.
        """

        def connect(receiver: F) -> F:
            if _durable_connector is None:
                raise StateSignalsError(
                    "durable receivers are made by statesignals.outbox: import it first "
                    "(it needs the celery extra: pip install 'transitions-statesignals[celery]')"
                )
            return t.cast(F, _durable_connector(receiver, model_class, trigger))

        return connect

    def connect_for(self, model_class: type, trigger: str, receiver: F, *, weak: bool = False) -> F:
        """Connect ``receiver`` for ``trigger`` on ``model_class`` (``Order.on_commit``)."""
        route(model_class, self.name, trigger).connect(receiver, weak=weak)
        route(model_class, self._completed.name, trigger).connect(self.bridge, weak=False)
        return receiver

    def send_record(
        self, record: TransitionRecord, async_wrapper: AsyncWrapper | None = None
    ) -> list[Exception]:
        """Send ``transition_committed`` for ``record`` to every receiver, global and per class.

        Returns the receivers' exceptions (each noted with the transition) instead of
        raising them: what happens to them is the caller's policy.
        """
        targeted = (
            targets(record.model_class, self.name, record.trigger) if self.name in routed else ()
        )
        if not (self.receivers or targeted):
            return []
        payload = {
            "trigger": record.trigger,
            "source": record.source,
            "dest": record.dest,
            "transition": record,
        }
        errors: list[Exception] = []
        for signal in (self, *targeted):
            try:
                signal.send_payload(record.instance, payload, async_wrapper)
            except ReceiverError as group:
                for error in group.exceptions:
                    error.add_note(f"raised by a receiver of {signal.name} for {record.describe()}")
                errors.extend(group.exceptions)
        return errors

    def bridge(self, model: object, /, **payload: t.Any) -> None:
        """Receiver of ``transition_completed``: an in-memory model's transition is committed
        now.

        The committed receivers' errors join the trigger's other receiver errors,
        raised (or logged) when the trigger returns.
        """
        if getattr(type(model), PERSISTED, False):
            return
        event_data = payload["event_data"]
        if getattr(event_data, _BRIDGED, False):
            return
        setattr(event_data, _BRIDGED, True)
        self.send_now(TransitionRecord.of(model, payload), payload.get("machine"))

    def send_now(self, record: TransitionRecord, machine: object) -> None:
        """Send ``record``, committed while ``machine`` processes its trigger: the
        receivers' errors join the trigger's other receiver errors."""
        errors = self.send_record(record)
        if errors:
            asynchronous = bool(getattr(machine, "_asynchronous", False))
            defer_receiver_errors(errors, per_task=asynchronous)


__all__ = [
    "PERSISTED",
    "AsyncWrapper",
    "CommittedSignal",
    "DurableConnector",
    "TransitionRecord",
    "provide_durable_connector",
]

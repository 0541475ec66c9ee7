"""What a durable receiver is given: one committed transition, as the outbox stored it."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import typing as t
from dataclasses import dataclass

from ..errors import EarlierEventPendingError, OutboxError

if t.TYPE_CHECKING:
    from sqlalchemy.orm import Session


def utcnow() -> dt.datetime:
    """The current UTC time without a zone, as the outbox tables store times."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def naive_utc(moment: dt.datetime) -> dt.datetime:
    """``moment`` in UTC without a zone (a naive time is taken to be UTC already)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def import_reference(reference: str) -> t.Any:
    """The object that ``module:qualified.name`` names."""
    module_name, _, qualname = reference.partition(":")
    try:
        found: t.Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as error:
        raise OutboxError(f"cannot import {reference!r}: {error}") from error
    return found


def reference_of(obj: t.Any) -> str:
    """The ``module:qualified.name`` reference that :func:`import_reference` resolves."""
    return f"{obj.__module__}:{obj.__qualname__}"


@dataclass(frozen=True)
class DurableEvent:
    """One committed transition delivered to one durable receiver.

    Everything in it was committed with the state change, and it is plain data
    (it travels as JSON): ``event_id`` is this event's own id (one per transition and
    receiver, the Celery task id), ``transition_id`` the transition's (as in the history
    table), ``model`` names the model class as ``module:Class``,
    ``primary_key`` is its primary key as stored (a JSON value), ``sequence``
    is the model's version after the transition, so the events of one model
    count up. ``payload`` holds the trigger's arguments:
    ``{"args": [...], "kwargs": {...}}``.
    """

    event_id: str
    transition_id: str
    model: str
    primary_key: t.Any
    sequence: int
    trigger: str
    source: str
    dest: str
    payload: dict[str, t.Any]
    receiver: str
    occurred_at: dt.datetime
    attempt: int = 1

    @property
    def args(self) -> list[t.Any]:
        """The positional arguments the trigger was called with."""
        return list(self.payload.get("args", []))

    @property
    def kwargs(self) -> dict[str, t.Any]:
        """The keyword arguments the trigger was called with."""
        return dict(self.payload.get("kwargs", {}))

    def model_class(self) -> type[t.Any]:
        """The model class, imported by name."""
        found = import_reference(self.model)
        if not isinstance(found, type):
            raise OutboxError(f"{self.model!r} of event {self.event_id} is not a class")
        return found

    def load(self, session: Session) -> t.Any:
        """The model, loaded with ``session`` (as it is now, which may be past this event)."""
        key = self.primary_key
        # A composite key travels as a JSON list; SQLAlchemy wants a tuple.
        found = session.get(self.model_class(), tuple(key) if isinstance(key, list) else key)
        if found is None:
            raise OutboxError(
                f"{self.model} with primary key {self.primary_key!r} of event "
                f"{self.event_id} is not in the database"
            )
        return found

    def check_order(self, session: Session) -> None:
        """Raise :class:`~statesignals.EarlierEventPendingError` unless every earlier event
        of this model for this receiver has had its effect (dead-lettered ones aside).

        Call it first in a receiver that must see the effects of a model's events in
        their order whatever runs them: with several worker processes, two events of one
        model can run at the same time, and an event tried again after a failure runs
        after later ones. The worker rolls back and tries the event again after its
        backoff (an attempt, counted as failures are).
        """
        from .store import earlier_effect_pending

        if earlier_effect_pending(
            session,
            aggregate_type=self.model,
            aggregate_id=json.dumps(self.primary_key),
            receiver=self.receiver,
            sequence=self.sequence,
        ):
            raise EarlierEventPendingError(
                f"event {self.event_id} ({self.model} {self.primary_key!r}, sequence "
                f"{self.sequence}) waits for the effect of an earlier event of its model "
                f"for {self.receiver}"
            )

    def to_message(self) -> dict[str, t.Any]:
        """The event as a JSON-ready dict (what a Celery task is sent)."""
        return {
            "event_id": self.event_id,
            "transition_id": self.transition_id,
            "model": self.model,
            "primary_key": self.primary_key,
            "sequence": self.sequence,
            "trigger": self.trigger,
            "source": self.source,
            "dest": self.dest,
            "payload": self.payload,
            "receiver": self.receiver,
            "occurred_at": self.occurred_at.isoformat(),
            "attempt": self.attempt,
        }

    @classmethod
    def from_message(cls, message: t.Mapping[str, t.Any]) -> DurableEvent:
        """The event that :meth:`to_message` turned into ``message``."""
        try:
            return cls(
                event_id=message["event_id"],
                transition_id=message["transition_id"],
                model=message["model"],
                primary_key=message["primary_key"],
                sequence=int(message["sequence"]),
                trigger=message["trigger"],
                source=message["source"],
                dest=message["dest"],
                payload=dict(message["payload"]),
                receiver=message["receiver"],
                occurred_at=dt.datetime.fromisoformat(message["occurred_at"]),
                attempt=int(message.get("attempt", 1)),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise OutboxError(f"not a durable event message: {error!r} in {message!r}") from error

    @classmethod
    def from_row(cls, row: t.Any) -> DurableEvent:
        """The event an outbox row holds (``row`` from a select of the outbox table)."""
        return cls(
            event_id=row.event_id,
            transition_id=row.transition_id,
            model=row.aggregate_type,
            primary_key=json.loads(row.aggregate_id),
            sequence=row.sequence,
            trigger=row.trigger,
            source=row.source,
            dest=row.dest,
            payload=json.loads(row.payload),
            receiver=row.receiver,
            occurred_at=row.occurred_at,
            attempt=row.attempts + 1,
        )


__all__ = ["DurableEvent", "import_reference", "naive_utc", "reference_of", "utcnow"]

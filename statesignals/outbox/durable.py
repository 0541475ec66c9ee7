"""Durable receivers: which transitions write outbox rows, and what those rows hold.

A durable receiver is connected by name: a worker in another process imports
it as ``module:function``. So only a function defined at the top level of a
module can be one; a lambda, a function local to another, or a bound method is
refused when it is connected, not when its first event fails on a worker.
"""

from __future__ import annotations

import collections.abc as c
import functools
import inspect
import json
import threading
import typing as t
import uuid
from dataclasses import dataclass

from ..committed import provide_durable_connector
from ..errors import DurableReceiverError, OutboxError, OutboxPayloadError
from .events import DurableEvent, import_reference, naive_utc, reference_of, utcnow

if t.TYPE_CHECKING:
    import datetime as dt

    from sqlalchemy.orm import Session

DurableReceiver = c.Callable[[DurableEvent, "Session"], t.Any]
"""A durable receiver: called with the event and a session in the worker's transaction."""

F = t.TypeVar("F", bound=c.Callable[..., t.Any])


@dataclass(frozen=True)
class DurableRoute:
    """One durable receiver connected to a model class (and its subclasses).

    ``trigger`` is None for every trigger of the class.
    """

    model_class: type
    trigger: str | None
    receiver: str


_routes: list[DurableRoute] = []
_routes_by_class: dict[tuple[type, str], tuple[DurableRoute, ...]] = {}
_lock = threading.Lock()


def receiver_reference(function: t.Callable[..., t.Any]) -> str:
    """The ``module:name`` a worker imports ``function`` by; refuses what it could not import."""
    label = getattr(function, "__qualname__", repr(function))
    if inspect.ismethod(function):
        raise DurableReceiverError(
            f"durable receiver {label} is a bound method: a worker cannot import the object "
            "it is bound to; connect a module-level function"
        )
    if not inspect.isfunction(function):
        raise DurableReceiverError(
            f"durable receiver {label!r} is not a function; connect a module-level function"
        )
    if function.__name__ == "<lambda>":
        raise DurableReceiverError(
            f"durable receiver {label} is a lambda: a worker imports receivers by name; "
            "connect a module-level function"
        )
    if "<locals>" in function.__qualname__:
        raise DurableReceiverError(
            f"durable receiver {function.__module__}.{label} is not defined at the top level "
            "of its module: a worker imports receivers by name; move it to module level"
        )
    if function.__module__ == "__main__":
        raise DurableReceiverError(
            f"durable receiver {label} is defined in the script being run (__main__): a "
            "worker or relay cannot import it by that name; move it to a module and import "
            "it from there"
        )
    # Not imported here to compare: a decorator runs before its module binds the name.
    return reference_of(function)


def connect_durable(receiver: F, model_class: type, trigger: str | None = None) -> F:
    """Make every committed ``trigger`` of ``model_class`` (any trigger when None) write
    an outbox row for ``receiver``; returns ``receiver`` (so it works as a decorator)."""
    route = DurableRoute(model_class, trigger, receiver_reference(receiver))
    from .writer import watch  # needs SQLAlchemy, which only the writing side has

    watch(model_class, trigger)
    with _lock:
        if route not in _routes:
            _routes.append(route)
        _routes_by_class.clear()
    return receiver


provide_durable_connector(connect_durable)


def disconnect_durable(receiver: c.Callable[..., t.Any], model_class: type | None = None) -> None:
    """Stop writing outbox rows for ``receiver`` (on ``model_class`` only, when given).

    Rows already written are still published.
    """
    reference = reference_of(receiver)
    with _lock:
        _routes[:] = [
            route
            for route in _routes
            if route.receiver != reference
            or (model_class is not None and route.model_class is not model_class)
        ]
        _routes_by_class.clear()


def forget_durable_routes() -> None:
    """Disconnect every durable receiver (test suites do, between tests)."""
    with _lock:
        _routes.clear()
        _routes_by_class.clear()


def durable_routes(model_class: type, trigger: str) -> tuple[DurableRoute, ...]:
    """The durable receivers a committed ``trigger`` of ``model_class`` goes to, in the
    order they were connected."""
    key = (model_class, trigger)
    try:
        return _routes_by_class[key]
    except KeyError:
        pass
    with _lock:
        found = tuple(
            route
            for route in _routes
            if issubclass(model_class, route.model_class)
            and (route.trigger is None or route.trigger == trigger)
        )
        _routes_by_class[key] = found
    return found


def has_durable_routes() -> bool:
    """Whether any durable receiver is connected (writers skip all work when not)."""
    return bool(_routes)


def resolve_receiver(reference: str) -> DurableReceiver:
    """The durable receiver function ``module:name`` refers to."""
    found = import_reference(reference)
    # Only functions: a message naming something else (a class, a builtin such as
    # os.system) is refused rather than called.
    if not inspect.isfunction(inspect.unwrap(found)):
        raise OutboxError(f"durable receiver {reference!r} is not a function")
    return t.cast(DurableReceiver, found)


def encode_payload(
    model_class: type, trigger: str, args: c.Sequence[t.Any], kwargs: c.Mapping[str, t.Any]
) -> str:
    """The trigger's arguments as JSON; an :class:`~statesignals.OutboxPayloadError`
    naming the class, the trigger and the argument when JSON cannot hold them."""
    try:
        return json.dumps({"args": list(args), "kwargs": dict(kwargs)}, allow_nan=False)
    except (TypeError, ValueError):
        pass
    arguments: list[tuple[str, t.Any]] = [(f"argument {i}", v) for i, v in enumerate(args)]
    arguments += [(f"keyword argument {k!r}", v) for k, v in kwargs.items()]
    for label, value in arguments:
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise OutboxPayloadError(
                f"{model_class.__qualname__}.{trigger}(): {label} is "
                f"{type(value).__name__} {value!r}, which JSON cannot encode ({error}); "
                "durable receivers get their payload as JSON: pass plain values (ids, "
                "strings, numbers, lists, dicts)"
            ) from None
    raise OutboxPayloadError(
        f"{model_class.__qualname__}.{trigger}(): the arguments cannot be encoded as JSON"
    )


def event_id_for(transition_id: uuid.UUID | str, receiver: str) -> str:
    """The event id of one transition for one receiver: derived, so it is stable."""
    base = transition_id if isinstance(transition_id, uuid.UUID) else uuid.UUID(str(transition_id))
    return str(uuid.uuid5(base, receiver))


@functools.lru_cache(maxsize=1024)
def _aggregate_type(model_class: type) -> str:
    return reference_of(model_class)


def outbox_rows(
    routes: c.Sequence[DurableRoute],
    *,
    model_class: type,
    primary_key: t.Any,
    sequence: int,
    trigger: str,
    source: str,
    dest: str,
    transition_id: uuid.UUID | str,
    occurred_at: dt.datetime,
    payload: str,
) -> list[dict[str, t.Any]]:
    """The outbox rows, one per route, for one committed transition."""
    aggregate_type = _aggregate_type(model_class)
    aggregate_id = json.dumps(primary_key)
    occurred = naive_utc(occurred_at)
    now = utcnow()
    return [
        {
            "event_id": event_id_for(transition_id, route.receiver),
            "transition_id": str(transition_id),
            "aggregate_type": aggregate_type,
            "aggregate_id": aggregate_id,
            "sequence": sequence,
            "trigger": trigger,
            "source": source,
            "dest": dest,
            "payload": payload,
            "receiver": route.receiver,
            "attempts": 0,
            "occurred_at": occurred,
            "available_at": now,
        }
        for route in routes
    ]


__all__ = [
    "DurableReceiver",
    "DurableRoute",
    "connect_durable",
    "disconnect_durable",
    "durable_routes",
    "encode_payload",
    "event_id_for",
    "forget_durable_routes",
    "has_durable_routes",
    "outbox_rows",
    "receiver_reference",
    "resolve_receiver",
]

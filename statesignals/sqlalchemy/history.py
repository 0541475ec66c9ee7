"""The ``<table>_transitions`` table: every committed transition of a persisted workflow.

One row per transition, plus one for the creation, written in the flush that writes the
state change (so a rolled-back transition leaves no row either):

=============  ==============================================================
``model_type`` the model class's name
``model_key``  the row's primary key as text (values joined by ``","``)
``sequence``   the version the entry made: 1 for the creation, then one per transition
``trigger``    the trigger (None for the creation)
``source``     the state before (None for the creation)
``dest``       the state after
``event_id``   the transition's UUID, as in ``transition_committed``'s payload
``occurred_at`` when the transition happened (UTC)
=============  ==============================================================

(``model_type``, ``model_key``, ``sequence``) is unique: two writers can never both
record the same step of one row.
"""

from __future__ import annotations

import collections.abc as c
import typing as t
import uuid
from datetime import datetime

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    Select,
    String,
    Table,
    UniqueConstraint,
    Uuid,
    insert,
    select,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Connection

from statesignals import TransitionRecord, WorkflowDefinitionError
from statesignals.naming import model_state_name

_PERSISTED_TABLES: dict[str, tuple[type, str]] = {}
"""Table name -> (workflow class, version column): for naming a missing version column."""


def history_table(cls: t.Any) -> Table:
    """The history table of ``cls`` (created on its metadata on first use)."""
    base = sa_inspect(cls).local_table
    name = f"{base.name}_transitions"
    metadata = base.metadata
    key = name if base.schema is None else f"{base.schema}.{name}"
    if key in metadata.tables:
        return t.cast(Table, metadata.tables[key])
    return Table(
        name,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("model_type", String(200), nullable=False),
        Column("model_key", String(200), nullable=False),
        Column("sequence", Integer, nullable=False),
        Column("trigger", String(200), nullable=True),
        Column("source", String(200), nullable=True),
        Column("dest", String(200), nullable=False),
        Column("event_id", Uuid, nullable=False, unique=True),
        Column("occurred_at", DateTime(timezone=True), nullable=False),
        UniqueConstraint("model_type", "model_key", "sequence", name=f"uq_{name}_sequence"),
        schema=base.schema,
    )


def register(cls: t.Any) -> None:
    """Remember ``cls``'s table, so a missing version column can be named."""
    table = sa_inspect(cls).local_table
    _PERSISTED_TABLES[table.name] = (cls, "version")


def persisted_tables() -> dict[str, tuple[type, str]]:
    """Table name -> (workflow class, version column) of every persisted workflow."""
    return _PERSISTED_TABLES


def _key_text(key: c.Sequence[t.Any]) -> str:
    return ",".join(str(value) for value in key)


def creation_row(
    model: t.Any,
    key: tuple[t.Any, ...],
    pending: c.Sequence[tuple[TransitionRecord, bool]],
    created_at: datetime,
) -> dict[str, t.Any]:
    """The history row for ``model``'s creation (before its ``pending`` transitions)."""
    attribute = type(model).machine.model_attribute
    dest = pending[0][0].source if pending else model_state_name(getattr(model, attribute))
    # Version 1 is the creation; transitions before the first flush come after it.
    first_version = pending[0][0].version if pending else model.version
    return {
        "model_type": type(model).__qualname__,
        "model_key": _key_text(key),
        "sequence": (first_version or 2) - 1 if pending else first_version,
        "trigger": None,
        "source": None,
        "dest": dest,
        "event_id": uuid.uuid4(),
        "occurred_at": created_at,
    }


def transition_row(record: TransitionRecord) -> dict[str, t.Any]:
    """The history row for one flushed transition."""
    return {
        "model_type": record.model_class.__qualname__,
        "model_key": record.key,
        "sequence": record.version,
        "trigger": record.trigger,
        "source": record.source,
        "dest": record.dest,
        "event_id": record.event_id,
        "occurred_at": record.occurred_at,
    }


def write(connection: Connection, rows: list[tuple[Table, dict[str, t.Any]]]) -> None:
    """INSERT ``rows`` (one executemany per table) in the flush's transaction."""
    by_table: dict[Table, list[dict[str, t.Any]]] = {}
    for table, row in rows:
        by_table.setdefault(table, []).append(row)
    for table, values in by_table.items():
        # One row (the usual: one trigger per flush) skips executemany's batching.
        connection.execute(insert(table), values[0] if len(values) == 1 else values)


def select_history(cls: t.Any, key: t.Any) -> Select[t.Any]:
    """``SELECT`` one row's history (``key``: primary key value, tuple, or instance)."""
    table = getattr(cls, "history_table", None)
    if table is None:
        raise WorkflowDefinitionError(
            f"{cls.__qualname__} keeps no history: declare history = True on the class"
        )
    if isinstance(key, cls):
        key = tuple(sa_inspect(key).mapper.primary_key_from_instance(key))
    values = key if isinstance(key, tuple) else (key,)
    return (
        select(table)
        .where(table.c.model_type == cls.__qualname__, table.c.model_key == _key_text(values))
        .order_by(table.c.sequence)
    )


__all__ = [
    "creation_row",
    "history_table",
    "persisted_tables",
    "register",
    "select_history",
    "transition_row",
    "write",
]

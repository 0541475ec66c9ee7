"""A workflow model that is also a SQLAlchemy mapped class.

:class:`PersistedWorkflow` goes with a declarative base, in either order::

    class Order(PersistedWorkflow, Base):
        __tablename__ = "orders"
        id: Mapped[int] = mapped_column(primary_key=True)
        state: Mapped[str] = state_column()
        states = ["pending", "paid"]; initial = "pending"
        transitions = [{"trigger": "pay", "source": "pending", "dest": "paid"}]

What it adds to the plain workflow model:

* a ``version`` column, the mapper's ``version_id_col``: every transition adds one
  to it, and the UPDATE that writes a transition checks the version the row was
  loaded with (optimistic locking);
* triggers that flush the session when they return, so that a conflict raises
  :class:`~statesignals.StaleTransitionError` at the call site;
* a check on load that the stored state is one the workflow has;
* with ``history = True``, a ``<table>_transitions`` table (:mod:`.history`).

Every transition is kept as a :class:`~statesignals.TransitionRecord` on the model
until the flush that writes it, then on the database transaction until it commits
(:mod:`.tracking`).
"""

from __future__ import annotations

import collections.abc as c
import functools
import typing as t
from enum import Enum

from sqlalchemy import Integer, String, event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapped, MappedColumn, declared_attr, mapped_column
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.orm.exc import ObjectDeletedError
from sqlalchemy.sql.schema import Table
from sqlalchemy.types import TypeDecorator
from transitions import Machine

from statesignals import (
    DetachedWorkflowError,
    ProtectedStateError,
    SignalingMachine,
    TransitionRecord,
    UnknownStoredStateError,
    WorkflowDefinitionError,
    transition_committed,
    transition_completed,
)
from statesignals.committed import PERSISTED
from statesignals.declarative import _initial_value, state_names, trigger_names
from statesignals.routes import RouteSignal, route, routed

from . import history, tracking

STATE_INFO = "statesignals_state"
"""Key in a state column's ``info``: present on columns made by :func:`state_column`."""
PROTECTED_INFO = "statesignals_protected"

# Per-instance bookkeeping, in the instance's __dict__ next to SQLAlchemy's.
_DEPTH = "_statesignals_trigger_depth"
"""How many triggers of this instance are running (callbacks may fire more)."""
_ASSIGNABLE = "_statesignals_state_assignable"
"""One direct assignment of a protected state is allowed: the constructor's."""
_RECORDING = "__statesignals_recording__"
"""On a class: (route key, route signal) of one route its recorder is connected to."""
_RECORDED = "statesignals_recorded"
"""Set on an EventData once its transition was recorded."""


class StateType(TypeDecorator[t.Any]):
    """A state stored by name in a plain string column: Enum members by their ``name``.

    No native ENUM type: adding a state to a workflow needs no migration.
    """

    impl = String
    cache_ok = True

    def __init__(self, length: int = 64) -> None:
        super().__init__(length)
        self.members: dict[str, Enum] = {}
        """Enum states by name; filled in when the workflow class is created."""

    def process_bind_param(self, value: t.Any, dialect: t.Any) -> t.Any:
        return value.name if isinstance(value, Enum) else value

    def process_result_value(self, value: t.Any, dialect: t.Any) -> t.Any:
        # An unknown name is left as it is, for the load check to report with its row.
        return self.members.get(value, value) if self.members else value


def state_column(
    *,
    protected: bool = False,
    length: int = 64,
    index: bool = True,
    **kwargs: t.Any,
) -> MappedColumn[t.Any]:
    """The column holding a persisted workflow's state: a string, NOT NULL, indexed.

    New rows start in the workflow's ``initial`` state. ``protected=True`` refuses
    direct assignment (``order.state = "paid"`` raises
    :class:`~statesignals.ProtectedStateError`) outside a trigger; the constructor
    may still set it. Other keywords go to :func:`~sqlalchemy.orm.mapped_column`.
    """
    info = {**kwargs.pop("info", {}), STATE_INFO: True, PROTECTED_INFO: protected}
    return mapped_column(StateType(length), nullable=False, index=index, info=info, **kwargs)


def _key_text(primary_key: c.Sequence[t.Any]) -> str:
    return ",".join(str(value) for value in primary_key)


class PersistedWorkflow(SignalingMachine):
    """A workflow model whose instances are rows, on SQLAlchemy 2.x declarative mapping.

    Declare the workflow as on :class:`~statesignals.SignalingMachine` and the
    columns as on any mapped class, with the state in a :func:`state_column`
    (named ``state``, or as ``model_attribute`` says). The class adds:

    ``version``
        The row's version: 1 when created, one more per transition. It is the
        mapper's ``version_id_col``, so writing a transition checks that nobody
        changed the row since it was loaded. Other column changes are checked
        against it too but do not change it.
    triggers that flush
        When the outermost trigger returns, the session is flushed: a conflict
        raises :class:`~statesignals.StaleTransitionError` there, and
        ``transition_flushed`` receivers run inside that flush.
    ``history = True``
        Every transition, and the creation, is written to ``<table>_transitions``
        in the same flush (:attr:`history_table`, :meth:`history_select`).

    A trigger on an instance that was loaded and whose session is gone raises
    :class:`~statesignals.DetachedWorkflowError`; an instance that was never added
    to a session behaves like an in-memory model (``transition_committed`` is sent
    when its trigger returns) and writes its history when it is first flushed.
    """

    __statesignals_persisted__: t.ClassVar[bool] = True
    # Trigger annotations (``pay: Trigger``) are not columns: let declarative pass them.
    __allow_unmapped__: t.ClassVar[bool] = True

    version: Mapped[int] = mapped_column(Integer, nullable=False)
    """Transitions written so far, plus one; checked on every UPDATE."""

    history: t.ClassVar[bool] = False
    """Whether the class writes every transition to ``<table>_transitions``."""

    optimistic_locking: t.ClassVar[bool] = True
    """Whether UPDATEs check the version (``version_id_col``); on by default."""

    history_table: t.ClassVar[Table | None] = None
    """The ``<table>_transitions`` table, when ``history`` is on."""

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, t.Any]:
        return version_mapper_args(cls)

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        # Abstract intermediate classes are not mapped; classes without states compile
        # no machine: both are configured through their subclasses.
        if "__mapper__" in cls.__dict__ and isinstance(getattr(cls, "machine", None), Machine):
            _configure(cls)

    def trigger(self, trigger_name: str, *args: t.Any, **kwargs: t.Any) -> t.Any:
        """Fire ``trigger_name`` as the generated trigger methods do, flushing when it returns."""
        return _persisting(type(self), trigger_name, SignalingMachine.trigger)(
            self, trigger_name, *args, **kwargs
        )

    @classmethod
    def history_select(cls, key: t.Any) -> t.Any:
        """The query for one row's history, oldest first: ``session.execute(...).all()``.

        ``key`` is the row's primary key value (a tuple for composite keys) or an
        instance. Rows have ``sequence`` (the version the entry made), ``trigger``
        (None for the creation), ``source``, ``dest``, ``event_id`` and ``occurred_at``.
        """
        return history.select_history(cls, key)


def version_mapper_args(cls: t.Any) -> dict[str, t.Any]:
    """The mapper arguments that make ``version`` the optimistic-locking column.

    :class:`PersistedWorkflow` declares them as its ``__mapper_args__``; a class that
    declares its own (for inheritance, say) must include them::

        @declared_attr.directive
        def __mapper_args__(cls):
            return {**version_mapper_args(cls), "polymorphic_on": cls.__table__.c.kind}
    """
    if not getattr(cls, "optimistic_locking", True):
        return {}
    table: Table | None = cls.__dict__.get("__table__")
    if table is None:
        return {}  # single-table inheritance: the parent's mapper has the version
    # The application counts versions (one per transition), so several transitions
    # written in one flush each get their own sequence number.
    return {"version_id_col": table.c.version, "version_id_generator": False}


def _configure(cls: type[PersistedWorkflow]) -> None:
    machine = cls.machine
    attribute = machine.model_attribute
    mapper = sa_inspect(cls)
    if cls.optimistic_locking and mapper.version_id_col is None:
        raise WorkflowDefinitionError(
            f"{cls.__qualname__} declares __mapper_args__ without the version column: "
            "return {**version_mapper_args(cls), ...} from it (statesignals.sqlalchemy), "
            "or set optimistic_locking = False"
        )
    if attribute not in mapper.columns:
        raise WorkflowDefinitionError(
            f"{cls.__qualname__}: the state attribute {attribute!r} is not a mapped column; "
            f"declare {attribute}: Mapped[str] = state_column()"
        )
    column = mapper.columns[attribute]
    names = state_names(machine)
    if isinstance(column.type, StateType):
        column.type.members = {
            name: value
            for name in names
            if isinstance(value := machine.get_state(name).value, Enum)
        }
    known = frozenset(names)
    initial = _initial_value(machine)
    event.listen(cls, "init", functools.partial(_on_init, initial, attribute, known))
    check = functools.partial(_check_loaded, cls, attribute, known)
    event.listen(cls, "load", lambda target, context: check(target))
    event.listen(
        cls,
        "refresh",
        lambda target, context, attrs: (
            check(target) if attrs is None or attribute in attrs else None
        ),
    )
    if column.info.get(PROTECTED_INFO):
        event.listen(getattr(cls, attribute), "set", functools.partial(_guard, cls, attribute))
    _connect_recorder(cls)
    for trigger in trigger_names(machine):
        _wrap_trigger(cls, trigger)
    if cls.history:
        cls.history_table = history.history_table(cls)
    history.register(cls)


def _connect_recorder(cls: type[PersistedWorkflow]) -> None:
    """Connect :func:`_record` to ``transition_completed`` of every trigger of ``cls``.

    Each class records all its triggers, inherited ones included (a transition is
    recorded once however many classes' routes reach it).
    """
    triggers = trigger_names(cls.machine)
    for trigger in triggers:
        route(cls, transition_completed.name, trigger).connect_bookkeeping(_record)
    if triggers:
        key = (transition_completed.name, triggers[0])
        type.__setattr__(cls, _RECORDING, (key, route(cls, *key)))


def _keep_recording(cls: type) -> None:
    """Reconnect the recorder if every receiver was disconnected since (as test suites do
    with ``statesignals.testing.disconnect_all()``): the version must count every transition."""
    sentinel: tuple[tuple[str, str], RouteSignal] | None = cls.__dict__.get(_RECORDING)
    if sentinel is None:
        return
    key, signal = sentinel
    declared = routed.get(id(cls))
    current = None if declared is None else declared.get(key)
    if current is not signal or not signal.receivers:
        _connect_recorder(t.cast(type[PersistedWorkflow], cls))


def _on_init(
    initial: t.Any, attribute: str, known: frozenset[str], target: t.Any, args: t.Any, kwargs: t.Any
) -> None:
    given = kwargs.get(attribute)
    if given is not None:
        name = given.name if isinstance(given, Enum) else given
        if name not in known:
            raise UnknownStoredStateError(
                f"{type(target).__qualname__}: {given!r} is not a state; known: "
                f"{', '.join(sorted(known))}"
            )
    instance = target.__dict__
    instance[_ASSIGNABLE] = True
    setattr(target, attribute, initial)
    instance[_ASSIGNABLE] = given is not None
    target.version = 1
    tracking.mark_created(target)


def _check_loaded(cls: type, attribute: str, known: frozenset[str], target: t.Any) -> None:
    value = target.__dict__.get(attribute)
    if value is None:
        return  # not loaded (deferred), checked when it is
    name = value.name if isinstance(value, Enum) else value
    if name not in known:
        state = sa_inspect(target)
        key = state.mapper.primary_key_from_instance(target)
        table = state.mapper.local_table
        raise UnknownStoredStateError(
            f"{getattr(table, 'name', table)} row {_key_text(key)}: stored {attribute} "
            f"{value!r} is not a state of {type(target).__qualname__}; known: "
            f"{', '.join(sorted(known))} (rename the rows, or declare the state)"
        )


def _guard(
    cls: type, attribute: str, target: t.Any, value: t.Any, old: t.Any, initiator: t.Any
) -> None:
    instance = target.__dict__
    if instance.get(_DEPTH):
        return
    if instance.get(_ASSIGNABLE):
        instance[_ASSIGNABLE] = False
        return
    raise ProtectedStateError(
        f"{type(target).__qualname__}.{attribute} is protected: fire a trigger instead of "
        f"assigning {value!r}"
    )


def _record(model: t.Any, /, **payload: t.Any) -> None:
    """Receiver of ``transition_completed``: count the version, keep the transition."""
    event_data = payload["event_data"]
    if getattr(event_data, _RECORDED, False):
        return
    setattr(event_data, _RECORDED, True)
    version = (model.version or 0) + 1
    model.version = version
    record = TransitionRecord.of(model, payload, version)
    session = instance_state(model).session
    if session is not None:
        tracking.keep_unflushed(session, model, record)
        return
    # Outside any session there is no transaction to wait for: committed now.
    tracking.keep_unflushed(None, model, record)
    transition_committed.send_now(record, payload.get("machine"))


def _wrap_trigger(cls: type[PersistedWorkflow], trigger: str) -> None:
    generated = cls.__dict__.get(trigger)
    if generated is None or getattr(generated, "__statesignals_persisting__", False):
        return
    wrapper = _persisting(cls, trigger, generated)
    functools.update_wrapper(wrapper, generated)
    setattr(cls, trigger, wrapper)


def _persisting(
    cls: type[PersistedWorkflow], trigger: str, fire: c.Callable[..., t.Any]
) -> c.Callable[..., t.Any]:
    """``fire`` (a trigger) made to refuse detached instances and flush when it returns."""
    attribute = cls.machine.model_attribute
    if t.cast(t.Any, cls.machine)._asynchronous:

        async def fire_async(self: t.Any, *args: t.Any, **kwargs: t.Any) -> t.Any:
            _check_attached(self, trigger)
            _keep_recording(type(self))
            instance = self.__dict__
            depth = instance.get(_DEPTH, 0)
            before = None
            if depth == 0:
                before = _state_before(self, trigger, attribute, loaded_only=True)
            instance[_DEPTH] = depth + 1
            try:
                result = await fire(self, *args, **kwargs)
            except BaseException:
                if depth == 0:
                    _undo_uncompleted(self, attribute, before)
                instance[_DEPTH] = depth
                if depth == 0:
                    # Receivers raised after the transition: it still has to be written.
                    await tracking.flush_async(self, trigger)
                raise
            instance[_DEPTH] = depth
            if depth == 0:
                await tracking.flush_async(self, trigger)
            return result

        fire_async.__statesignals_persisting__ = True  # type: ignore[attr-defined]
        return fire_async

    def fire_sync(self: t.Any, *args: t.Any, **kwargs: t.Any) -> t.Any:
        _check_attached(self, trigger)
        _keep_recording(type(self))
        instance = self.__dict__
        depth = instance.get(_DEPTH, 0)
        before = _state_before(self, trigger, attribute, loaded_only=False) if depth == 0 else None
        instance[_DEPTH] = depth + 1
        try:
            result = fire(self, *args, **kwargs)
        except BaseException:
            if depth == 0:
                _undo_uncompleted(self, attribute, before)
            instance[_DEPTH] = depth
            if depth == 0:
                # Receivers raised after the transition: it still has to be written.
                tracking.flush(self, trigger)
            raise
        instance[_DEPTH] = depth
        if depth == 0:
            tracking.flush(self, trigger)
        return result

    fire_sync.__statesignals_persisting__ = True  # type: ignore[attr-defined]
    return fire_sync


_Before = tuple[t.Any, int]
"""The state attribute's value before an outermost trigger, and how many transitions
the instance held unflushed then."""


def _state_before(model: t.Any, trigger: str, attribute: str, *, loaded_only: bool) -> _Before:
    """What :func:`_undo_uncompleted` restores if the trigger raises.

    Reading the state loads an expired instance; a row deleted underneath is a stale
    transition, said with the trigger. ``loaded_only``: read no expired attribute
    (an ``AsyncSession`` cannot load it here; the machine will say so itself).
    """
    unflushed = len(model.__dict__.get(tracking.UNFLUSHED, ()))
    if loaded_only:
        return model.__dict__.get(attribute), unflushed
    try:
        return getattr(model, attribute), unflushed
    except ObjectDeletedError as error:
        raise tracking.stale_error(model, trigger, [], None) from error


def _undo_uncompleted(model: t.Any, attribute: str, before: _Before | None) -> None:
    """Put back the state a trigger changed before it raised without completing.

    transitions sets the new state before the ``on_enter`` and ``after`` callbacks;
    one of them raising means no ``transition_completed``, so no version and no
    history: left as it is, the state would be written without them.
    """
    if before is None:
        return
    state, unflushed = before
    instance = model.__dict__
    if len(instance.get(tracking.UNFLUSHED, ())) != unflushed or state is None:
        return  # a transition was recorded: it is written as it ended
    if instance.get(attribute) != state:
        setattr(model, attribute, state)  # the trigger depth lets a protected state pass


def _check_attached(model: t.Any, trigger: str) -> None:
    state = instance_state(model)
    if state.detached:
        key = state.identity or ()
        raise DetachedWorkflowError(
            f"{type(model).__qualname__} {_key_text(key)}: cannot fire {trigger!r} on an "
            "instance no session holds (its session was closed or it was expunged): load it "
            "in a session, or session.add() it back, and fire the trigger there"
        )
    if state.deleted or state.was_deleted:
        key = state.identity or ()
        raise DetachedWorkflowError(
            f"{type(model).__qualname__} {_key_text(key)}: cannot fire {trigger!r} on a deleted row"
        )


def is_persisted(model: object) -> bool:
    """Whether ``model`` is an instance of a persisted workflow."""
    return bool(getattr(type(model), PERSISTED, False))


__all__ = ["PersistedWorkflow", "StateType", "is_persisted", "state_column", "version_mapper_args"]

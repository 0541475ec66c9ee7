"""PersistedWorkflow: a SQLAlchemy mapped class that is a workflow model."""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest
from sqlalchemy import String, select, text, update
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    declared_attr,
    mapped_column,
    sessionmaker,
)

from statesignals import (
    ProtectedStateError,
    StaleTransitionError,
    Trigger,
    UnknownStoredStateError,
    WorkflowDefinitionError,
    transition_completed,
)
from statesignals.dispatch import WorkflowSignal
from statesignals.routes import route
from statesignals.sqlalchemy import (
    PersistedWorkflow,
    sqlite_engine,
    state_column,
    version_mapper_args,
)

from .persisted_models import Order, Priority, Shipment, Ticket
from .persistence_fixtures import engine, load_order, postgres_engine, sessions, stored_order

__all__ = ["engine", "postgres_engine", "sessions"]

Sessions = sessionmaker[Session]


def test_new_rows_start_in_the_initial_state_at_version_one(sessions: Sessions) -> None:
    with sessions() as session, session.begin():
        order = Order()
        session.add(order)
        assert (order.state, order.version) == ("pending", 1)
        session.flush()
        key = order.id
    with sessions() as session:
        query = text("SELECT state, version FROM orders WHERE id = :id")
        stored = session.execute(query, {"id": key}).one()
    assert tuple(stored) == ("pending", 1)


def test_loaded_rows_are_working_models(sessions: Sessions) -> None:
    with sessions() as session, session.begin():
        session.add(Order(customer="grace"))
    with sessions() as session, session.begin():
        order = session.scalars(select(Order).where(Order.customer == "grace")).one()
        assert order.is_pending()
        assert order.may_pay()
        assert order.pay()
        assert order.trigger("ship")
    with sessions() as session:
        order = session.scalars(select(Order).where(Order.customer == "grace")).one()
        assert (order.state, order.version) == ("shipped", 3)


def test_the_trigger_flushes_when_it_returns(sessions: Sessions) -> None:
    with sessions() as session, session.begin():
        order = Order()
        session.add(order)
        order.pay()
        assert not session.dirty and not session.new
        query = text("SELECT state, version FROM orders WHERE id = :id")
        row = session.execute(query, {"id": order.id}).one()
        assert tuple(row) == ("paid", 2)


def test_internal_transitions_count_a_version(sessions: Sessions) -> None:
    with sessions() as session, session.begin():
        order = Order()
        session.add(order)
        order.note()
        assert (order.state, order.version) == ("pending", 2)


def test_enum_states_are_stored_by_name_in_a_string_column(sessions: Sessions) -> None:
    with sessions() as session, session.begin():
        ticket = Ticket()
        session.add(ticket)
        ticket.escalate()
        session.flush()
        key = ticket.id
    with sessions() as session:
        stored = session.execute(text("SELECT status FROM tickets WHERE id = :id"), {"id": key})
        assert stored.scalar_one() == "HIGH"
        loaded = session.get(Ticket, key)
        assert loaded is not None
        assert loaded.status is Priority.HIGH
        assert loaded.may_close()
    assert Ticket.__table__.c.status.type.impl.__class__.__name__ == "String"  # type: ignore[attr-defined]


def test_unknown_stored_state_fails_on_load_naming_table_key_and_value(
    sessions: Sessions,
) -> None:
    with sessions() as session, session.begin():
        ticket = Ticket()
        session.add(ticket)
        session.flush()
        key = ticket.id
    with sessions() as session, session.begin():
        session.execute(update(Ticket).values(status="MEDIUM"))
    with sessions() as session, pytest.raises(UnknownStoredStateError) as raised:
        session.get(Ticket, key)
    message = str(raised.value)
    assert f"tickets row {key}" in message
    assert "'MEDIUM'" in message
    assert "Ticket" in message


def test_protected_state_refuses_direct_assignment(sessions: Sessions) -> None:
    with sessions() as session, session.begin():
        ticket = Ticket()
        session.add(ticket)
        with pytest.raises(ProtectedStateError, match=r"Ticket\.status is protected"):
            ticket.status = Priority.CLOSED
        assert ticket.status is Priority.LOW
        ticket.close()
        assert ticket.status.name == "CLOSED"


def test_protected_state_may_be_set_by_the_constructor() -> None:
    ticket = Ticket(status=Priority.HIGH)
    assert ticket.status is Priority.HIGH
    with pytest.raises(ProtectedStateError):
        ticket.status = Priority.LOW


def test_constructor_refuses_a_state_the_workflow_does_not_have() -> None:
    with pytest.raises(UnknownStoredStateError, match="'lost' is not a state"):
        Order(state="lost")


def test_nested_workflows_store_the_full_state_name(sessions: Sessions) -> None:
    with sessions() as session, session.begin():
        shipment = Shipment()
        session.add(shipment)
        shipment.dispatch()
        shipment.transfer()
        session.flush()
        key = shipment.id
    with sessions() as session, session.begin():
        stored = session.execute(text("SELECT state FROM shipments WHERE id = :id"), {"id": key})
        assert stored.scalar_one() == "transit_sea"
        loaded = session.get(Shipment, key)
        assert loaded is not None
        assert loaded.is_transit_sea()
        loaded.deliver()
        assert (loaded.state, loaded.version) == ("delivered", 4)


def test_a_state_attribute_that_is_not_a_column_is_a_definition_error() -> None:
    class Base(DeclarativeBase):
        pass

    with pytest.raises(WorkflowDefinitionError, match="declare state: Mapped"):

        class Broken(PersistedWorkflow, Base):
            __tablename__ = "broken"
            id: Mapped[int] = mapped_column(primary_key=True)
            label: Mapped[str] = mapped_column(String(10))
            states: t.ClassVar[list[str]] = ["a", "b"]
            initial = "a"


class InheritingBase(DeclarativeBase):
    pass


class Document(PersistedWorkflow, InheritingBase):
    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = state_column()

    states = ["draft", "live"]
    initial = "draft"
    transitions = [["publish", "draft", "live"]]

    publish: Trigger

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, t.Any]:
        return {**version_mapper_args(cls), "polymorphic_on": "kind", "polymorphic_identity": "doc"}


class Memo(Document):
    """Single-table inheritance: the subclass extends the workflow and keeps the version."""

    __mapper_args__ = {"polymorphic_identity": "memo"}
    states = ["archived"]
    transitions = [["archive", "live", "archived"]]

    archive: Trigger


def test_subclasses_extend_the_workflow_and_count_each_transition_once(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path / "documents.db")
    InheritingBase.metadata.create_all(engine)
    try:
        with Session(engine) as session, session.begin():
            memo = Memo()
            session.add(memo)
            memo.publish()
            memo.archive()
            assert (memo.state, memo.version) == ("archived", 3)
        assert Memo.__mapper__.version_id_col is Document.__table__.c.version
    finally:
        engine.dispose()


def test_own_mapper_args_without_the_version_column_are_refused() -> None:
    class Base(DeclarativeBase):
        pass

    with pytest.raises(WorkflowDefinitionError, match="version_mapper_args"):

        class Unversioned(PersistedWorkflow, Base):
            __tablename__ = "unversioned"
            id: Mapped[int] = mapped_column(primary_key=True)
            state: Mapped[str] = state_column()
            __mapper_args__ = {"eager_defaults": True}
            states: t.ClassVar[list[str]] = ["a", "b"]
            initial = "a"


def test_the_version_recorder_does_not_count_as_a_listener(sessions: Sessions) -> None:
    # Machines skip their receiver-error work while WorkflowSignal.connected is empty:
    # defining a persisted workflow must not make every other class's trigger pay it.
    recorder = route(Order, transition_completed.name, "pay")

    def heard(order: Order, **payload: t.Any) -> None:
        pass

    Order.on_transition("pay")(heard)
    assert recorder in WorkflowSignal.connected
    recorder.disconnect(heard)
    with sessions() as session, session.begin():
        order = Order()
        session.add(order)
        order.pay()
        assert order.version == 2  # counted by the recorder
    assert recorder.receivers
    assert recorder not in WorkflowSignal.connected


class CallbackBase(DeclarativeBase):
    pass


class Parcel(PersistedWorkflow, CallbackBase):
    """A workflow whose ``after`` callback fails once the state has changed."""

    __tablename__ = "parcels"
    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = state_column(protected=True)

    history = True
    states = ["packed", "shipped", "lost"]
    initial = "packed"
    transitions = [
        {"trigger": "ship", "source": "packed", "dest": "shipped"},
        {"trigger": "lose", "source": "packed", "dest": "lost", "after": "fail"},
    ]

    ship: Trigger
    lose: Trigger

    def fail(self) -> None:
        raise RuntimeError("label printer jammed")


def test_a_callback_raising_after_the_state_changed_writes_nothing(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path / "parcels.db")
    CallbackBase.metadata.create_all(engine)
    try:
        with Session(engine) as session, session.begin():
            session.add(Parcel(id=1))
        with Session(engine) as session, session.begin():
            parcel = session.get(Parcel, 1)
            assert parcel is not None
            with pytest.raises(RuntimeError, match="jammed"):
                parcel.lose()
            # The transition did not complete: no version, no history, so no state either.
            assert (parcel.state, parcel.version) == ("packed", 1)
            parcel.ship()
        with Session(engine) as session:
            stored = session.execute(text("SELECT state, version FROM parcels")).one()
            history = session.execute(Parcel.history_select(1)).all()
        assert tuple(stored) == ("shipped", 2)
        assert [row.trigger for row in history] == [None, "ship"]
    finally:
        engine.dispose()


def test_a_trigger_on_an_expired_row_deleted_underneath_is_a_stale_transition(
    sessions: Sessions,
) -> None:
    key = stored_order(sessions)
    with sessions() as session:
        order = load_order(session, key)
        session.expire(order)
        with sessions() as other, other.begin():
            other.execute(text("DELETE FROM orders WHERE id = :id"), {"id": key})
        with pytest.raises(StaleTransitionError, match=f"Order {key}: 'pay' was not written"):
            order.pay()
        session.rollback()

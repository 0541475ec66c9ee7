"""Workflow models on ``transitions`` whose every state change is a blinker signal."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from transitions import MachineError

from .analysis import Finding, validate
from .committed import TransitionRecord
from .declarative import AsyncTrigger, SignalingMachine, StateCheck, Trigger, TriggerCheck
from .diagrams import Diagram, diagram
from .errors import (
    AsyncReceiverError,
    DatabaseLockedError,
    DetachedWorkflowError,
    DiagramError,
    DurableReceiverError,
    EarlierEventPendingError,
    GuardCallError,
    MissingVersionColumnError,
    OutboxError,
    OutboxPayloadError,
    PersistenceError,
    ProtectedStateError,
    ReceiverCancelledError,
    ReceiverError,
    StaleTransitionError,
    StateAttributeError,
    StateSignalsError,
    UnknownStoredStateError,
    WorkflowDefinitionError,
    WorkflowFileError,
    WorkflowLookupError,
)
from .files import dump_workflow, load_definition, load_workflow, save_workflow
from .last_transition import LastTransition, remember_last_transitions
from .machines import (
    SignalingAsyncGraphMachine,
    SignalingAsyncMachine,
    SignalingCoreMachine,
    SignalingGraphMachine,
    SignalingHierarchicalAsyncGraphMachine,
    SignalingHierarchicalAsyncMachine,
    SignalingHierarchicalGraphMachine,
    SignalingHierarchicalMachine,
    SignalingHierarchicalMarkupMachine,
    SignalingLockedGraphMachine,
    SignalingLockedHierarchicalGraphMachine,
    SignalingLockedHierarchicalMachine,
    SignalingLockedMachine,
    SignalingMarkupMachine,
    SignalingMixin,
    get_machine_class,
)
from .signals import (
    signals,
    state_entered,
    state_exited,
    transition_committed,
    transition_completed,
    transition_denied,
    transition_failed,
    transition_flushed,
)

try:
    __version__ = version("transitions-statesignals")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [  # noqa: RUF022 (grouped by topic, sorted within each group)
    # Signals: the namespace and every signal statesignals sends.
    "signals",
    "state_entered",
    "state_exited",
    "transition_committed",
    "transition_completed",
    "transition_denied",
    "transition_failed",
    "transition_flushed",
    "TransitionRecord",
    # Machines: the mixin for any transitions machine class, and the ready-made ones.
    "SignalingAsyncGraphMachine",
    "SignalingAsyncMachine",
    "SignalingCoreMachine",
    "SignalingGraphMachine",
    "SignalingHierarchicalAsyncGraphMachine",
    "SignalingHierarchicalAsyncMachine",
    "SignalingHierarchicalGraphMachine",
    "SignalingHierarchicalMachine",
    "SignalingHierarchicalMarkupMachine",
    "SignalingLockedGraphMachine",
    "SignalingLockedHierarchicalGraphMachine",
    "SignalingLockedHierarchicalMachine",
    "SignalingLockedMachine",
    "SignalingMarkupMachine",
    "SignalingMixin",
    "get_machine_class",
    # Declarative: the base class of workflow models and its annotations.
    "AsyncTrigger",
    "SignalingMachine",
    "StateCheck",
    "Trigger",
    "TriggerCheck",
    # Tools: analysis, diagrams, last transitions, workflow files.
    "Diagram",
    "Finding",
    "LastTransition",
    "diagram",
    "dump_workflow",
    "load_definition",
    "load_workflow",
    "remember_last_transitions",
    "save_workflow",
    "validate",
    # Errors: every one is a StateSignalsError, except transitions' own MachineError.
    "AsyncReceiverError",
    "DiagramError",
    "GuardCallError",
    "MachineError",
    "ReceiverCancelledError",
    "ReceiverError",
    "StateAttributeError",
    "StateSignalsError",
    "WorkflowDefinitionError",
    "WorkflowFileError",
    "WorkflowLookupError",
    # Errors of persisted workflows (statesignals.sqlalchemy).
    "DatabaseLockedError",
    "DetachedWorkflowError",
    "MissingVersionColumnError",
    "PersistenceError",
    "ProtectedStateError",
    "StaleTransitionError",
    "UnknownStoredStateError",
    # Errors of durable receivers (statesignals.outbox).
    "DurableReceiverError",
    "EarlierEventPendingError",
    "OutboxError",
    "OutboxPayloadError",
]

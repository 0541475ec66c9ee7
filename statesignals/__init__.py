"""Workflow models on ``transitions`` whose every state change is a blinker signal."""

from __future__ import annotations

from transitions import MachineError

from .analysis import Finding, validate
from .declarative import AsyncTrigger, SignalingMachine, Trigger
from .diagrams import Diagram, LastTransition, diagram, remember_last_transitions
from .errors import (
    AsyncReceiverError,
    DiagramError,
    DurableReceiverError,
    OutboxError,
    OutboxPayloadError,
    ReceiverError,
    StateSignalsError,
    WorkflowDefinitionError,
    WorkflowFileError,
    WorkflowLookupError,
)
from .files import dump_workflow, load_definition, load_workflow, save_workflow
from .machines import (
    SignalingAsyncGraphMachine,
    SignalingAsyncMachine,
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
    get_machine_class,
)
from .mixin import SignalingCoreMachine, SignalingMixin
from .signals import (
    signals,
    state_entered,
    state_exited,
    transition_completed,
    transition_denied,
    transition_failed,
)

__all__ = [
    "AsyncReceiverError",
    "AsyncTrigger",
    "Diagram",
    "DiagramError",
    "DurableReceiverError",
    "Finding",
    "LastTransition",
    "MachineError",
    "OutboxError",
    "OutboxPayloadError",
    "ReceiverError",
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
    "SignalingMachine",
    "SignalingMarkupMachine",
    "SignalingMixin",
    "StateSignalsError",
    "Trigger",
    "WorkflowDefinitionError",
    "WorkflowFileError",
    "WorkflowLookupError",
    "diagram",
    "dump_workflow",
    "get_machine_class",
    "load_definition",
    "load_workflow",
    "remember_last_transitions",
    "save_workflow",
    "signals",
    "state_entered",
    "state_exited",
    "transition_completed",
    "transition_denied",
    "transition_failed",
    "validate",
]

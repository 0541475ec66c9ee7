"""Workflow models on ``transitions`` whose every state change is a blinker signal."""

from __future__ import annotations

from transitions import MachineError

from .errors import (
    AsyncReceiverError,
    ReceiverError,
    StateSignalsError,
    WorkflowDefinitionError,
    WorkflowLookupError,
)
from .machine import AsyncTrigger, SignalingMachine, Trigger
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
    "MachineError",
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
    "WorkflowLookupError",
    "get_machine_class",
    "signals",
    "state_entered",
    "state_exited",
    "transition_completed",
    "transition_denied",
    "transition_failed",
]

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
from .machine import SignalingMachine, Trigger
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
    "MachineError",
    "ReceiverError",
    "SignalingCoreMachine",
    "SignalingMachine",
    "SignalingMixin",
    "StateSignalsError",
    "Trigger",
    "WorkflowDefinitionError",
    "WorkflowLookupError",
    "signals",
    "state_entered",
    "state_exited",
    "transition_completed",
    "transition_denied",
    "transition_failed",
]

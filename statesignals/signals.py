"""Every signal statesignals sends, in one place.

Each is a :class:`~statesignals.receivers.WorkflowSignal` on the
:data:`signals` namespace. The sender is the model whose state changed; every
payload carries ``trigger``, ``source``, ``dest``, ``machine`` and ``event_data``
(the ``transitions`` :class:`~transitions.core.EventData`); the model is not repeated
in it, so a receiver may call its first parameter ``model``.
"""

from __future__ import annotations

from .receivers import SignalNamespace

signals = SignalNamespace()
"""The namespace holding the workflow signals, by name."""

state_exited = signals.signal(
    "state_exited",
    doc="The model has left ``state``, after that state's ``on_exit`` callbacks.",
)
state_entered = signals.signal(
    "state_entered",
    doc="The model has entered ``state``, after that state's ``on_enter`` callbacks.",
)
transition_completed = signals.signal(
    "transition_completed",
    doc=(
        "A transition finished, after its ``after`` and the machine's "
        "``after_state_change`` callbacks; ``internal`` is true when ``dest`` was None."
    ),
)
transition_denied = signals.signal(
    "transition_denied",
    doc=(
        "A trigger did not lead to a transition. ``reason`` is ``'conditions'`` "
        "(``failed_conditions`` names each refusing guard) or ``'invalid_trigger'`` "
        "(``error`` is the MachineError)."
    ),
)
transition_failed = signals.signal(
    "transition_failed",
    doc="A callback of the machine raised ``error`` while the trigger was processed.",
)

__all__ = [
    "signals",
    "state_entered",
    "state_exited",
    "transition_completed",
    "transition_denied",
    "transition_failed",
]

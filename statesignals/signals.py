"""Every signal statesignals sends, in one place.

Each is a :class:`~statesignals.routes.ModelSignal` (a
:class:`~statesignals.dispatch.WorkflowSignal` whose senders are models) on the
:data:`signals` namespace. The sender is the model whose state changed; every
payload carries ``trigger``, ``source``, ``dest``, ``machine`` and ``event_data``
(the ``transitions`` :class:`~transitions.core.EventData`); the model is not repeated
in it, so a receiver may call its first parameter ``model``.
"""

from __future__ import annotations

from .routes import ModelSignalNamespace

signals = ModelSignalNamespace()
"""The namespace holding the workflow signals, by name."""

# fmt: off
state_exited = signals.signal("state_exited", "The model left ``state``, after its ``on_exit`` callbacks.")  # noqa: E501
state_entered = signals.signal("state_entered", "The model entered ``state``, after its ``on_enter`` callbacks.")  # noqa: E501
transition_completed = signals.signal("transition_completed", "A transition finished, after ``after`` and ``after_state_change``; ``internal`` when ``dest`` was None.")  # noqa: E501
transition_denied = signals.signal("transition_denied", "A trigger led to no transition: ``reason`` is ``'conditions'`` (``failed_conditions`` names each refusing guard) or ``'invalid_trigger'`` (``error``).")  # noqa: E501
transition_failed = signals.signal("transition_failed", "A callback of the machine raised ``error`` while the trigger was processed.")  # noqa: E501
# fmt: on

__all__ = [
    "signals",
    "state_entered",
    "state_exited",
    "transition_completed",
    "transition_denied",
    "transition_failed",
]

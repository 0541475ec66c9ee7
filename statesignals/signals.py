"""Every signal statesignals sends, in one place.

Each is a :class:`~statesignals.routes.ModelSignal` (a
:class:`~statesignals.dispatch.WorkflowSignal` whose senders are models) on the
:data:`signals` namespace. The sender is the model whose state changed; every
payload carries ``trigger``, ``source``, ``dest``, ``machine`` and ``event_data``
(the ``transitions`` :class:`~transitions.core.EventData`); the model is not repeated
in it, so a receiver may call its first parameter ``model``.

Two more are sent once a trigger is over, about what became of its transition:
``transition_committed`` (it can no longer be undone) and ``transition_flushed`` (a
persisted model's transition is being written, inside the database flush). Their
payload is ``trigger``, ``source``, ``dest`` and ``transition``, a
:class:`~statesignals.TransitionRecord` that outlives the database session
(``transition_flushed`` adds ``session`` and ``connection``).
"""

from __future__ import annotations

from .committed import CommittedSignal
from .dispatch import WorkflowSignal
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

# Sent once a trigger is over, about what became of its transition: kept out of the
# namespace, which holds exactly the signals a trigger sends while it runs.
# fmt: off
transition_committed = CommittedSignal("transition_committed", "The transition can no longer be undone: the outermost database transaction that wrote it committed, or (a model that is not persisted) its trigger returned; ``transition`` is the TransitionRecord.", completed=transition_completed)  # noqa: E501
transition_flushed = WorkflowSignal("transition_flushed", "A persisted transition is being written, inside its flush: ``transition``, ``session``, ``connection``, ``committed`` (the contract: statesignals.sqlalchemy.tracking.after_flush).")  # noqa: E501
# fmt: on

__all__ = [
    "signals",
    "state_entered",
    "state_exited",
    "transition_committed",
    "transition_completed",
    "transition_denied",
    "transition_failed",
    "transition_flushed",
]

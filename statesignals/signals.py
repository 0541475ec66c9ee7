"""Every signal statesignals sends, in one place.

Each is a :class:`~statesignals.receivers.WorkflowSignal` on the
:data:`signals` namespace. The sender is the model whose state changed; every
payload carries ``trigger``, ``source``, ``dest``, ``model``, ``machine`` and
``event_data`` (the ``transitions`` :class:`~transitions.core.EventData`).

Two more are sent once a trigger is over, about what became of its transition:
``transition_committed`` (it can no longer be undone) and ``transition_flushed`` (a
persisted model's transition is being written, inside the database flush). Their
payload is ``trigger``, ``source``, ``dest`` and ``transition``, a
:class:`~statesignals.TransitionRecord` that outlives the database session
(``transition_flushed`` adds ``session`` and ``connection``). They are not in the
namespace, which holds exactly the signals a trigger sends while it runs.
"""

from __future__ import annotations

from .committed import CommittedSignal
from .receivers import SignalNamespace, WorkflowSignal

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
# The two signals of persistence are sent after (or outside) the trigger, not by the
# machine: they are declared here but kept out of the namespace, whose signals are
# exactly those a trigger sends.
transition_committed = CommittedSignal(
    "transition_committed",
    doc=(
        "A transition can no longer be undone: the outermost database transaction that "
        "wrote it committed, or, for a model that is not persisted, its trigger returned. "
        "``transition`` is the :class:`~statesignals.TransitionRecord`."
    ),
    completed=transition_completed,
)
transition_flushed = WorkflowSignal(
    "transition_flushed",
    doc=(
        "A persisted transition is being written, inside the flush that writes it: "
        "``transition``, ``session`` and ``connection`` (see "
        ":func:`statesignals.sqlalchemy.tracking.after_flush`)."
    ),
)

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

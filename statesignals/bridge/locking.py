"""Signals for ``transitions.extensions.locking`` (``LockedMachine`` and combinations).

A locked machine runs each trigger while holding the machine's contexts (a lock
by default). Signals are sent from inside the trigger, so inside the lock:
receivers of one model see its transitions in the order they happened.
"""

from __future__ import annotations

import typing as t

from transitions.extensions.locking import LockedEvent

from .core import SignalingEvent


class SignalingLockedEvent(SignalingEvent, LockedEvent):
    """A locked event that also locks models the machine does not hold.

    ``LockedEvent`` finds a model's contexts in ``machine.model_context_map``,
    filled by ``add_model``. Instances of a :class:`~statesignals.SignalingMachine`
    share one machine without being added to it; they take the machine's own
    contexts instead of running unlocked.
    """

    def trigger(self, model: object, *args: t.Any, **kwargs: t.Any) -> bool:
        machine: t.Any = self.machine
        if id(model) in machine.model_context_map:
            return super().trigger(model, *args, **kwargs)
        return t.cast(bool, machine._locked_method(super().trigger, model, *args, **kwargs))


SIGNALING_VARIANTS: dict[type, type] = {LockedEvent: SignalingLockedEvent}
"""Signaling classes for the classes of ``transitions.extensions.locking``."""

__all__ = ["SIGNALING_VARIANTS", "SignalingLockedEvent"]

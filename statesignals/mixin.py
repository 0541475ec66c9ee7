"""Deprecated: the 0.1 home of :class:`SignalingMixin` and the signaling classes.

They now live in :mod:`statesignals.machines` (the mixin, the variant table),
:mod:`statesignals.bridge.core` (the signaling State/Condition/Transition/Event),
:mod:`statesignals.scope` and :mod:`statesignals.naming`. Kept for one release, and
so that pickles made with 0.1 (which name ``statesignals.mixin.SignalingState``)
still load.
"""

from __future__ import annotations

import warnings

from .bridge.core import (
    SignalingCondition,
    SignalingEvent,
    SignalingState,
    SignalingTransition,
    bind_next_methods,
    record_refusal,
)
from .machines import SIGNALING_VARIANTS, SignalingCoreMachine, SignalingMixin, signaling_class
from .naming import condition_label, model_state_name, state_name
from .scope import RECEIVER_ERROR_POLICIES, PendingReceiverErrors, ReceiverErrorPolicy

warnings.warn(
    "statesignals.mixin is split into statesignals.machines, .bridge, .scope and .naming; "
    "import public names from statesignals",
    DeprecationWarning,
    stacklevel=2,
)


def signaling_variants() -> dict[type, type]:
    """The variant table, now :data:`statesignals.machines.SIGNALING_VARIANTS`."""
    return SIGNALING_VARIANTS


__all__ = [
    "RECEIVER_ERROR_POLICIES",
    "PendingReceiverErrors",
    "ReceiverErrorPolicy",
    "SignalingCondition",
    "SignalingCoreMachine",
    "SignalingEvent",
    "SignalingMixin",
    "SignalingState",
    "SignalingTransition",
    "bind_next_methods",
    "condition_label",
    "model_state_name",
    "record_refusal",
    "signaling_class",
    "signaling_variants",
    "state_name",
]

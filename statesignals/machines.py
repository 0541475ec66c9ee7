"""Ready-made signaling machines: one for each machine class ``transitions`` offers.

Each is ``SignalingMixin`` in front of the ``transitions`` class of the same
name (``SignalingHierarchicalMachine`` is ``HierarchicalMachine`` with signals;
the plain ``Machine`` one is :class:`~statesignals.SignalingCoreMachine`).
:func:`get_machine_class` picks one by feature, as ``transitions``'
``MachineFactory.get_predefined`` does.
"""

from __future__ import annotations

from transitions.extensions import (
    GraphMachine,
    HierarchicalGraphMachine,
    HierarchicalMachine,
    LockedGraphMachine,
    LockedHierarchicalGraphMachine,
    LockedHierarchicalMachine,
    LockedMachine,
)
from transitions.extensions.asyncio import AsyncMachine, HierarchicalAsyncMachine
from transitions.extensions.factory import AsyncGraphMachine, HierarchicalAsyncGraphMachine
from transitions.extensions.markup import HierarchicalMarkupMachine, MarkupMachine

from .errors import StateSignalsError
from .mixin import SignalingCoreMachine, SignalingMixin


class SignalingHierarchicalMachine(SignalingMixin, HierarchicalMachine):
    """``HierarchicalMachine`` (nested and parallel states) with the workflow signals."""


class SignalingAsyncMachine(SignalingMixin, AsyncMachine):
    """``AsyncMachine`` with the workflow signals, sent with ``send_async``."""


class SignalingHierarchicalAsyncMachine(SignalingMixin, HierarchicalAsyncMachine):  # type: ignore[misc]
    """``HierarchicalAsyncMachine`` with the workflow signals, sent with ``send_async``."""


class SignalingLockedMachine(SignalingMixin, LockedMachine):
    """``LockedMachine`` with the workflow signals, sent while the machine's lock is held."""


class SignalingLockedHierarchicalMachine(SignalingMixin, LockedHierarchicalMachine):  # type: ignore[misc]
    """``LockedHierarchicalMachine`` with the workflow signals, sent inside the lock."""


class SignalingGraphMachine(SignalingMixin, GraphMachine):
    """``GraphMachine`` (``get_graph``, styled diagrams) with the workflow signals."""


class SignalingHierarchicalGraphMachine(SignalingMixin, HierarchicalGraphMachine):  # type: ignore[misc]
    """``HierarchicalGraphMachine`` with the workflow signals."""


class SignalingLockedGraphMachine(SignalingMixin, LockedGraphMachine):  # type: ignore[misc]
    """``LockedGraphMachine`` with the workflow signals."""


class SignalingLockedHierarchicalGraphMachine(SignalingMixin, LockedHierarchicalGraphMachine):  # type: ignore[misc]
    """``LockedHierarchicalGraphMachine`` with the workflow signals."""


class SignalingAsyncGraphMachine(SignalingMixin, AsyncGraphMachine):  # type: ignore[misc]
    """``AsyncGraphMachine`` with the workflow signals."""


class SignalingHierarchicalAsyncGraphMachine(SignalingMixin, HierarchicalAsyncGraphMachine):  # type: ignore[misc]
    """``HierarchicalAsyncGraphMachine`` with the workflow signals."""


class SignalingMarkupMachine(SignalingMixin, MarkupMachine):
    """``MarkupMachine`` (``markup`` export of the definition) with the workflow signals."""


class SignalingHierarchicalMarkupMachine(SignalingMixin, HierarchicalMarkupMachine):  # type: ignore[misc]
    """``HierarchicalMarkupMachine`` with the workflow signals."""


_BY_FEATURES: dict[tuple[bool, bool, bool, bool], type[SignalingMixin]] = {
    # (graph, nested, locked, asyncio), as transitions' MachineFactory
    (False, False, False, False): SignalingCoreMachine,
    (False, False, True, False): SignalingLockedMachine,
    (False, True, False, False): SignalingHierarchicalMachine,
    (False, True, True, False): SignalingLockedHierarchicalMachine,
    (True, False, False, False): SignalingGraphMachine,
    (True, False, True, False): SignalingLockedGraphMachine,
    (True, True, False, False): SignalingHierarchicalGraphMachine,
    (True, True, True, False): SignalingLockedHierarchicalGraphMachine,
    (False, False, False, True): SignalingAsyncMachine,
    (True, False, False, True): SignalingAsyncGraphMachine,
    (False, True, False, True): SignalingHierarchicalAsyncMachine,
    (True, True, False, True): SignalingHierarchicalAsyncGraphMachine,
}


def get_machine_class(
    graph: bool = False, nested: bool = False, locked: bool = False, asyncio: bool = False
) -> type[SignalingMixin]:
    """The ready-made signaling machine class with the requested features.

    The same choice as ``transitions``' ``MachineFactory.get_predefined``; a
    combination that ``transitions`` does not offer (asyncio with locked) raises
    :class:`~statesignals.StateSignalsError`.
    """
    try:
        return _BY_FEATURES[(graph, nested, locked, asyncio)]
    except KeyError:
        raise StateSignalsError(
            f"transitions offers no machine with graph={graph}, nested={nested}, "
            f"locked={locked}, asyncio={asyncio}: an asyncio machine runs in one thread "
            "and needs no lock"
        ) from None


__all__ = [
    "SignalingAsyncGraphMachine",
    "SignalingAsyncMachine",
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
    "get_machine_class",
]

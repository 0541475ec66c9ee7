"""Small workflow models that several test files draw, export or check."""

from __future__ import annotations

from enum import Enum

from statesignals import SignalingMachine, Trigger


class Phase(Enum):
    DRAFT = 1
    LIVE = 2


class Page(SignalingMachine):
    """A page."""

    states = Phase
    initial = Phase.DRAFT
    auto_transitions = False
    transitions = [["publish", Phase.DRAFT, Phase.LIVE]]

    publish: Trigger

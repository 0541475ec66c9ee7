"""The bridge from ``transitions`` callbacks to the workflow signals.

One module per ``transitions`` extension it adapts, each holding that
extension's signaling State/Transition/Event classes and machine hooks:
:mod:`.core` (``transitions.core``), :mod:`.nesting`, :mod:`.asyncio`,
:mod:`.locking` and :mod:`.diagrams`. :mod:`.protocol` types what those classes
call on the machine. :mod:`statesignals.machines` composes them.
"""

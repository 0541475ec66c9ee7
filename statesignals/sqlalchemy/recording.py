"""How a persisted workflow's machine records each transition it completes.

The record (the version counted, the transition kept for the flush) is taken by the
class's own compiled machine, at the point where ``transition_completed`` is about to
be sent: just before it, so that its receivers see the new version. Nothing is
connected to a signal, so the triggers of every other class, which check for per-class
receivers, find none: a persisted class costs other models nothing.

* a flat machine's events are given a variant whose ``_process`` records once
  ``transitions`` reports the transition done (events made later, such as ``to_<state>``
  ones, are made from the variant too);
* a nested machine records when its outermost ``_trigger_event_nested`` returns, after
  every (parallel) region moved: one record per trigger, named with full state names.
"""

from __future__ import annotations

import collections.abc as c
import typing as t

from transitions import Machine
from transitions.core import Event, EventData

from statesignals import transition_completed

Recorder = c.Callable[[t.Any, c.Mapping[str, t.Any]], None]
"""Called with the model and the ``transition_completed`` payload of a done transition."""

_RECORDING = "__statesignals_recording__"
"""Set on a machine once it records (a subclass may share its parent's machine)."""


def record_transitions(machine: Machine, record: Recorder) -> None:
    """Make ``machine`` call ``record`` for every transition it completes."""
    if getattr(machine, _RECORDING, False):
        return
    setattr(machine, _RECORDING, True)
    hooks = t.cast(t.Any, machine)
    if hooks._nested:
        _record_nested(hooks, record)
        return
    for event in machine.events.values():
        event.__class__ = _recording_event(type(event), record, hooks._asynchronous)
    hooks.event_cls = _recording_event(hooks.event_cls, record, hooks._asynchronous)


def _completed(event_data: EventData, record: Recorder) -> None:
    machine = t.cast(t.Any, event_data.machine)
    record(event_data.model, machine._payload(event_data, transition_completed))


_variants: dict[tuple[type[Event], Recorder], type[Event]] = {}


def _recording_event(event_cls: type[Event], record: Recorder, asynchronous: bool) -> type[Event]:
    """``event_cls`` whose ``_process`` records the transition it completed (one per class)."""
    key = (event_cls, record)
    if key not in _variants:
        _variants[key] = _make_recording_event(event_cls, record, asynchronous)
    return _variants[key]


def _make_recording_event(
    event_cls: type[Event], record: Recorder, asynchronous: bool
) -> type[Event]:
    # Signaling events call the wrapped class's _process through _next__process, then
    # send transition_completed: recording there comes just before the signal.
    process: c.Callable[..., t.Any] = t.cast(t.Any, event_cls)._next__process
    variant = type(
        f"Recording{event_cls.__name__}",
        (event_cls,),
        {"__module__": __name__, "__qualname__": f"Recording{event_cls.__qualname__}"},
    )
    if asynchronous:

        async def process_async(self: Event, event_data: EventData) -> bool:
            result = await process(self, event_data)
            if event_data.result:
                _completed(event_data, record)
            return t.cast(bool, result)

        variant._next__process = process_async  # type: ignore[attr-defined]
    else:

        def process_sync(self: Event, event_data: EventData) -> bool:
            result = process(self, event_data)
            if event_data.result:
                _completed(event_data, record)
            return t.cast(bool, result)

        variant._next__process = process_sync  # type: ignore[attr-defined]
    return variant


def _record_nested(machine: t.Any, record: Recorder) -> None:
    trigger_nested = type(machine)._next__trigger_event_nested

    if machine._asynchronous:

        async def trigger_nested_async(
            event_data: EventData, trigger: str, state_tree: dict[str, t.Any] | None
        ) -> t.Any:
            result = await trigger_nested(machine, event_data, trigger, state_tree)
            if state_tree is None and result:
                _completed(event_data, record)
            return result

        machine._next__trigger_event_nested = trigger_nested_async
        return

    def trigger_nested_sync(
        event_data: EventData, trigger: str, state_tree: dict[str, t.Any] | None
    ) -> t.Any:
        result = trigger_nested(machine, event_data, trigger, state_tree)
        # The outermost call: every region has moved, transition_completed is next.
        if state_tree is None and result:
            _completed(event_data, record)
        return result

    machine._next__trigger_event_nested = trigger_nested_sync


__all__ = ["Recorder", "record_transitions"]

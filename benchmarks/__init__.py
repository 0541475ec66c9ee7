"""Benchmarks for statesignals: each line compares it with an anchor measured in the same run.

Run ``make bench`` (or ``python -m benchmarks``); see ``docs/performance.md``.
"""

"""Shared fixtures for the test suite (the root conftest isolates the signals)."""

from __future__ import annotations

pytest_plugins = ["pytester"]

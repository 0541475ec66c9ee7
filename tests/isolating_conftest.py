"""The conftest.py that docs/testing.md shows; tests/test_testing_plugin.py runs it in a
user's project (it is not this suite's conftest)."""

# --8<-- [start:conftest]
import pytest


@pytest.fixture(autouse=True)
def _isolated(isolated_signals: None) -> None:
    """Every test starts with no receivers: each gets the plugin's isolated_signals."""


# --8<-- [end:conftest]

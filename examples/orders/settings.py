"""Where the distributed shop's database, broker and queue are: the environment says.

Every process of the distributed demo (clients, relay, workers) reads these, so
the orchestrator sets them once for all of them.
"""

from __future__ import annotations

import os

DATABASE = "STATESIGNALS_DEMO_DATABASE"
BROKER = "STATESIGNALS_DEMO_BROKER"
QUEUE = "STATESIGNALS_DEMO_QUEUE"
READY_FILE = "STATESIGNALS_DEMO_READY_FILE"
"""A file a worker creates once it consumes from its queue."""

DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/statesignals_demo"
"""A database of the demo's own: it is dropped and created again on every run."""
DEFAULT_BROKER = "redis://127.0.0.1:6379/11"
"""A Redis database number of the demo's own: it is emptied on every run."""
DEFAULT_QUEUE = "statesignals_demo"


def database_url() -> str:
    return os.environ.get(DATABASE, DEFAULT_DATABASE)


def broker_url() -> str:
    return os.environ.get(BROKER, DEFAULT_BROKER)


def queue() -> str:
    return os.environ.get(QUEUE, DEFAULT_QUEUE)

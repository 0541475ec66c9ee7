"""The database and broker servers some tests talk to, and the rule for when one is absent.

Locally a test that needs a server it cannot reach is skipped with one line saying how to
start it; under ``CI=true`` (as ``.ci/run`` runs) an absent server fails the test instead,
so a green CI run always means the server tests ran.
"""

from __future__ import annotations

import os
import socket
import typing as t

import pytest

POSTGRES_URL = os.environ.get("STATESIGNALS_POSTGRES_URL", "postgresql://127.0.0.1:5432/postgres")
"""Where the PostgreSQL tests connect to create a database of their own."""
REDIS_URL = os.environ.get("STATESIGNALS_REDIS_URL", "redis://127.0.0.1:6379/0")
RABBITMQ_URL = os.environ.get("STATESIGNALS_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")

HOW_TO_START: dict[str, str] = {
    "PostgreSQL": "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    "Redis": "redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no",
    "RabbitMQ": "rabbitmq-server -detached",
}


def in_ci() -> bool:
    """Whether the suite runs as CI runs it, where every server must be there."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require(service: str, host: str, port: int) -> None:
    """Skip (locally) or fail (in CI) the calling test unless ``service`` is reachable."""
    if reachable(host, port):
        return
    message = f"{service} is not reachable on {host}:{port}; start it with: {HOW_TO_START[service]}"
    if in_ci():
        pytest.fail(f"CI=true needs every server: {message}", pytrace=False)
    pytest.skip(message)


def host_port(url: str, default_port: int) -> tuple[str, int]:
    """The host and port of a server URL."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


def require_postgres() -> str:
    """The admin URL of the PostgreSQL server, or skip/fail as :func:`require` says."""
    require("PostgreSQL", *host_port(POSTGRES_URL, 5432))
    return POSTGRES_URL


def require_redis() -> str:
    require("Redis", *host_port(REDIS_URL, 6379))
    return REDIS_URL


def require_rabbitmq() -> str:
    require("RabbitMQ", *host_port(RABBITMQ_URL, 5672))
    return RABBITMQ_URL


__all__: t.Final = [
    "POSTGRES_URL",
    "RABBITMQ_URL",
    "REDIS_URL",
    "host_port",
    "in_ci",
    "reachable",
    "require",
    "require_postgres",
    "require_rabbitmq",
    "require_redis",
]

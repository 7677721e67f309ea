"""What /healthz checks: the database always, the task queue (Redis) when one is configured."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection


def check_database() -> str:
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
        cur.fetchone()
    return "ok"


def queue_url() -> str | None:
    """The Redis URL of the task queue, or None when tasks run on the database backend."""
    url = getattr(settings, "REDIS_URL", None) or os.environ.get("REDIS_URL")
    backend = (getattr(settings, "TASKS_BACKEND", None) or os.environ.get("TASKS_BACKEND", "")).lower()
    return url if url and backend in {"redis", "rq"} else None


def check_redis(url: str, timeout: float = 1.0) -> str:
    """A raw RESP PING, so the health check needs no client library and cannot hang for long."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=timeout) as sock:
        if parts.password:
            sock.sendall(f"AUTH {parts.password}\r\n".encode())
            if not sock.recv(64).startswith(b"+OK"):
                raise ConnectionError("Redis refused the password")
        sock.sendall(b"PING\r\n")
        reply = sock.recv(64)
    if not reply.startswith(b"+PONG"):
        raise ConnectionError(f"unexpected Redis reply {reply[:20]!r}")
    return "ok"


def run_checks() -> tuple[bool, dict[str, str]]:
    checks: dict[str, str] = {}
    healthy = True
    try:
        checks["database"] = check_database()
    except Exception as exc:  # any failure means unhealthy; the message goes to the operator
        checks["database"] = f"error: {exc.__class__.__name__}: {exc}"
        healthy = False
    url = queue_url()
    if url is None:
        checks["queue"] = "not configured"
    else:
        try:
            checks["queue"] = check_redis(url)
        except Exception as exc:
            checks["queue"] = f"error: {exc.__class__.__name__}: {exc}"
            healthy = False
    return healthy, checks

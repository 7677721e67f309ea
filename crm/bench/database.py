"""The benchmark's own database, never the user's: var/bench-<scale>.sqlite3, or BENCH_PG_URL.

The `bench` command re-executes itself with DATABASE_URL pointing there, so Django, the seed,
the raw-SQL floors and the gunicorn server all use the same database.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings

MARKER = "CRM_BENCH_DATABASE"
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/bench"


def url_for(scale: str, engine: str) -> str:
    if engine == "sqlite":
        return f"sqlite:///{sqlite_path(scale)}"
    return os.environ.get("BENCH_PG_URL", DEFAULT_PG)


def sqlite_path(scale: str) -> Path:
    return Path(settings.VAR_DIR) / f"bench-{scale}.sqlite3"


def is_current(url: str) -> bool:
    return os.environ.get(MARKER) == url


def reexec(url: str) -> None:
    """Run this same command again in a process whose settings point at ``url``."""
    env = {**os.environ, "DATABASE_URL": url, MARKER: url}
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, "-m", "crm", *sys.argv[1:]], env)


def recreate(url: str) -> None:
    """An empty database at ``url`` (dropping the previous benchmark data)."""
    if url.startswith("sqlite:"):
        path = Path(urlsplit(url).path)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def exists(url: str) -> bool:
    if url.startswith("sqlite:"):
        return Path(urlsplit(url).path).exists()
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [parts.path.lstrip("/")]).fetchone()
    return row is not None

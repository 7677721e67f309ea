"""The production setup under a burst: 2 gunicorn web processes and 2 `crm worker` processes on a
database of their own (PostgreSQL + Redis queue when the suite runs on PostgreSQL; a SQLite file +
database queue otherwise), with concurrent creates and updates from loopback clients.

Nothing may be lost (every update lands: versions and change log add up), nothing duplicated (one
row per create), and no request may fail. Bounded: a fixed number of requests, then it stops.
"""

import http.client
import json
import os
import signal
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlunsplit

import pytest
from django.db import connection

from crm.bench.server import Server

CREATES = 40
UPDATES_PER_RECORD = 3
CLIENTS = 12


# Migrate, make an admin and print a token: one process instead of three Django start-ups.
PREPARE = """
import django; django.setup()
from django.core.management import call_command
from django.contrib.auth.models import User
from crm.access.models import ApiToken
call_command("migrate", verbosity=0, interactive=False)
user = User.objects.create_superuser("burst", "burst@example.com", None)
print(ApiToken.issue(user, name="burst")[1])
"""


def _prepare(env: dict) -> str:
    done = subprocess.run(
        [sys.executable, "-c", PREPARE], env={**env, "DJANGO_SETTINGS_MODULE": "crm.settings"},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture
def stack_db(db, tmp_path, request):
    """(env for the processes, an admin token, query(sql) -> rows) on a fresh, migrated database;
    on PostgreSQL the queue is in the session's own Redis database (tests/redisdb.py)."""
    if connection.vendor == "sqlite":
        path = tmp_path / "burst.sqlite3"
        url, backend, redis_url = f"sqlite:///{path}", "database", None  # the database queue: no Redis

        def query(sql):
            with sqlite3.connect(path) as conn:
                return conn.execute(sql).fetchall()

        cleanup = None
    else:
        import psycopg

        s = connection.settings_dict
        netloc = f"{s.get('USER') or 'postgres'}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}"
        name = f"{s['NAME']}_burst"
        admin = urlunsplit(("postgresql", netloc, "/postgres", "", ""))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        url, backend = urlunsplit(("postgresql", netloc, f"/{name}", "", "")), "redis"
        redis_url = request.getfixturevalue("redis_url")

        def query(sql):
            with psycopg.connect(url) as conn:
                return conn.execute(sql).fetchall()

        def cleanup():
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CRM_VAR_DIR": str(tmp_path),
        "SECRET_KEY": "burst-test",
        "TASKS_BACKEND": backend,
        **({"REDIS_URL": redis_url} if redis_url else {}),
        "LOG_FORMAT": "json",
    }
    yield env, _prepare(env), query
    if cleanup:
        cleanup()


def start_workers(env: dict, log_dir, count: int = 2) -> list[subprocess.Popen]:
    """The background workers of the stack (`crm worker`, from crm.automation)."""
    procs = []
    for i in range(count):
        log = open(log_dir / f"worker{i}.log", "wb")  # noqa: SIM115 - the process owns it until stopped
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "crm", "worker", "--name", f"burst-{i}"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    return procs


def stop_workers(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _call(port: int, token: str, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def test_burst_of_creates_and_updates_loses_and_duplicates_nothing(stack_db, tmp_path):
    env, token, query = stack_db
    workers = start_workers(env, tmp_path)
    try:
        with Server(workers=2, env=env, log=tmp_path / "web.log") as server:
            health = _call(server.port, token, "GET", "/healthz")
            assert health == (
                200,
                {"status": "ok", "checks": {"database": "ok", "queue": health[1]["checks"]["queue"]}},
            )
            assert health[1]["checks"]["queue"] in {"ok", "not configured"}

            def create(i):
                body = {"first_name": "Burst", "last_name": f"N{i}", "email": f"burst{i}@example.com"}
                return _call(server.port, token, "POST", "/api/v1/contacts", body)

            with ThreadPoolExecutor(CLIENTS) as pool:
                created = list(pool.map(create, range(CREATES)))
            assert [s for s, _ in created if s != 201] == [], created[:3]
            ids = [body["id"] for _, body in created]

            def update(job):
                pk, n = job  # no version sent: concurrent updates of one record must all land, one by one
                return _call(server.port, token, "PATCH", f"/api/v1/contacts/{pk}", {"title": f"T{n}"})

            jobs = [(pk, n) for n in range(UPDATES_PER_RECORD) for pk in ids]
            with ThreadPoolExecutor(CLIENTS) as pool:
                updated = list(pool.map(update, jobs))
            assert [s for s, _ in updated if s != 200] == [], updated[:3]
            assert all(p.poll() is None for p in workers), "a worker died during the burst"
    finally:
        stop_workers(workers)

    assert len(set(ids)) == CREATES
    rows = query("SELECT email, COUNT(*) FROM records_contact WHERE email LIKE 'burst%' GROUP BY email")
    assert len(rows) == CREATES and {count for _, count in rows} == {1}
    versions = query("SELECT version, COUNT(*) FROM records_contact WHERE email LIKE 'burst%' GROUP BY version")
    assert versions == [(1 + UPDATES_PER_RECORD, CREATES)]
    changes = dict(
        query("SELECT action, COUNT(*) FROM audit_objectchange WHERE object_type = 'contact' GROUP BY action")
    )
    assert changes == {"create": CREATES, "update": CREATES * UPDATES_PER_RECORD}

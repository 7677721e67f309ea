"""Real `crm worker` processes on a database of their own: a file SQLite database with the database
backend, or a PostgreSQL database with the Redis backend (when the suite runs on PostgreSQL)."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.db.utils import load_backend

ROOT = Path(__file__).resolve().parents[2]


def _wrapper(settings_dict: dict, name: str):
    return load_backend(settings_dict["ENGINE"]).DatabaseWrapper({**settings_dict, "NAME": name}, "default")


class Swap:
    """Point the ORM's default connection at another database for the duration of a test."""

    def __init__(self, name: str):
        self.old = connections["default"]
        self.new = _wrapper(self.old.settings_dict, name)

    def __enter__(self):
        connections["default"] = self.new
        return self.new

    def __exit__(self, *exc):
        self.new.close()
        connections["default"] = self.old


def _pg_admin(settings_dict: dict, sql: str) -> None:
    import psycopg

    conninfo = {
        k: v
        for k, v in {
            "host": settings_dict.get("HOST"),
            "port": settings_dict.get("PORT"),
            "user": settings_dict.get("USER"),
            "password": settings_dict.get("PASSWORD"),
        }.items()
        if v
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **conninfo) as conn:
        conn.execute(sql)


def _suffix() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def worker_template(django_db_setup, django_db_blocker, tmp_path_factory):
    """A migrated database made once per session, copied for each test that runs workers."""
    base = connections["default"].settings_dict
    with django_db_blocker.unblock():
        if connections["default"].vendor == "sqlite":
            name = str(tmp_path_factory.mktemp("workers") / "template.sqlite3")
        else:
            name = f"{base['NAME']}_wtpl_{_suffix()}"
            _pg_admin(base, f'DROP DATABASE IF EXISTS "{name}"')
            _pg_admin(base, f'CREATE DATABASE "{name}"')
        with Swap(name):
            call_command("migrate", verbosity=0)
    yield name
    if connections["default"].vendor != "sqlite":
        _pg_admin(base, f'DROP DATABASE IF EXISTS "{name}"')


@pytest.fixture
def worker_db(worker_template, django_db_blocker, tmp_path, settings, request):
    """A fresh copy of the template as the default database, and the env for worker processes
    (on PostgreSQL the queue is on Redis: the session's own database, tests/redisdb.py)."""
    base = connections["default"].settings_dict
    sqlite = connections["default"].vendor == "sqlite"
    if sqlite:
        name = str(tmp_path / "db.sqlite3")
        shutil.copy(worker_template, name)
        url = f"sqlite:///{name}"
        backend, redis_url = "database", None  # the database queue: no Redis
        settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    else:
        name = f"{base['NAME']}_w_{_suffix()}"
        _pg_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _pg_admin(base, f'CREATE DATABASE "{name}" TEMPLATE "{worker_template}"')
        auth = base["USER"] + (f":{base['PASSWORD']}" if base.get("PASSWORD") else "")
        url = f"postgres://{auth}@{base.get('HOST') or '127.0.0.1'}:{base.get('PORT') or 5432}/{name}"
        backend, redis_url = "redis", request.getfixturevalue("redis_url")
        import redis

        redis.Redis.from_url(redis_url).flushdb()  # the session's own Redis db: the previous test's queue
        settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
        settings.RQ_QUEUES = {"default": {"URL": redis_url, "DEFAULT_TIMEOUT": 600}}
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CRM_VAR_DIR": str(tmp_path),
        "TASKS_BACKEND": backend,
        **({"REDIS_URL": redis_url} if redis_url else {}),
        "AUTOMATION_JOB_LEASE_SECONDS": "2",
        "AUTOMATION_TICK_SECONDS": "0.2",
        "SECRET_KEY": "test-workers",
    }
    with django_db_blocker.unblock(), Swap(name):
        workers = Workers(env, tmp_path)
        try:
            yield workers
        finally:
            workers.stop_all()
    if not sqlite:
        _pg_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Workers:
    def __init__(self, env: dict, tmp_path: Path):
        self.env, self.tmp_path, self.procs = env, tmp_path, []

    def start(self, name: str) -> subprocess.Popen:
        log = open(self.tmp_path / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.automation.worker_main", "--name", name, "--interval", "0.1"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a kill takes everything it started
        )
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen) -> None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)

    def logs(self) -> str:
        return "\n".join(p.read_text()[-3000:] for p in self.tmp_path.glob("*.log"))


def wait_for(check, timeout: float = 20, what: str = "condition", workers: Workers | None = None):
    """Poll ``check`` until it is truthy; fail with the workers' logs after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"Timed out waiting for {what}.\n{workers.logs() if workers else ''}")


_ = settings

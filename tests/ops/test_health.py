"""/healthz for load balancers, /healthz/ping for the throughput floor, and the JSON log lines."""

import importlib
import json
import logging
import socket
import uuid

import pytest
from django.test import Client

from crm.core.context import change_context
from crm.ops.logging import JsonFormatter


@pytest.fixture
def client():
    return Client()


def test_healthz_reports_the_database_without_login(db, client, settings):
    settings.TASKS_BACKEND = "database"
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "checks": {"database": "ok", "queue": "not configured"}}
    assert "no-cache" in r["Cache-Control"]


def test_healthz_checks_redis_when_the_queue_is_on_redis(db, client, settings):
    settings.TASKS_BACKEND = "redis"
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["checks"]["queue"] == "ok"


def test_healthz_is_503_when_the_queue_is_down(db, client, settings):
    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.TASKS_BACKEND = "redis"
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    r = client.get("/healthz")
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["queue"].startswith("error:")


def test_healthz_only_answers_get(db, client):
    assert client.post("/healthz").status_code == 405


def test_ping_is_trivial_json(client):
    r = client.get("/healthz/ping")
    assert r.status_code == 200 and r.json() == {"pong": True}


def test_json_log_lines_carry_level_message_request_id_and_extras():
    formatter = JsonFormatter()
    record = logging.LogRecord("crm.test", logging.WARNING, __file__, 1, "saved %s", ("x",), None)
    record.status_code = 409
    request_id = uuid.uuid4()
    with change_context(request_id=request_id):
        line = json.loads(formatter.format(record))
    assert line["level"] == "WARNING" and line["logger"] == "crm.test"
    assert line["message"] == "saved x"
    assert line["request_id"] == str(request_id)
    assert line["status_code"] == 409
    assert line["time"].endswith("+00:00")


def test_json_log_lines_include_the_exception():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("crm", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = json.loads(JsonFormatter().format(record))
    assert "ValueError: boom" in line["exc"]


def test_gunicorn_config_reads_the_environment(monkeypatch):
    monkeypatch.setenv("BIND", "127.0.0.1:9999")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("LOG_FORMAT", "json")
    import crm.ops.gunicorn_conf as conf

    conf = importlib.reload(conf)
    assert conf.bind == "127.0.0.1:9999" and conf.workers == 3
    assert conf.worker_class == "gthread" and conf.graceful_timeout > 0
    assert conf.logconfig_dict["formatters"]["json"]["()"] == "crm.ops.logging.JsonFormatter"

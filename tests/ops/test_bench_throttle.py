"""The rate limiter's cost in `crm bench run` (crm/bench/throttle_cost.py): the in-process figures count
real hits in the database cache and in Redis (no timing is asserted), and a Redis that does not answer
is said in the table, not a crash."""

import socket

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.test.utils import override_settings

from crm.bench import throttle_cost
from crm.bench.report import markdown

pytestmark = pytest.mark.django_db


def counters(conf: dict) -> int:
    """How many rate-limit counters the cache holds after the run (each run uses a bucket of its own)."""
    with override_settings(CACHES={"default": conf}):
        cache = caches["default"]
        if "redis" in conf["BACKEND"].lower():
            client = cache._cache.get_client()
            return len(client.keys("crm-bench:*api-rate:*"))
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM crm_cache WHERE cache_key LIKE %s", [":1:api-rate:%"])
            return cur.fetchone()[0]


def test_in_process_rows_for_off_database_and_redis(settings, redis_url):
    settings.REDIS_URL = redis_url
    with override_settings(CACHES={"default": throttle_cost.backends()["database cache"]}):
        call_command("createcachetable", verbosity=0)  # the tests' own cache is in memory: no table
    rows = throttle_cost.in_process(calls=30)
    assert [r[0] for r in rows] == ["limits off (no cache call)", "limiter, database cache", "limiter, Redis"]
    assert all(r[1].endswith(" µs") and r[2].endswith(" µs") for r in rows)
    backends = throttle_cost.backends()
    assert counters(backends["database cache"]) >= 2  # the ip bucket and the token's bucket were counted
    assert counters(backends["Redis"]) >= 2
    table = markdown(rows, throttle_cost.HEADER)
    assert table.splitlines()[0] == "| rate-limit cost | p50 | p95 | how |" and len(table.splitlines()) == 5


def test_a_redis_that_does_not_answer_is_said_in_the_table(settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    rows = throttle_cost.in_process(calls=5)
    assert rows[-1][0] == "limiter, Redis" and rows[-1][3].startswith("not measured: Redis")

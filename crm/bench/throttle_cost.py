"""What the API rate limits (crm/api/throttling.py) cost per request, two ways:

- **in process**: the limiter's work for one token-authenticated call, which is two counter hits (the
  per-IP ceiling, then the token's bucket), timed over N calls with the database cache (the benchmark
  database's own ``crm_cache`` table, as in production by default) and with Redis (``REDIS_URL``), beside
  the same calls with the limits off;
- **over HTTP**: the deal list through the benchmark's gunicorn (limits on, as in production), through
  a second gunicorn counting in Redis and through a third with every limit off, request for request in
  turn, so all see the same machine load; the differences of the p50s are what a request pays for its
  limits, end to end (on SQLite that includes the workers' page caches, which every write by another
  connection empties).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.test.utils import override_settings

from crm.api.throttling import hit, rate_of
from crm.bench.client import Client
from crm.bench.report import pct
from crm.bench.server import Server

CALLS = 2000
LIMITS = ("API_RATE_LIMIT", "API_RATE_LIMIT_HEAVY", "API_RATE_LIMIT_ANON", "API_RATE_LIMIT_IP")
HIGH = dict.fromkeys(LIMITS, "10000000/min")  # counted, never refused
OFF = dict.fromkeys(LIMITS, "off")
HEADER = ["rate-limit cost", "p50", "p95", "how"]


def backends() -> dict[str, dict]:
    return {
        "database cache": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "crm_cache",
            "OPTIONS": {"MAX_ENTRIES": 100000},
        },
        "Redis": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": settings.REDIS_URL,
            "KEY_PREFIX": "crm-bench",  # apart from a running CRM's counters; they expire within a minute
        },
    }


def _one_call(ident: str) -> None:
    """What a token-authenticated, non-heavy API call asks the limiter (limit_view, then ApiThrottle)."""
    hit("ip", "203.0.113.7", rate_of("API_RATE_LIMIT_IP"))
    hit("token", ident, rate_of("API_RATE_LIMIT"))


def _timed(calls: int, cache: dict | None, limits: dict) -> list[float]:
    """Microseconds per call; the first 50 untimed (connections, the cache table's pages)."""
    caches = {"CACHES": {"default": cache}} if cache else {}
    with override_settings(**caches, **limits):
        ident = f"bench-{uuid.uuid4().hex[:8]}"
        spent = []
        for i in range(-50, calls):
            started = time.perf_counter()
            _one_call(ident)
            if i >= 0:
                spent.append((time.perf_counter() - started) * 1e6)
    return spent


def _redis_up() -> str | None:
    """None when Redis answers, else why not (the figure is then left out, said in the table)."""
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        return f"not measured: Redis at REDIS_URL did not answer ({exc.__class__.__name__})"
    return None


def in_process(calls: int = CALLS) -> list[list[str]]:
    rows = []
    off = _timed(calls, None, OFF)
    rows.append(["limits off (no cache call)", _us(off, 0.5), _us(off, 0.95), f"{calls} calls in process"])
    for name, cache in backends().items():
        down = _redis_up() if name == "Redis" else None
        if down:
            rows.append([f"limiter, {name}", "—", "—", down])
            continue
        spent = _timed(calls, cache, HIGH)
        rows.append([f"limiter, {name}", _us(spent, 0.5), _us(spent, 0.95), f"{calls} calls: 2 counter hits each"])
    return rows


def over_http(client: Client, api: Callable[[int], tuple], samples: int, token: str, log) -> list[list[str]]:
    """``client`` talks to the benchmark's server (limits on, its cache as configured: the database by
    default); a second server runs with the limits on and the Redis cache, a third with them off."""
    variants = {"limits off": {**OFF}}
    if not _redis_up():
        variants["limits on, Redis cache"] = {**HIGH, "CACHE_BACKEND": "redis"}
    base = {"DEBUG": "0", "LOG_LEVEL": "WARNING"}
    servers = [Server(workers=2, env={**base, **env}, log=log) for env in variants.values()]
    spent: dict[str, list[float]] = {f"limits on, {settings.CACHE_BACKEND} cache": [], **{k: [] for k in variants}}
    clients = [client]
    try:
        clients += [Client(server.start().port, token) for server in servers]
        for i in range(-5, samples):
            method, path, body = api(i)
            for target, times in zip(clients, spent.values(), strict=True):
                status, ms, _ = target.call(method, path, body)
                if i >= 0 and status == 200:
                    times.append(ms)
    finally:
        for other in clients[1:]:
            other.conn.close()
        for server in servers:
            server.stop()
    how = f"{samples} requests each, in turn, through gunicorn"
    off = pct(spent["limits off"], 0.5)
    rows = []
    for name, times in spent.items():
        extra = "" if name == "limits off" else f"; +{pct(times, 0.5) - off:.2f} ms over limits off"
        rows.append([f"deal list, {name}", _ms(times, 0.5), _ms(times, 0.95), how + extra])
    return rows


def _us(values: list[float], q: float) -> str:
    return f"{pct(values, q):.0f} µs"


def _ms(values: list[float], q: float) -> str:
    return f"{pct(values, q):.2f} ms"

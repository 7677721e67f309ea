"""The runner's HTTP client and the measurement loop every figure uses: one request at a time on one
keep-alive connection, each followed by its raw-SQL floor so both see the same machine load."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable

from crm.bench.report import Figure


class Client:
    """One keep-alive HTTP/1.1 connection; ``call`` returns (status, milliseconds, body)."""

    def __init__(self, port: int, token: str):
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, float, bytes]:
        data = json.dumps(body).encode() if body is not None else None
        for attempt in range(2):
            try:
                started = time.perf_counter()
                self.conn.request(method, path, body=data, headers=self.headers)
                response = self.conn.getresponse()
                payload = response.read()
                return response.status, (time.perf_counter() - started) * 1000, payload
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A worker recycled (max_requests) between two requests: reconnect, untimed.
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt:
                    raise
        raise AssertionError("unreachable")


def measure(client: Client, name: str, samples: int, api: Callable[[int], tuple], floor: Callable[[int], object],
            *, warmup: int = 5, expect: int = 200, **figure) -> Figure:  # fmt: skip
    """``api(i)`` -> (method, path, body); ``floor(i)`` runs the raw SQL for the same input."""
    api_ms, floor_ms, errors = [], [], 0
    for i in range(-warmup, samples):
        method, path, body = api(i)
        status, ms, payload = client.call(method, path, body)
        if status != expect:
            errors += 1
            if errors == 1:
                print(f"  {name}: HTTP {status} for {method} {path}: {payload[:300]!r}")
        started = time.perf_counter()
        floor(i)
        floor_s = time.perf_counter() - started
        if i >= 0:
            api_ms.append(ms)
            floor_ms.append(floor_s * 1000)
    return Figure(name=name, api_ms=api_ms, floor_ms=floor_ms, errors=errors, **figure)

"""A small HTTP POST over a connection pinned to an address the SSRF guard checked (stdlib only)."""

from __future__ import annotations

import http.client
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from crm.automation import ssrf

TIMEOUT = 10
MAX_BODY = 2000


@dataclass
class Response:
    status: int
    body: str
    duration_ms: int


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # certificate checked for host


def post(url: str, body: bytes, headers: dict) -> Response:
    """POST ``body``; raises ssrf.Refused before connecting to a forbidden address, OSError on network errors."""
    host, port, address = ssrf.check_url(url)
    parts = urlsplit(url)
    conn_cls = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
    conn = conn_cls(host, port, address, TIMEOUT)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    started = time.monotonic()
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **headers})
        resp = conn.getresponse()
        text = resp.read(MAX_BODY).decode("utf-8", "replace")
        return Response(resp.status, text, int((time.monotonic() - started) * 1000))
    finally:
        conn.close()

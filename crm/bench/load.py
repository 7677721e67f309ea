"""Sustained requests/s from concurrent clients on 127.0.0.1: wrk when installed, else a bounded
multi-process Python generator. Both stop by themselves after ``duration`` seconds."""

from __future__ import annotations

import http.client
import multiprocessing
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class LoadResult:
    tool: str
    requests_per_s: float
    requests: int
    errors: int
    p50_ms: float | None
    p99_ms: float | None


def run_load(port: int, paths: list[str], headers: dict, *, duration: int, connections: int) -> LoadResult:
    if shutil.which("wrk"):
        return _wrk(port, paths, headers, duration=duration, connections=connections)
    return _python(port, paths, headers, duration=duration, connections=connections)


def _lua(paths: list[str], headers: dict) -> str:
    quoted = ", ".join(f'"{p}"' for p in paths)
    hdrs = ", ".join(f'["{k}"] = "{v}"' for k, v in headers.items())
    return (
        f"local paths = {{{quoted}}}\nlocal headers = {{{hdrs}}}\nlocal i = 0\n"
        "request = function()\n  i = i + 1\n"
        '  return wrk.format("GET", paths[(i % #paths) + 1], headers)\nend\n'
    )


def _ms(text: str) -> float | None:
    """wrk's '812.00us' / '3.21ms' / '1.02s' / '1.10m' in milliseconds."""
    found = re.match(r"([\d.]+)(us|ms|s|m)\b", text)
    if found is None:
        return None
    value, unit = found.groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def _wrk(port: int, paths: list[str], headers: dict, *, duration: int, connections: int) -> LoadResult:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "paths.lua"
        script.write_text(_lua(paths, headers))
        out = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(script),
             f"http://127.0.0.1:{port}"],
            capture_output=True, text=True, timeout=duration + 60, check=True,
        ).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(g) for g in m.groups())
    p50 = _ms(m.group(1)) if (m := re.search(r"50%\s+(\S+)", out)) else None
    p99 = _ms(m.group(1)) if (m := re.search(r"99%\s+(\S+)", out)) else None
    return LoadResult("wrk", rps, total, errors, p50, p99)


def _client(args) -> tuple[int, int, list[float]]:
    port, paths, headers, deadline, offset = args
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    done = errors = 0
    times = []
    i = offset
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            conn.request("GET", paths[i % len(paths)], headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status >= 400:
                errors += 1
        except OSError:
            errors += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        times.append((time.perf_counter() - started) * 1000)
        done += 1
        i += 1
    conn.close()
    return done, errors, times


def _python(port: int, paths: list[str], headers: dict, *, duration: int, connections: int) -> LoadResult:
    deadline = time.monotonic() + 1 + duration
    with multiprocessing.get_context("spawn").Pool(connections) as pool:
        started = time.monotonic()
        results = pool.map(_client, [(port, paths, headers, deadline, i * 7) for i in range(connections)])
        elapsed = time.monotonic() - started
    total = sum(r[0] for r in results)
    times = sorted(t for r in results for t in r[2])
    pct = (lambda q: times[min(len(times) - 1, int(q * len(times)))]) if times else (lambda q: None)
    return LoadResult("python", total / elapsed, total, sum(r[1] for r in results), pct(0.5), pct(0.99))

"""The benchmark report: a table on the terminal, a JSON file in bench/results/, and optionally the
table in docs/benchmarks.md (between markers, one block per database and scale)."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

RATIO_TARGET = 3.0
RESULTS = Path(settings.BASE_DIR) / "bench" / "results"
DOCS = Path(settings.BASE_DIR) / "docs" / "benchmarks.md"


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


@dataclass
class Figure:
    name: str
    api_ms: list[float]
    floor_ms: list[float]
    group: str
    errors: int = 0
    target_p95: float | None = None
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        floor = pct(self.floor_ms, 0.5)
        return pct(self.api_ms, 0.5) / floor if floor else float("inf")

    def verdict(self) -> str:
        if self.errors:
            return f"FAIL ({self.errors} errors)"
        parts = []
        if self.target_p95 is not None:
            ok = pct(self.api_ms, 0.95) <= self.target_p95
            parts.append(f"p95 {'pass' if ok else 'MISS'} (≤{self.target_p95:g} ms)")
        parts.append(f"ratio {'pass' if self.ratio <= RATIO_TARGET else 'MISS'} (≤{RATIO_TARGET:g}×)")
        return ", ".join(parts)

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "group": self.group,
            "samples": len(self.api_ms),
            "errors": self.errors,
            "api_ms": {"p50": pct(self.api_ms, 0.5), "p95": pct(self.api_ms, 0.95), "max": max(self.api_ms)},
            "floor_ms": {"p50": pct(self.floor_ms, 0.5), "p95": pct(self.floor_ms, 0.95)},
            "ratio_p50": self.ratio,
            "target_p95_ms": self.target_p95,
            "verdict": self.verdict(),
        }


def machine() -> dict:
    info = {"nproc": os.cpu_count(), "python": platform.python_version(), "load_avg": os.getloadavg()}
    try:
        cpu = Path("/proc/cpuinfo").read_text()
        info["cpu"] = re.search(r"model name\s*:\s*(.+)", cpu).group(1).strip()
        mem = Path("/proc/meminfo").read_text()
        info["memory_gib"] = round(int(re.search(r"MemTotal:\s+(\d+)", mem).group(1)) / 1024**2, 1)
    except (OSError, AttributeError):
        pass
    return info


def _rows(figures: list[Figure], throughput, connections: int) -> list[list[str]]:
    rows = []
    for f in figures:
        rows.append([
            f.name, f"{pct(f.api_ms, .5):.1f}", f"{pct(f.api_ms, .95):.1f}", f"{pct(f.floor_ms, .5):.2f}",
            f"{pct(f.floor_ms, .95):.2f}", f"{f.ratio:.1f}×", f.verdict(),
        ])  # fmt: skip
    detail, ping = throughput
    ratio = ping.requests_per_s / detail.requests_per_s if detail.requests_per_s else float("inf")
    errors = detail.errors + ping.errors
    rows.append([
        f"throughput: contact detail, {connections} clients ({detail.tool})", f"{detail.requests_per_s:.0f} req/s",
        f"p99 {detail.p99_ms or 0:.1f}", f"{ping.requests_per_s:.0f} req/s", "(/healthz/ping)", f"{ratio:.1f}×",
        f"FAIL ({errors} errors)" if errors else f"ratio {'pass' if ratio <= RATIO_TARGET else 'MISS'}",
    ])  # fmt: skip
    return rows


HEADER = ["figure", "API p50 ms", "API p95 ms", "floor p50 ms", "floor p95 ms", "ratio", "result"]


def write_report(
    *, scale, engine: str, figures: list[Figure], throughput, connections: int, docs: bool, out, throttle=()
) -> dict:
    """``throttle``: the rows of the rate limiter's cost (crm/bench/throttle_cost.py), a table of their own."""
    from crm.bench.throttle_cost import HEADER as THROTTLE_HEADER

    rows = _rows(figures, throughput, connections)
    _print(f"crm bench — {engine}, scale {scale.name}", HEADER, rows)
    if throttle:
        _print("API rate limits: cost per request", THROTTLE_HEADER, throttle)
    now = dt.datetime.now(dt.UTC)
    detail, ping = throughput
    data = {
        "time": now.isoformat(timespec="seconds"),
        "engine": engine,
        "scale": scale.__dict__,
        "machine": machine(),
        "figures": [f.as_dict() for f in figures],
        "throughput": {"detail": detail.__dict__, "ping_floor": ping.__dict__, "connections": connections},
        "rate_limit_cost": [dict(zip(THROTTLE_HEADER, r, strict=True)) for r in throttle],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{now:%Y%m%dT%H%M%SZ}-{engine}-{scale.name}.json"
    path.write_text(json.dumps(data, indent=2, default=str))
    out.write(f"Wrote {path}\n")
    if docs:
        update_docs(engine, scale.name, rows, data["machine"], now, throttle)
        out.write(f"Updated {DOCS}\n")
    return data


def _print(title: str, header: list[str], rows) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for h in header:
        table.add_column(h, justify="left" if h in ("figure", "result", "rate-limit cost", "how") else "right")
    for r in rows:
        table.add_row(*r)
    Console(width=160).print(table)


def markdown(rows: list[list[str]], header: list[str] = HEADER) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def update_docs(engine: str, scale: str, rows, info: dict, now, throttle=()) -> None:
    """Replace (or append) the block for this database and scale in docs/benchmarks.md."""
    start, end = f"<!-- bench:{engine}:{scale} -->", f"<!-- /bench:{engine}:{scale} -->"
    load = ", ".join(f"{x:.1f}" for x in info.get("load_avg", ()))
    block = (
        f"{start}\n### {engine}, scale {scale} ({now:%Y-%m-%d %H:%M} UTC)\n\n"
        f"Machine: {info.get('nproc')} cores ({info.get('cpu', '?')}), {info.get('memory_gib', '?')} GiB; "
        f"load average at the end {load}.\n\n{markdown(rows)}\n{_throttle_block(throttle)}{end}"
    )
    text = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    if start in text and end in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    DOCS.write_text(text)


def write_block(key: str, text: str, path: Path | None = None) -> None:
    """Replace the text between ``<!-- bench:KEY -->`` and ``<!-- /bench:KEY -->`` in docs/benchmarks.md,
    or add the marked block at the end: the one writer of every bench's ``--docs`` (sales, forecast, predict)."""
    path = path or DOCS
    start, end = f"<!-- bench:{key} -->", f"<!-- /bench:{key} -->"
    block = f"{start}\n{text}\n{end}"
    doc = path.read_text() if path.exists() else "# Benchmarks\n"
    mark = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    path.write_text(mark.sub(lambda _m: block, doc, count=1) if mark.search(doc) else f"{doc.rstrip()}\n\n{block}\n")


def _throttle_block(rows) -> str:
    if not rows:
        return ""
    from crm.bench.throttle_cost import HEADER as THROTTLE_HEADER

    return f"\nAPI rate limits, cost per request (crm/bench/throttle_cost.py):\n\n{markdown(rows, THROTTLE_HEADER)}\n"

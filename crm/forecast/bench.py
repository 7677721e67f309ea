"""`crm bench forecast --scale S [--db postgres]`: the forecast methods and the 8-quarter backtest
(issue 15's figures) on the benchmark database, timed in this process as an admin (every deal).

Figures: what the history methods learn (conversion rates per stage, the usual stay per stage) from
every deal's stage history, counted by the database (crm/forecast/history.py); the whole forecast of
the current quarter (every method, per team, rep, pipeline and currency); the backtest of the last 8
quarters (16 as-of forecasts and 8 actuals), each with nothing remembered (the cache emptied before
each run, untimed) and remembered (crm/forecast/memo.py: the fingerprint check and a cache read).
The floor, timed in the same run: what any forecast must at least read, in one raw SQL statement (the
quarter's deals summed per status and stage; the stage moves counted per stage; for the backtest, the
first over each of its 8 quarters): a figure far above it is our code's cost, one near it the data's.
``--docs`` writes the block between ``<!-- bench:forecast:<database> -->`` markers in docs/benchmarks.md
(``forecast:<database>:1m`` at scale ``1m``: 300,000 deals or more).
"""

from __future__ import annotations

import time

from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from crm.bench.report import machine, pct, write_block
from crm.forecast import backtest, categories, history, memo, periods, selectors
from crm.records.models import Deal, StageChange

GOAL_MS = 200.0


def _cold(fn):
    """``fn`` with nothing remembered (crm/forecast/memo.py): the cache is emptied first, untimed."""

    def timed_part():
        return fn()

    timed_part.before = cache.clear
    return timed_part


def _timed_each(fn, runs: int) -> list[float]:
    before = getattr(fn, "before", None)
    out = []
    for i in range(runs + 1):  # the first is a warm-up: the database's caches, imports
        if before:
            before()
        start = time.perf_counter()
        fn()
        if i:
            out.append((time.perf_counter() - start) * 1000)
    return out


def run(user, *, runs: int = 20) -> dict:
    visible = selectors.visible_deals(user)
    fy = categories.fiscal_year_start()
    quarter = periods.containing("quarter", timezone.localdate(), fy)
    instants = sorted(
        backtest.instant(p, point)
        for p in backtest.past_periods("quarter", 8, timezone.localdate())
        for point in backtest.POINTS
    )
    few = max(3, runs // 5)
    figures = {
        "history: conversion rate per stage (SQL)": (lambda: history.win_rates(visible), runs),
        "age: usual days in stage (SQL)": (lambda: history.typical_days(visible), runs),
        "backtest's history at its 16 instants (SQL, one pass each)": (
            lambda: (history.win_rates_at(visible, instants), history.typical_days_at(visible, instants)),
            few,
        ),
        f"forecast of {quarter.key}: every method, rollup (nothing remembered)": (
            _cold(lambda: selectors.forecast(user, quarter)),
            runs,
        ),
        f"forecast of {quarter.key}: every method, rollup (history remembered)": (
            lambda: selectors.forecast(user, quarter),
            runs,
        ),
        "backtest: 8 quarters × start, midway (nothing remembered)": (
            _cold(lambda: backtest.run(user, kind="quarter", count=8)),
            few,
        ),
        "backtest: 8 quarters × start, midway (remembered)": (
            lambda: backtest.run(user, kind="quarter", count=8),
            runs,
        ),
        "the fingerprint that guards what is remembered": (memo.fingerprint, runs),
        f"floor: {quarter.key}'s deals summed per status and stage (raw SQL)": (lambda: _floor([quarter]), runs),
        "floor: stage moves counted per stage (raw SQL)": (_moves_floor, runs),
        "floor: the 8 quarters' deals summed per status and stage (raw SQL)": (
            lambda: _floor(backtest.past_periods("quarter", 8, timezone.localdate())),
            few,
        ),
    }
    out = {
        "database": connection.vendor,
        "deals": Deal.objects.count(),
        "stage_moves": StageChange.objects.count(),
        "figures": {},
    }
    for name, (fn, n) in figures.items():
        times = _timed_each(fn, n)
        out["figures"][name] = {"runs": n, "p50": pct(times, 0.5), "p95": pct(times, 0.95)}
    return out


def _floor(quarters) -> list:
    """One grouped statement per period: the least reading of its deals a forecast can do."""
    out = []
    with connection.cursor() as cursor:
        for p in quarters:
            cursor.execute(
                f"SELECT status, stage_id, COUNT(*), SUM(amount), SUM(amount * probability) FROM {Deal._meta.db_table} "
                "WHERE (status = 'open' AND expected_close_date >= %s AND expected_close_date < %s) "
                "OR (status <> 'open' AND closed_at >= %s AND closed_at < %s) GROUP BY status, stage_id",
                [p.start, p.end, str(p.start), str(p.end)],
            )
            out.append(cursor.fetchall())
    return out


def _moves_floor() -> list:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT to_stage_id, COUNT(*) FROM {StageChange._meta.db_table} GROUP BY to_stage_id")
        return cursor.fetchall()


def report(result: dict, at) -> str:
    lines = [
        f"### Forecast on {result['database']} ({at:%Y-%m-%d %H:%M} UTC)",
        "",
        f"{_machine()} {result['deals']:,} deals, {result['stage_moves']:,} stage moves; as an admin (every deal).",
        "",
        "| figure | runs | p50 | p95 | goal |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, f in result["figures"].items():
        verdict = "met" if f["p95"] <= GOAL_MS else "MISS"
        lines.append(
            f"| {name} | {f['runs']} | {f['p50']:.1f} ms | {f['p95']:.1f} ms | ≤ {GOAL_MS:.0f} ms: {verdict} |"
        )
    return "\n".join(lines)


def _machine() -> str:
    m = machine()
    load = ", ".join(f"{x:.1f}" for x in m["load_avg"])
    return f"Machine: {m['nproc']} cores ({m.get('cpu', '?')}), Python {m['python']}; load average {load}."


def update_docs(text: str, vendor: str, deals: int = 0) -> None:
    """The block of this database (``<!-- bench:forecast:sqlite -->``, ``...:1m`` for ``deals`` ≥ 300,000),
    replaced or added at the end."""
    write_block(f"forecast:{vendor}{':1m' if deals >= 300_000 else ''}", text)

"""`crm bench analytics --scale S [--db postgres] [--docs]`: each sales-analytics endpoint's selector
(issue 15's goal: ≤ 200 ms each) on the benchmark database, timed in this process as an admin (every
deal), beside raw-SQL floors of the rows they read, measured in the same run.

Figures, for this fiscal quarter beside the previous one (the endpoints' default period):
/analytics/sales (crm/sales/analytics.py: outcomes, open and new pipeline, lost reasons, stages,
stuck), /sales/categories, /sales/activities, /sales/trend (crm/sales/breakdowns.py) and
/sales/deals (the drill-down: the quarter's won deals, first 200). Floors: one grouped query each
over the deals the figures count (closed, open and created in either quarter), the activities of
both quarters per owner and kind, and the won deals of the trend's 24 months per currency and day.
``--docs`` writes the block between ``<!-- bench:analytics:<database> -->`` markers in docs/benchmarks.md.
"""

from __future__ import annotations

import time

from django.db import connection
from django.utils import timezone

from crm.bench.report import machine, pct, write_block
from crm.forecast import categories, periods
from crm.records.models import Activity, Deal, DealStatus
from crm.sales import analytics, breakdowns

GOAL_MS = 200.0
DEALS = Deal._meta.db_table
FLOOR_DEALS = f"""
SELECT status, currency, COUNT(*), SUM(amount) FROM {DEALS}
WHERE (closed_at >= %s AND closed_at < %s) OR (created_at >= %s AND created_at < %s)
   OR (status = %s AND expected_close_date >= %s AND expected_close_date < %s)
GROUP BY status, currency
"""  # noqa: S608 - table names from the models, values as parameters
FLOOR_ACTIVITIES = f"""
SELECT owner_id, kind, COUNT(*) FROM {Activity._meta.db_table}
WHERE occurred_at >= %s AND occurred_at < %s GROUP BY owner_id, kind
"""  # noqa: S608
FLOOR_TREND = f"""
SELECT currency, {{day}}, COUNT(*), SUM(amount) FROM {DEALS}
WHERE status = %s AND closed_at >= %s AND closed_at < %s GROUP BY currency, {{day}}
"""  # noqa: S608


def _at(value):
    """A datetime as this database's driver compares it with stored values."""
    return connection.ops.adapt_datetimefield_value(value)


def _query(sql: str, params: list) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _floors(period: periods.Period, previous: periods.Period) -> dict:
    """The raw-SQL floors: the fewest rows each endpoint must read, grouped by the database."""
    start, end = analytics.bounds(previous)[0], analytics.bounds(period)[1]
    span_start = breakdowns._month_starts(period.last_day, 24)[0]
    trend_start = analytics.bounds(periods.Period(kind="month", key="", start=span_start, end=period.end))[0]
    day = "date(closed_at)" if connection.vendor == "sqlite" else "(closed_at AT TIME ZONE 'UTC')::date"
    deals = [_at(start), _at(end), _at(start), _at(end), DealStatus.OPEN.value, previous.start, period.end]
    return {
        "raw-SQL floor: deals closed, created or due in either quarter, per status and currency": (
            lambda: _query(FLOOR_DEALS, deals)
        ),
        "raw-SQL floor: both quarters' activities per owner and kind": (
            lambda: _query(FLOOR_ACTIVITIES, [_at(start), _at(end)])
        ),
        "raw-SQL floor: the trend's 24 months of won deals per currency and day": (
            lambda: _query(FLOOR_TREND.format(day=day), [DealStatus.WON.value, _at(trend_start), _at(end)])
        ),
    }


def _timed(fn, runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of each run; the first run is a warm-up (database caches, imports)."""
    wall, cpu = [], []
    for i in range(runs + 1):
        w, c = time.perf_counter(), time.process_time()
        fn()
        if i:
            wall.append((time.perf_counter() - w) * 1000)
            cpu.append((time.process_time() - c) * 1000)
    return wall, cpu


def figures(user, period: periods.Period, previous: periods.Period) -> dict:
    none = analytics.Filters()
    return {
        "/analytics/sales: every figure, beside the previous quarter": (
            lambda: analytics.sales(user, period, previous, none)
        ),
        "/analytics/sales/categories": lambda: breakdowns.by_category(user, period, previous, none),
        "/analytics/sales/activities": lambda: breakdowns.activity_counts(user, period, previous, none),
        "/analytics/sales/trend: 12 months beside the year before": (
            lambda: breakdowns.revenue_trend(user, period, none)
        ),
        "/analytics/sales/deals?figure=won (first 200)": lambda: list(
            analytics.deals_behind(analytics.scope(user, none), period, "won").order_by("id")[:200]
        ),
        **_floors(period, previous),
    }


def run(user, *, runs: int = 20) -> dict:
    fy = categories.fiscal_year_start()
    period = periods.containing("quarter", timezone.localdate(), fy)
    previous = periods.shifted(period, -1, fy)
    out = {
        "database": connection.vendor,
        "period": period.key,
        "deals": Deal.objects.count(),
        "activities": Activity.objects.count(),
        "figures": {},
    }
    for name, fn in figures(user, period, previous).items():
        wall, cpu = _timed(fn, runs)
        out["figures"][name] = {"runs": runs, "p50": pct(wall, 0.5), "p95": pct(wall, 0.95), "cpu": pct(cpu, 0.5)}
    return out


def report(result: dict, at) -> str:
    m = machine()
    load = ", ".join(f"{x:.1f}" for x in m["load_avg"])
    lines = [
        f"### Sales analytics on {result['database']} ({at:%Y-%m-%d %H:%M} UTC)",
        "",
        f"Machine: {m['nproc']} cores ({m.get('cpu', '?')}), Python {m['python']}; load average {load}. "
        f"{result['deals']:,} deals, {result['activities']:,} activities; period {result['period']} beside the "
        "previous quarter, as an admin (every deal), no filter.",
        "",
        "| figure | runs | p50 | p95 | CPU p50 | goal |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, f in result["figures"].items():
        goal = "floor" if name.startswith("raw-SQL") else ("met" if f["p95"] <= GOAL_MS else "MISS")
        goal = goal if goal == "floor" else f"≤ {GOAL_MS:.0f} ms: {goal}"
        lines.append(f"| {name} | {f['runs']} | {f['p50']:.1f} ms | {f['p95']:.1f} ms | {f['cpu']:.1f} ms | {goal} |")
    return "\n".join(lines)


def update_docs(text: str, vendor: str) -> None:
    """The block of this database (``<!-- bench:analytics:sqlite -->``), replaced or added at the end."""
    write_block(f"analytics:{vendor}", text)

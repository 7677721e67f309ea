"""`crm bench commissions --scale S [--db postgres] [--docs]`: commission statements for every rep of a
period (issue 15's figure) on the benchmark database, beside the raw-SQL floor of the rows they read.

Setup (untimed, kept in the benchmark database): one plan (5 % base, 8 % above 100 % of quota, a
category rate), every deal owner put on it for the last full quarter with a quota, through the services.
Figures: computing all the reps' statements in one pass (crm/commissions/batch.py, nothing written); the
recalculation the background job does when nothing changed (compute, fingerprint, compare: no write);
the per-rep path (crm/commissions/calculate.py ``compute``, the reference) once, for the before/after;
and the floor: one SQL query reading the same won deals with their splits, grouped per rep.
"""

from __future__ import annotations

import time
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from crm.bench.report import machine, pct, write_block
from crm.commissions import batch, calculate, plans, statements
from crm.commissions.credits import day_range
from crm.commissions.models import CommissionPlan, DealSplit, PlanAssignment
from crm.forecast import categories, periods
from crm.forecast.models import Quota
from crm.records.models import Deal, DealStatus

GOAL_MS = 200.0
PLAN = "Bench plan"
FLOOR = f"""
SELECT COALESCE(s.user_id, d.owner_id) AS rep, d.currency, COUNT(*), SUM(d.amount * COALESCE(s.percent, 100) / 100)
FROM {Deal._meta.db_table} d LEFT JOIN {DealSplit._meta.db_table} s ON s.deal_id = d.id
WHERE d.status = %s AND d.closed_at >= %s AND d.closed_at < %s
GROUP BY COALESCE(s.user_id, d.owner_id), d.currency
"""  # noqa: S608 - table names from the models, values as parameters


def setup(admin) -> tuple[periods.Period, list[PlanAssignment]]:
    """The last full quarter, and every owner of a deal won in it on the bench plan (made once)."""
    fy = categories.fiscal_year_start()
    quarter = periods.shifted(periods.containing("quarter", timezone.localdate(), fy), -1, fy)
    plan = CommissionPlan.objects.filter(name=PLAN).first() or plans.plan_create(
        actor=admin,
        data={
            "name": PLAN,
            "base_rate": "5",
            "tiers": [{"threshold": "100", "rate": "8"}],
            "category_rates": [{"category": "Services", "rate": "3"}],
        },
    )
    since, until = day_range(quarter.start, quarter.end)
    won = Deal.objects.filter(status=DealStatus.WON, closed_at__gte=since, closed_at__lt=until)
    for rep_id in won.exclude(owner_id=None).values_list("owner_id", flat=True).distinct():
        mine = PlanAssignment.objects.filter(rep_id=rep_id, period_start__lt=quarter.end, period_end__gt=quarter.start)
        if not mine.exists():
            plans.assignment_create(actor=admin, rep_id=rep_id, plan_id=plan.pk, period=quarter.key)
        Quota.objects.get_or_create(
            user_id=rep_id, period_kind=quarter.kind, period_start=quarter.start, defaults={"amount": Decimal(250_000)}
        )
    return quarter, batch.of_period(quarter.kind, quarter.start)


def _floor(quarter: periods.Period):
    since, until = day_range(quarter.start, quarter.end)
    with connection.cursor() as cursor:
        cursor.execute(FLOOR, [DealStatus.WON.value, since, until])
        return cursor.fetchall()


def _timed(fn, runs: int, warm_up: bool = True) -> list[float]:
    out = []
    for i in range(runs + warm_up):  # the first is a warm-up
        start = time.perf_counter()
        fn()
        if i or not warm_up:
            out.append((time.perf_counter() - start) * 1000)
    return out


def run(admin, *, runs: int = 10) -> dict:
    quarter, rows = setup(admin)
    statements.recalculate_many(rows)  # the first versions, so the timed recalculation finds nothing changed
    since, until = day_range(quarter.start, quarter.end)
    figures = {
        f"statements of all {len(rows)} reps of {quarter.key}, one pass (computed, not written)": (
            lambda: batch.compute_many(batch.of_period(quarter.kind, quarter.start))
        ),
        f"recalculation of all {len(rows)} reps, nothing changed (one pass, fingerprint, no write)": (
            lambda: statements.recalculate_many(batch.of_period(quarter.kind, quarter.start))
        ),
        f"before: the per-rep path, all {len(rows)} reps (calculate.compute, once, no warm-up)": (
            lambda: [calculate.compute(a) for a in rows]
        ),
        "raw-SQL floor: the period's won deals with their splits, summed per rep and currency": lambda: _floor(quarter),
    }
    out = {
        "database": connection.vendor,
        "deals": Deal.objects.count(),
        "won": Deal.objects.filter(status=DealStatus.WON, closed_at__gte=since, closed_at__lt=until).count(),
        "reps": len(rows),
        "figures": {},
    }
    for name, fn in figures.items():
        before = name.startswith("before:")  # seconds a run at scale: measured once, for the comparison
        cpu = time.process_time()
        times = _timed(fn, 1 if before else runs, warm_up=not before)
        cpu_ms = (time.process_time() - cpu) * 1000 / (len(times) + (not before))  # the warm-up ran too
        out["figures"][name] = {"runs": len(times), "p50": pct(times, 0.5), "p95": pct(times, 0.95), "cpu": cpu_ms}
    return out


def report(result: dict, at) -> str:
    m = machine()
    load = ", ".join(f"{x:.1f}" for x in m["load_avg"])
    lines = [
        f"### Commission statements on {result['database']} ({at:%Y-%m-%d %H:%M} UTC)",
        "",
        f"Machine: {m['nproc']} cores ({m.get('cpu', '?')}), Python {m['python']}; load average {load}. "
        f"{result['deals']:,} deals, {result['won']:,} won in the quarter by {result['reps']} reps.",
        "",
        "| figure | runs | p50 | p95 | CPU per run | goal |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, f in result["figures"].items():
        goal = "floor" if name.startswith("raw-SQL") else ("met" if f["p95"] <= GOAL_MS else "MISS")
        goal = "before" if name.startswith("before:") else goal
        goal = goal if goal in ("floor", "before") else f"≤ {GOAL_MS:.0f} ms: {goal}"
        cpu = f"{f['cpu']:.1f} ms" if "cpu" in f else "–"
        lines.append(f"| {name} | {f['runs']} | {f['p50']:.1f} ms | {f['p95']:.1f} ms | {cpu} | {goal} |")
    return "\n".join(lines)


def update_docs(text: str, vendor: str) -> None:
    write_block(f"commissions:{vendor}", text)

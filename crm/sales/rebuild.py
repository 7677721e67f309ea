"""The per-day sums (crm/sales/models.py) from scratch: after raw loads (the benchmark seed), by
``crm sales-sums --rebuild``, and as the reference ``differences`` compares the kept sums with.

Deals are read in chunks and counted with the same ``kept.deal_parts`` the writes use (a few hundred
thousand rows); activities, ten times as many, are grouped by the database per local day, owner and
kind (``analytics.LocalDate`` in the organization's time zone).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from crm.records.models import Activity, Deal
from crm.sales import kept
from crm.sales.analytics import LocalDate
from crm.sales.models import ActivityDay, DealDay

ZERO = Decimal(0)


def deal_sums() -> dict[tuple, tuple[int, Decimal, int]]:
    """{key: (count, amount, cycle µs)} over every deal."""
    out: dict[tuple, list] = defaultdict(lambda: [0, ZERO, 0])
    for row in Deal.objects.order_by().values(*kept.DEAL_FIELDS).iterator(chunk_size=5000):
        for key, n, amount, cycle in kept.deal_parts(row):
            d = out[key]
            d[0], d[1], d[2] = d[0] + n, d[1] + amount, d[2] + cycle
    return {k: tuple(v) for k, v in out.items() if v[0]}


def activity_sums() -> dict[tuple, int]:
    """{(day, owner_id, kind): count} over every activity, grouped by the database."""
    with timezone.override(timezone.get_default_timezone()):
        rows = (
            Activity.objects.order_by()
            .annotate(day=LocalDate("occurred_at"))
            .values_list("day", "owner_id", "kind")
            .annotate(n=Count("id"))
        )
        return {(d, o, k): n for d, o, k, n in rows}


def kept_deal_sums() -> dict[tuple, tuple[int, Decimal, int]]:
    out: dict[tuple, list] = defaultdict(lambda: [0, ZERO, 0])
    for row in DealDay.objects.values_list(*kept.DEAL_KEY, "count", "amount", "cycle_us"):
        d = out[row[:6]]
        d[0], d[1], d[2] = d[0] + row[6], d[1] + row[7], d[2] + row[8]
    return {k: tuple(v) for k, v in out.items() if any(v)}


def kept_activity_sums() -> dict[tuple, int]:
    out: dict[tuple, int] = defaultdict(int)
    for d, o, k, n in ActivityDay.objects.values_list(*kept.ACTIVITY_KEY, "count"):
        out[(d, o, k)] += n
    return {k: n for k, n in out.items() if n}


@transaction.atomic
def rebuild() -> dict[str, int]:
    """Every sum recomputed; returns how many rows of each table."""
    DealDay.objects.all().delete()
    ActivityDay.objects.all().delete()
    deals = [
        DealDay(**dict(zip(kept.DEAL_KEY, k, strict=True)), count=n, amount=a, cycle_us=c)
        for k, (n, a, c) in deal_sums().items()
    ]
    activities = [
        ActivityDay(**dict(zip(kept.ACTIVITY_KEY, k, strict=True)), count=n) for k, n in activity_sums().items()
    ]
    DealDay.objects.bulk_create(deals, batch_size=2000)
    ActivityDay.objects.bulk_create(activities, batch_size=2000)
    return {"sales_dealday": len(deals), "sales_activityday": len(activities)}


def differences(limit: int | None = 20) -> list[dict]:
    """Keys whose kept sums differ from a from-scratch computation (at most ``limit``); empty when true."""
    out = []
    for name, expected, kept_now in (
        ("deal", deal_sums(), kept_deal_sums()),
        ("activity", activity_sums(), kept_activity_sums()),
    ):
        for key in sorted(expected.keys() | kept_now.keys(), key=repr):
            if expected.get(key) != kept_now.get(key):
                out.append({"table": name, "key": key, "expected": expected.get(key), "kept": kept_now.get(key)})
                if limit is not None and len(out) >= limit:
                    return out
    return out

"""Reads across many deals: the pipeline board, the forecast and the funnel.

Every read starts from ``Deal.objects.restrict(user)``, so a rep's board, forecast and funnel
only count the deals that rep may see. Aggregates run in the database; Python only arranges
the (few) grouped rows.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Sum

from crm.records.models import Deal, DealStatus, Pipeline, StageChange

CARD_FIELDS = (
    "id",
    "name",
    "amount",
    "currency",
    "owner_id",
    "company_id",
    "expected_close_date",
    "probability",
    "stage_changed_at",
)


def _weighted():
    """amount × probability, a fresh expression per query (Django resolves expressions in place)."""
    return ExpressionWrapper(F("amount") * F("probability"), output_field=DecimalField(max_digits=24, decimal_places=2))


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


def board(user, pipeline: Pipeline, *, cards: int = 20, owner_id: int | None = None) -> list[dict]:
    """One column per stage: count, total and weighted amount of its deals, and its first ``cards``
    deals (most recently updated first); later cards load per column with the deals list API."""
    deals = Deal.objects.restrict(user).filter(pipeline=pipeline)
    if owner_id is not None:
        deals = deals.filter(owner_id=owner_id)
    totals = {
        row["stage_id"]: row
        for row in deals.values("stage_id").annotate(count=Count("id"), total=Sum("amount"), weighted=Sum(_weighted()))
    }
    columns = []
    for stage in pipeline.stages.order_by("order", "id"):
        row = totals.get(stage.pk, {})
        first = list(deals.filter(stage=stage).order_by("-updated_at", "-id").values(*CARD_FIELDS)[:cards])
        columns.append(
            {
                "stage": {"id": stage.pk, "name": stage.name, "probability": stage.probability, "status": stage.status},
                "count": row.get("count", 0),
                "amount": _money(row.get("total")),
                "weighted_amount": _money(row.get("weighted")) / 100,
                "cards": first,
            }
        )
    return columns


def forecast(user) -> list[dict]:
    """Open deals by expected close month: count, amount, and amount weighted by probability.

    Grouped by date in SQL and folded into months here: a month function would run per row
    (a Python function on SQLite), while the distinct close dates are only a few hundred rows."""
    rows = (
        Deal.objects.restrict(user)
        .filter(status=DealStatus.OPEN)
        .values("expected_close_date", "currency")
        .annotate(count=Count("id"), total=Sum("amount"), weighted=Sum(_weighted()))
        .order_by()
    )
    months: dict[tuple[str | None, str], dict] = {}
    for row in rows:
        day = row["expected_close_date"]
        month = day.strftime("%Y-%m") if isinstance(day, dt.date) else None
        bucket = months.setdefault(
            (month, row["currency"]),
            {
                "month": month,
                "currency": row["currency"],
                "count": 0,
                "amount": Decimal(0),
                "weighted_amount": Decimal(0),
            },
        )
        bucket["count"] += row["count"]
        bucket["amount"] += Decimal(row["total"] or 0)
        bucket["weighted_amount"] += Decimal(row["weighted"] or 0) / 100
    ordered = sorted(months.values(), key=lambda b: (b["month"] is None, b["month"] or "", b["currency"]))
    for bucket in ordered:
        bucket["amount"] = _money(bucket["amount"])
        bucket["weighted_amount"] = _money(bucket["weighted_amount"])
    return ordered


def funnel(user) -> list[dict]:
    """Per pipeline, per stage in order: how many deals ever reached it (from the stage history),
    and the share of those that reached the next open stage, and won."""
    changes = StageChange.objects.all()
    visible = Deal.objects.restrict(user)
    if visible.query.is_empty():
        changes = changes.none()
    elif visible.query.where:  # only join when the user's scope actually limits the deals
        changes = changes.filter(deal_id__in=visible.values("pk"))
    reached = {
        row["to_stage_id"]: row["deals"]
        for row in changes.values("to_stage_id").annotate(deals=Count("deal_id", distinct=True)).order_by()
    }
    out = []
    for pipeline in Pipeline.objects.prefetch_related("stages"):
        stages = sorted(pipeline.stages.all(), key=lambda s: (s.order, s.pk))
        open_stages = [s for s in stages if not s.is_won and not s.is_lost]
        entered = reached.get(open_stages[0].pk, 0) if open_stages else 0
        rows = []
        for stage in stages:
            count = reached.get(stage.pk, 0)
            nxt = open_stages[open_stages.index(stage) + 1] if stage in open_stages[:-1] else None
            rows.append(
                {
                    "stage": {"id": stage.pk, "name": stage.name, "status": stage.status},
                    "reached": count,
                    "share_of_entered": round(count / entered, 4) if entered else None,
                    "to_next": round(reached.get(nxt.pk, 0) / count, 4) if nxt is not None and count else None,
                }
            )
        out.append({"pipeline": {"id": pipeline.pk, "name": pipeline.name}, "entered": entered, "stages": rows})
    return out

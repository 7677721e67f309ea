"""The forecast of one period as a user may see it: deals read through ``Deal.objects.restrict``.

Deals in a period: open deals expected to close in it, and deals won or lost in it. The history the
``history`` and ``age`` methods learn from is the stage history of the deals the user may see (a rep's
own, a manager's team's), so no figure is computed from deals hidden from the reader. A role that
hides deal amounts gets no forecast (403): every figure would be computed from them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import fields
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from crm.access.models import Profile, Team
from crm.access.policy import policy_for
from crm.core.errors import PermissionDenied
from crm.forecast import categories, history, memo, methods, quotas, sums
from crm.forecast.models import Adjustment, StageCategory
from crm.forecast.periods import Period
from crm.records.models import Deal, DealStatus, Pipeline

FACT_FIELDS = (
    "id",
    "owner_id",
    "pipeline_id",
    "stage_id",
    "status",
    "amount",
    "currency",
    "expected_close_date",
    "closed_at",
    "probability",
    "stage_changed_at",
    "forecast_category__category",
    "stage__is_won",
    "stage__is_lost",
)


def visible_deals(user):
    if "amount" in policy_for(user).hidden_fields("deal"):
        raise PermissionDenied("Your role may not see deal amounts, so it has no forecast.")
    return Deal.objects.restrict(user)


def in_period(qs, period: Period):
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(period.start, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(period.end, dt.time.min, tzinfo=tz)
    open_q = Q(status=DealStatus.OPEN, expected_close_date__gte=period.start, expected_close_date__lt=period.end)
    closed_q = ~Q(status=DealStatus.OPEN) & Q(closed_at__gte=start, closed_at__lt=end)
    return qs.filter(open_q | closed_q)


def deal_facts(rows, mapping: dict[int, str]) -> list[methods.DealFact]:
    tz = timezone.get_current_timezone()  # once: timezone.localdate looks it up on every call

    def day(at: dt.datetime) -> dt.date:
        return at.astimezone(tz).date()

    out = []
    for r in rows:
        closed = r["closed_at"]
        is_open = r["status"] == DealStatus.OPEN
        if is_open:
            category = r["forecast_category__category"] or mapping.get(r["stage_id"], "pipeline")
        else:
            category = "closed" if r["status"] == DealStatus.WON else "omitted"
        out.append(
            methods.DealFact(
                id=r["id"],
                owner_id=r["owner_id"],
                pipeline_id=r["pipeline_id"],
                stage_id=r["stage_id"],
                status=r["status"],
                amount=Decimal(r["amount"] or 0),
                currency=r["currency"],
                close_date=r["expected_close_date"] if is_open else (day(closed) if closed else None),
                probability=r["probability"],
                category=category,
                stage_entered=day(r["stage_changed_at"]),
            )
        )
    return out


def computed(user, period: Period, *, today: dt.date | None = None) -> sums.Rollup:
    return computed_from(visible_deals(user), period, today=today)


def computed_from(visible, period: Period, *, today: dt.date | None = None) -> sums.Rollup:
    """The period's figures from the deals ``visible`` (the history methods learn from them too),
    summed by the database in groups of alike deals (crm/forecast/sums.py); remembered until a deal, a
    stage move, a category or a rate is written (crm/forecast/memo.py)."""
    today = today or timezone.localdate()

    def learn() -> tuple:
        # Plain tuples: a cached Rollup (thousands of Decimals) takes longer to unpickle than to compute.
        rates, typical = history.win_rates(visible), history.typical_days(visible)
        groups = sums.groups_in_sql(in_period(visible, period), typical, today)
        # Not dataclasses.astuple: it deep-copies every value, which took longer than the query.
        names = [f.name for f in fields(sums.Group)]
        return rates, typical, [tuple(getattr(g, n) for n in names) for g in groups]

    rates, typical, rows = memo.remembered(
        "period-groups", visible, (period.kind, period.start, period.end, today), learn
    )
    return sums.rollup_of([sums.Group(*row) for row in rows], rates=rates, typical=typical, today=today)


def _teams_of(owner_ids) -> dict[int, int | None]:
    teams = dict(Profile.objects.filter(user_id__in=owner_ids).values_list("user_id", "team_id"))
    for team_id, manager_id in Team.objects.filter(manager_id__in=owner_ids).values_list("id", "manager_id"):
        teams.setdefault(manager_id, team_id)  # a manager outside the team's members counts in it
        if teams[manager_id] is None:
            teams[manager_id] = team_id
    return teams


def forecast(user, period: Period, *, today: dt.date | None = None) -> dict:
    """The period's figures: total, per pipeline, per team with its reps (quota, attainment = won in
    the period, gap = quota − attainment, the manager's latest adjustment), and per currency."""
    c = computed(user, period, today=today)
    by_owner = c.totals_by(lambda g: g.owner_id)
    by_pipeline = c.totals_by(lambda g: g.pipeline_id)
    visible_quotas = quotas.visible_user_quotas(user, period)
    owners = set(by_owner) | set(visible_quotas)
    teams = _teams_of([o for o in owners if o is not None])
    names = quotas.user_names([o for o in owners if o is not None])
    adjusted = latest_adjustments(period, [o for o in owners if o is not None])
    team_rows: dict[int | None, dict] = {}
    for owner in sorted(owners, key=lambda o: (o is None, names.get(o, ""))):
        totals = [by_owner[owner]] if owner in by_owner else []
        rep = {"id": owner, "name": names.get(owner, "No owner") if owner else "No owner", **c.shaped(*totals)}
        _with_quota(rep, visible_quotas.get(owner))
        rep["adjusted"] = adjusted.get(owner)
        team = team_rows.setdefault(teams.get(owner), {"reps": [], "totals": []})
        team["reps"].append(rep)
        team["totals"].extend(totals)
    team_names = dict(Team.objects.filter(pk__in=[t for t in team_rows if t]).values_list("id", "name"))
    out_teams = []
    for team_id, team in sorted(team_rows.items(), key=lambda t: (t[0] is None, team_names.get(t[0], ""))):
        row = {"id": team_id, "name": team_names.get(team_id, "No team"), **c.shaped(*team["totals"])}
        quota = quotas.team_quota(team_id, period, [r["quota"] for r in team["reps"]]) if team_id else None
        _with_quota(row, quota)
        row["reps"] = team["reps"]
        out_teams.append(row)
    pipelines = dict(Pipeline.objects.filter(pk__in=by_pipeline).values_list("id", "name"))
    return {
        "period": period,
        "currency": c.org,
        "total": c.shaped(*by_owner.values()),
        "teams": out_teams,
        "pipelines": [{"id": p, "name": pipelines[p], **c.shaped(totals)} for p, totals in sorted(by_pipeline.items())],
        "per_currency": c.per_currency(),
    }


def _with_quota(row: dict, quota: Decimal | None) -> None:
    row["quota"] = quota
    row["attainment"] = row["closed"]
    row["attainment_pct"] = round(row["closed"] / quota * 100, 1) if quota else None
    row["gap"] = quota - row["closed"] if quota is not None else None


def latest_adjustments(period: Period, rep_ids) -> dict[int, dict]:
    rows = Adjustment.objects.filter(rep_id__in=rep_ids, period_kind=period.kind, period_start=period.start)
    out: dict[int, dict] = {}
    for a in rows.order_by("-created_at", "-id"):
        out.setdefault(a.rep_id, {"amount": a.amount, "note": a.note, "created_at": a.created_at})
    return out


def drill_down(user, period: Period, *, owner_id=None, team_id=None, pipeline_id=None, category=None):
    """The deals behind a number: the period's deals the user may see, narrowed."""
    qs = in_period(visible_deals(user), period).select_related("stage", "owner", "forecast_category")
    if owner_id is not None:
        qs = qs.filter(owner_id=owner_id)
    if team_id is not None:
        members = list(Profile.objects.filter(team_id=team_id).values_list("user_id", flat=True))
        manager = Team.objects.filter(pk=team_id).values_list("manager_id", flat=True).first()
        qs = qs.filter(owner_id__in=[m for m in [*members, manager] if m])
    if pipeline_id is not None:
        qs = qs.filter(pipeline_id=pipeline_id)
    deals = list(qs.order_by("expected_close_date", "id"))
    mapping = dict(StageCategory.objects.values_list("stage_id", "category"))
    for deal in deals:
        override = getattr(deal, "forecast_category", None)  # None when the deal has no override row
        if deal.status != DealStatus.OPEN:
            deal.category = "closed" if deal.status == DealStatus.WON else "omitted"
        else:
            deal.category = override.category if override else categories.default_of(deal.stage, mapping)
    if category is not None:
        deals = [d for d in deals if d.category == category]
    return deals

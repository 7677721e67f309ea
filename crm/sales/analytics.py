"""Sales analytics of a period: win rate, deal size, cycle, stage conversion, velocity, coverage…

Every figure is computed in the database over ``Deal.objects.restrict(viewer, "view")`` narrowed by
the filters (owner, team, pipeline, lead source), so a rep's figures never count another rep's deals.
Python only converts the few (currency, date) groups SQL returns into the organization's currency,
each at the rate of its date (a won deal's close date, a new deal's creation date, an open deal's
expected close date): crm.money.totals. A missing rate is a 422 (MissingRate), never a silent 1.0.

Definitions (a period covers [start, end) in the local time zone):
- won / lost: deals closed in the period with that outcome; win rate = won ÷ (won + lost).
- average won size: won amount ÷ won count; cycle: mean days from creation to close of the won deals.
- open pipeline: open deals expected to close in the period (for a past period: those still open).
- velocity: open count × win rate × average won size ÷ cycle days (money per day).
- coverage: open pipeline ÷ remaining quota (quota − won amount), when a quota is known and unmet.
- new pipeline: deals created in the period (count and amount at their creation date's rate).
- stages: over the deals closed in the period, per stage the deals that reached it, those that went on
  to a later (not lost) stage, and the days of completed stays (crm/forecast/history.py).
- stuck: open deals in their stage for longer than the usual (median) stay there, learnt from the
  stage history of the visible deals (at least ``MIN_SAMPLE`` stays) — a snapshot of today.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Avg, Count, DurationField, Exists, ExpressionWrapper, F, OuterRef, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from crm.access.models import Profile, Team
from crm.access.policy import policy_for
from crm.core.errors import PermissionDenied, ValidationFailed
from crm.core.filters import refuse_hidden
from crm.forecast import history, quotas
from crm.forecast.periods import Period
from crm.money import totals as money_totals
from crm.money.rates import MissingRate
from crm.records.models import Deal, DealStatus, Lead, Pipeline, Stage, StageChange
from crm.sales.models import Outcome

FIGURES = ("won", "lost", "open", "new", "stuck")  # the deal sets a figure can drill down to
STUCK_LIMIT = 100
_RATIO = Decimal("0.0001")
_DAYS = Decimal("0.1")


@dataclass(frozen=True)
class Filters:
    owner_id: int | None = None
    team_id: int | None = None
    pipeline_id: int | None = None
    source: str | None = None

    def check(self) -> None:
        """422 for a filter naming nothing (a typo would otherwise read as "no deals")."""
        errors = {}
        if self.owner_id is not None and not get_user_model().objects.filter(pk=self.owner_id).exists():
            errors["owner_id"] = f"No user with id {self.owner_id}."
        if self.team_id is not None and not Team.objects.filter(pk=self.team_id).exists():
            errors["team_id"] = f"No team with id {self.team_id}."
        if self.pipeline_id is not None and not Pipeline.objects.filter(pk=self.pipeline_id).exists():
            errors["pipeline_id"] = f"No pipeline with id {self.pipeline_id}."
        if errors:
            raise ValidationFailed(errors)

    def q(self) -> Q:
        q = Q()
        if self.owner_id is not None:
            q &= Q(owner_id=self.owner_id)
        if self.team_id is not None:
            q &= Q(owner_id__in=team_members(self.team_id))
        if self.pipeline_id is not None:
            q &= Q(pipeline_id=self.pipeline_id)
        if self.source:
            # A deal's source is that of the lead converted into it; Exists keeps one row per deal.
            q &= Q(Exists(Lead.objects.filter(converted_deal=OuterRef("pk"), source=self.source)))
        return q

    def as_params(self) -> dict:
        names = ("owner_id", "team_id", "pipeline_id", "source")
        return {n: getattr(self, n) for n in names if getattr(self, n) not in (None, "")}


def team_members(team_id: int) -> list[int]:
    """A team's members and its manager (as the board and the forecast count them)."""
    members = Profile.objects.filter(team_id=team_id).values_list("user_id", flat=True)
    manager = Team.objects.filter(pk=team_id).values_list("manager_id", flat=True).first()
    return [m for m in [*members, manager] if m]


def scope(user, filters: Filters):
    """The deals the figures count: those ``user`` may view, narrowed by ``filters``. Every figure is
    computed from amounts, so a role that may not see them gets none (403), as with the forecast."""
    hidden = policy_for(user).hidden_fields("deal")
    if "amount" in hidden:
        raise PermissionDenied("Your role may not see deal amounts, so it has no sales analytics.")
    refuse_hidden({"owner_id": "owner", "team_id": "owner"} if filters.owner_id or filters.team_id else {}, hidden)
    filters.check()
    return Deal.objects.restrict(user, "view").filter(filters.q())


def bounds(period: Period) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return (
        dt.datetime.combine(period.start, dt.time.min, tzinfo=tz),
        dt.datetime.combine(period.end, dt.time.min, tzinfo=tz),
    )


def deals_behind(deals, period: Period, figure: str, *, lost_reason: str | None = None):
    """The deals a figure counts (the drill-down): ``figure`` is one of FIGURES."""
    start, end = bounds(period)
    if figure == "won":
        return deals.filter(status=DealStatus.WON, closed_at__gte=start, closed_at__lt=end)
    if figure == "lost":
        lost = deals.filter(status=DealStatus.LOST, closed_at__gte=start, closed_at__lt=end)
        return lost if lost_reason is None else lost.filter(lost_reason=lost_reason)
    if figure == "open":
        return deals.filter(
            status=DealStatus.OPEN, expected_close_date__gte=period.start, expected_close_date__lt=period.end
        )
    if figure == "new":
        return deals.filter(created_at__gte=start, created_at__lt=end)
    if figure == "stuck":
        return stuck(deals)
    raise ValidationFailed({"figure": f"A figure is one of {', '.join(FIGURES)}."})


class LocalDate(TruncDate):
    """TruncDate in the current time zone. SQLite stores datetimes as UTC text, so when that zone is UTC
    its own date() gives the same day without Django's Python function called per row (about a third
    of /analytics/sales' CPU at 30,000 deals: docs/benchmarks.md, "Sales analytics")."""

    def as_sqlite(self, compiler, connection, **extra):
        if self.get_tzname() != "UTC" or connection.timezone_name != "UTC":
            return self.as_sql(compiler, connection)
        sql, params = compiler.compile(self.lhs)
        return f"date({sql})", params


def _converted(rows, date_key: str) -> Decimal:
    """Sum of (currency, date, total) rows in the organization's currency; MissingRate when a rate is missing."""
    groups = [money_totals.Group(r["currency"], r[date_key], r["total"] or Decimal(0), Decimal(0)) for r in rows]
    table = money_totals.table_for(groups)
    for group in groups:
        if table.lookup(group.currency.upper(), group.on) is None:
            raise MissingRate(group.currency, group.on)
    return money_totals.converted(groups, table)["amount"]


def _sum_by_day(deals, day_expr) -> Decimal:
    rows = deals.order_by().annotate(day=day_expr).values("currency", "day").annotate(total=Sum("amount"))
    return _converted(rows, "day")


def _ratio(part, whole) -> Decimal | None:
    return (Decimal(part) / Decimal(whole)).quantize(_RATIO) if whole else None


def outcomes(deals, period: Period, sums=None) -> dict:
    """Won and lost counts, win rate, won amount and average, mean cycle days of the won deals
    (from the kept per-day ``sums`` when given: crm/sales/summaries.py)."""
    if sums is not None:
        n, lost, won_amount, days = sums.outcome_parts(period)
    else:
        won = deals_behind(deals, period, "won")
        cycle = ExpressionWrapper(F("closed_at") - F("created_at"), output_field=DurationField())
        counts = won.order_by().aggregate(n=Count("id"), cycle=Avg(cycle, output_field=DurationField()))
        n, days = counts["n"], counts["cycle"]
        lost = deals_behind(deals, period, "lost").count()
        won_amount = _sum_by_day(won, LocalDate("closed_at")) if n else Decimal("0.00")
    return {
        "won_count": n,
        "lost_count": lost,
        "win_rate": _ratio(n, n + lost),
        "won_amount": won_amount,
        "avg_won_amount": (won_amount / n).quantize(Decimal("0.01")) if n else None,
        "cycle_days": (Decimal(days.total_seconds()) / 86400).quantize(_DAYS) if days is not None else None,
    }


def lost_reasons(deals, period: Period) -> list[dict]:
    rows = deals_behind(deals, period, "lost").order_by().values("lost_reason").annotate(n=Count("id"))
    return [
        {"reason": r["lost_reason"], "count": r["n"]} for r in sorted(rows, key=lambda r: (-r["n"], r["lost_reason"]))
    ]


def stages(deals, period: Period) -> list[dict]:
    """Per stage, over the deals closed in the period: reached, went on to a later stage, stay days."""
    closed = deals.filter(status__in=(DealStatus.WON, DealStatus.LOST)).filter(
        closed_at__gte=bounds(period)[0], closed_at__lt=bounds(period)[1]
    )
    later = StageChange.objects.filter(
        deal_id=OuterRef("deal_id"),
        to_stage__pipeline_id=OuterRef("to_stage__pipeline_id"),
        to_stage__order__gt=OuterRef("to_stage__order"),
        to_stage__is_lost=False,
    )
    rows = (
        StageChange.objects.filter(deal_id__in=closed.values("pk"))
        .annotate(went_on=Exists(later))
        .order_by()
        .values("to_stage_id")
        .annotate(
            reached=Count("deal_id", distinct=True), advanced=Count("deal_id", distinct=True, filter=Q(went_on=True))
        )
    )
    counted = {r["to_stage_id"]: r for r in rows}
    stays = history.stay_histogram(closed)
    out = []
    for stage in Stage.objects.filter(pk__in=counted).select_related("pipeline").order_by("pipeline_id", "order", "id"):
        row, hist = counted[stage.pk], stays.get(stage.pk, {})
        n = sum(hist.values())
        terminal = stage.is_won or stage.is_lost
        out.append(
            {
                "stage_id": stage.pk,
                "stage": stage.name,
                "pipeline_id": stage.pipeline_id,
                "pipeline": stage.pipeline.name,
                "reached": row["reached"],
                "advanced": None if terminal else row["advanced"],
                "conversion": None if terminal else _ratio(row["advanced"], row["reached"]),
                "stays": n,
                "avg_days": (Decimal(sum(d * c for d, c in hist.items())) / n).quantize(_DAYS) if n else None,
                "median_days": history.median_of(hist) if n else None,
            }
        )
    return out


def stuck(deals):
    """Open deals in their stage longer than the usual stay there (stages with enough history)."""
    typical = history.typical_days(deals)
    if not typical:
        return deals.none()
    now = timezone.now()
    q = Q()
    for stage_id, days in typical.items():
        q |= Q(stage_id=stage_id, stage_changed_at__lt=now - dt.timedelta(days=float(days)))
    return deals.filter(q, status=DealStatus.OPEN)


def _quota(user, period: Period, filters: Filters) -> Decimal | None:
    """The quota the figures are measured against: the owner's, the team's, or the sum the user may see."""
    visible = quotas.visible_user_quotas(user, period)
    if filters.owner_id is not None:
        return visible.get(filters.owner_id)
    if filters.team_id is not None:
        members = team_members(filters.team_id)
        return quotas.team_quota(filters.team_id, period, [visible.get(m) for m in members])
    return sum(visible.values(), Decimal(0)) if visible else None


def period_figures(user, deals, period: Period, filters: Filters, sums=None) -> dict:
    figures = outcomes(deals, period, sums)
    if sums is not None:
        open_count, open_amount = sums.count_amount(Outcome.OPEN, period)
        new_count, new_amount = sums.count_amount(Outcome.CREATED, period)
    else:
        open_deals = deals_behind(deals, period, "open")
        open_count = open_deals.count()
        open_amount = _sum_by_day(open_deals, F("expected_close_date")) if open_count else Decimal("0.00")
        new = deals_behind(deals, period, "new")
        new_count = new.count()
        new_amount = _sum_by_day(new, LocalDate("created_at")) if new_count else Decimal("0.00")
    quota = _quota(user, period, filters)
    remaining = quota - figures["won_amount"] if quota is not None else None
    velocity = None
    if figures["win_rate"] is not None and figures["cycle_days"]:
        velocity = open_count * figures["win_rate"] * figures["avg_won_amount"] / figures["cycle_days"]
        velocity = velocity.quantize(Decimal("0.01"))
    return {
        **figures,
        "open_count": open_count,
        "open_amount": open_amount,
        "velocity_per_day": velocity,
        "quota": quota,
        "remaining_quota": remaining,
        "coverage": (open_amount / remaining).quantize(_RATIO) if remaining and remaining > 0 else None,
        "new_count": new_count,
        "new_amount": new_amount,
        "lost_reasons": sums.lost_reasons(period) if sums is not None else lost_reasons(deals, period),
        "stages": stages(deals, period),
    }


SCALARS = (
    "won_count",
    "lost_count",
    "win_rate",
    "won_amount",
    "avg_won_amount",
    "cycle_days",
    "open_count",
    "open_amount",
    "velocity_per_day",
    "coverage",
    "new_count",
    "new_amount",
)


def sales(user, period: Period, previous: Period, filters: Filters) -> dict:
    """The period's figures beside the previous period's, and the change of each (None when either is)."""
    from crm.sales import summaries  # it reads this module's helpers

    deals = scope(user, filters)
    sums = summaries.deal_sums(user, filters)
    current = period_figures(user, deals, period, filters, sums)
    before = period_figures(user, deals, previous, filters, sums)
    change = {
        k: (current[k] - before[k]) if current[k] is not None and before[k] is not None else None for k in SCALARS
    }
    # One read of the stuck ids (their count and the first ones): the stuck filter is a long OR per stage.
    stuck_ids = list(stuck(deals).order_by("stage_changed_at", "id").values_list("id", flat=True))
    return {
        "current": current,
        "previous": before,
        "change": change,
        "stuck_count": len(stuck_ids),
        "stuck_ids": stuck_ids[:STUCK_LIMIT],
    }

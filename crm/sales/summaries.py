"""Sales figures read from the kept per-day sums (crm/sales/models.py) instead of scanning deals and
activities: a quarter is a few thousand sum rows, not tens of thousands of deals or millions of
activities (docs/analytics.md, docs/benchmarks.md "Sales analytics").

Only when the question can be asked of the sums: the viewer's visibility must be a set of owners (or
everyone), the filters owner, team and pipeline (a lead source is not kept: scan), and the request's
time zone the organization's (the sums are per day there). Otherwise ``deal_sums``/``activity_sums``
return None and the callers scan as before. The results are the scan's: rows are summed per key and
groups whose count is 0 (every deal of them moved away) are dropped, as a scan would never see them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Q, Sum
from django.utils import timezone

from crm.access.policy import policy_for
from crm.records.models import Activity
from crm.sales import analytics
from crm.sales.models import ActivityDay, DealDay, Outcome


def _org_zone() -> bool:
    """Whether the request's days are the organization's (a user's own zone shifts the day bounds)."""
    return timezone.get_current_timezone_name() == timezone.get_default_timezone_name()


def deal_sums(user, filters: analytics.Filters) -> DealSums | None:
    """The sums of the deals ``scope(user, filters)`` counts, or None when the sums cannot tell."""
    policy = policy_for(user)
    if filters.source or not _org_zone() or not policy.allows("deal", "view"):
        return None
    # Deal.visibility_q is the owner scope (crm/core/models.py RecordModel): visible_owner_ids says it.
    rows = DealDay.objects.all()
    owners = policy.visible_owner_ids()
    if owners is not None:
        rows = rows.filter(owner_id__in=sorted(owners))
    if filters.owner_id is not None:
        rows = rows.filter(owner_id=filters.owner_id)
    if filters.team_id is not None:
        rows = rows.filter(owner_id__in=analytics.team_members(filters.team_id))
    if filters.pipeline_id is not None:
        rows = rows.filter(pipeline_id=filters.pipeline_id)
    return DealSums(rows)


class DealSums:
    def __init__(self, rows):
        self.rows = rows

    def of(self, outcome: Outcome, start: dt.date, end: dt.date):
        return self.rows.filter(outcome=outcome, day__gte=start, day__lt=end).order_by()

    def groups(self, outcome: Outcome, start: dt.date, end: dt.date) -> list[dict]:
        """Per (currency, day): count, amount, cycle µs — the groups with deals in them."""
        sums = {"n": Sum("count"), "total": Sum("amount"), "cycle": Sum("cycle_us")}
        return list(self.of(outcome, start, end).values("currency", "day").annotate(**sums).filter(n__gt=0))

    def outcome_parts(self, period) -> tuple[int, int, Decimal, dt.timedelta | None]:
        """Won count, lost count, won amount (organization's currency), mean cycle of the won."""
        won = self.groups(Outcome.WON, period.start, period.end)
        n = sum(g["n"] for g in won)
        lost = self.of(Outcome.LOST, period.start, period.end).aggregate(n=Sum("count"))["n"] or 0
        amount = analytics._converted(won, "day") if n else Decimal("0.00")
        # As the scan's AVG of durations: microseconds, rounded to one by timedelta.
        cycle = dt.timedelta(microseconds=sum(g["cycle"] for g in won) / n) if n else None
        return n, lost, amount, cycle

    def count_amount(self, outcome: Outcome, period) -> tuple[int, Decimal]:
        """Count and amount (organization's currency) of the open (by expected close) or new deals."""
        groups = self.groups(outcome, period.start, period.end)
        n = sum(g["n"] for g in groups)
        return n, (analytics._converted(groups, "day") if n else Decimal("0.00"))

    def lost_reasons(self, period) -> list[dict]:
        rows = self.of(Outcome.LOST, period.start, period.end).values("lost_reason").annotate(n=Sum("count"))
        rows = [r for r in rows if r["n"]]
        return [
            {"reason": r["lost_reason"], "count": r["n"]}
            for r in sorted(rows, key=lambda r: (-r["n"], r["lost_reason"]))
        ]


def activity_sums(user):
    """The activity sums when the viewer sees every activity (Activity's visibility is also by links
    to visible records, which the sums cannot tell: a scoped viewer scans); None otherwise."""
    policy = policy_for(user)
    if not _org_zone() or not policy.allows("activity", "view") or Activity.visibility_q(policy, "view") is not None:
        return None
    return ActivityDay.objects.all()


def activity_counts(rows, period, filters: analytics.Filters) -> list[dict]:
    """Per (owner, kind): activities of the period, as ``breakdowns._counts`` groups them."""
    q = Q(day__gte=period.start, day__lt=period.end)
    if filters.owner_id is not None:
        q &= Q(owner_id=filters.owner_id)
    if filters.team_id is not None:
        q &= Q(owner_id__in=analytics.team_members(filters.team_id))
    out = rows.filter(q).order_by().values("owner_id", "kind").annotate(n=Sum("count"))
    return [r for r in out if r["n"]]

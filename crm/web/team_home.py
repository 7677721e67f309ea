"""The home page of someone who sees a team's records (a sales manager, an admin): pipeline by rep,
overdue tasks by rep, deals closing this month. Every number is read through the restricted querysets,
so a manager sees their team and nothing else; a rep (own scope) keeps "my day" (views/home.py).

Amounts are summed per currency as Decimals (never added across currencies); a role that hides deal
amounts gets the counts only, one that hides the owner or assignee gets no per-rep rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.db.models import Count, Sum
from django.utils import timezone

from crm.access.models import Scope
from crm.access.policy import policy_for
from crm.records.models import Deal, DealStatus, Task, TaskStatus
from crm.web.saved_views import month_bounds

OPEN_TASK = (TaskStatus.OPEN, TaskStatus.IN_PROGRESS)
CLOSING_LIMIT = 20


@dataclass
class RepRow:
    user: object
    open_deals: int = 0
    totals: dict[str, Decimal] = field(default_factory=dict)  # currency -> sum of open amounts
    overdue: int = 0

    @property
    def deals_href(self) -> str:
        return "/deals/?" + urlencode({"owner": self.user.pk, "status": "open"})

    @property
    def tasks_href(self) -> str:
        return "/tasks/?" + urlencode({"assignee": self.user.pk, "status__in": "open,in_progress", "sort": "due_at"})


def sees_a_team(user) -> bool:
    """Team home for whoever sees more than their own deals or tasks: team or all scope, or an admin."""
    policy = policy_for(user)
    if not (policy.allows("deal", "view") or policy.allows("task", "view")):
        return False
    return policy.is_admin or policy.scope in (Scope.TEAM, Scope.ALL)


def team_summary(user) -> dict:
    policy = policy_for(user)
    deal_hidden = policy.hidden_fields("deal")
    rows: dict[int, RepRow] = {}
    if policy.allows("deal", "view") and "owner" not in deal_hidden:
        _pipeline_by_rep(user, rows, sums=not deal_hidden & {"amount", "currency"})
    if policy.allows("task", "view") and not policy.hidden_fields("task") & {"assignee", "due_at"}:
        _overdue_by_rep(user, policy, rows)
    reps = sorted(rows.values(), key=lambda r: (-r.open_deals, -r.overdue, str(r.user)))
    closing, closing_count = _closing_this_month(user) if policy.allows("deal", "view") else ([], 0)
    return {
        "reps": reps,
        "amounts": not deal_hidden & {"amount", "currency"},
        "closing": closing,
        "closing_count": closing_count,
        "closing_href": _closing_href(),
    }


def _row(rows: dict[int, RepRow], users: dict, user_id: int) -> RepRow:
    if user_id not in rows:
        rows[user_id] = RepRow(users[user_id])
    return rows[user_id]


def _users(ids) -> dict:
    return {u.pk: u for u in get_user_model().objects.filter(pk__in=set(ids))}


def _pipeline_by_rep(user, rows: dict[int, RepRow], *, sums: bool) -> None:
    grouped = list(
        Deal.objects.restrict(user)
        .filter(status=DealStatus.OPEN, owner__isnull=False)
        .values("owner_id", "currency")
        .annotate(n=Count("id"), total=Sum("amount"))
        .order_by()
    )
    users = _users(g["owner_id"] for g in grouped)
    for g in grouped:
        row = _row(rows, users, g["owner_id"])
        row.open_deals += g["n"]
        if sums and g["total"] is not None:
            row.totals[g["currency"]] = row.totals.get(g["currency"], Decimal(0)) + g["total"]


def _overdue_by_rep(user, policy, rows: dict[int, RepRow]) -> None:
    qs = Task.objects.restrict(user).filter(status__in=OPEN_TASK, due_at__lt=timezone.now(), assignee__isnull=False)
    owners = policy.visible_owner_ids()
    if owners is not None:  # tasks seen through a linked record are not the team's work
        qs = qs.filter(assignee_id__in=sorted(owners))
    grouped = list(qs.values("assignee_id").annotate(n=Count("id")).order_by())
    users = _users(g["assignee_id"] for g in grouped)
    for g in grouped:
        _row(rows, users, g["assignee_id"]).overdue = g["n"]


def _closing_href() -> str:
    """The deals list's built-in "Closing this month" view (crm/web/saved_views.py)."""
    start, end = month_bounds(timezone.localdate())
    query = {"status": "open", "expected_close_date__gte": start, "expected_close_date__lte": end, "view": "month"}
    return "/deals/?" + urlencode(query)


def _closing_this_month(user) -> tuple[list, int]:
    start, end = month_bounds(timezone.localdate())
    qs = Deal.objects.restrict(user).filter(
        status=DealStatus.OPEN, expected_close_date__gte=start, expected_close_date__lte=end
    )
    from crm.web.views.home import without_hidden  # the home view's blanking of hidden fields

    rows = list(qs.select_related("owner", "stage").order_by("expected_close_date", "id")[:CLOSING_LIMIT])
    return without_hidden(user, "deal", rows), qs.count()

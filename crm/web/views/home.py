"""Home, "my day": tasks due today or overdue, open deals closing this month, recent activity; each
without the values of fields hidden from the user's role."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q, Sum
from django.shortcuts import render
from django.utils import timezone

from crm.access import fieldrules
from crm.access.policy import policy_for
from crm.core import recordtypes
from crm.records.models import Activity, Deal, DealStatus, Pipeline, Task, TaskStatus
from crm.records.selectors import attach_linked
from crm.web import team_home
from crm.web.forms.records import TaskForm
from crm.web.saved_views import month_bounds

OPEN_TASK = (TaskStatus.OPEN, TaskStatus.IN_PROGRESS)


def end_of_today() -> dt.datetime:
    """Midnight after today, in the user's time zone (the middleware activated it)."""
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(tomorrow, dt.time()))


def without_hidden(user, object_type: str, rows: list) -> list:
    """``rows`` with the values of fields hidden from the user's role blanked (crm/access/fieldrules.py):
    display copies from then on, never saved."""
    hidden = policy_for(user).hidden_fields(object_type)
    if hidden:
        rt = recordtypes.by_type(object_type)
        for row in rows:
            fieldrules.blank(rt, row, hidden)
    return rows


def my_tasks(user, limit: int = 30):
    rows = list(
        Task.objects.restrict(user)
        .filter(assignee=user, status__in=OPEN_TASK, due_at__lt=end_of_today())
        .order_by("due_at", "id")[:limit]
    )
    return without_hidden(user, "task", rows)


def my_deals(user, limit: int = 20):
    start, end = month_bounds(timezone.localdate())
    rows = list(
        Deal.objects.restrict(user)
        .filter(owner=user, status=DealStatus.OPEN, expected_close_date__gte=start, expected_close_date__lte=end)
        .select_related("stage", "company")
        .order_by("expected_close_date", "id")[:limit]
    )
    return without_hidden(user, "deal", rows)


def recent_activity(user, limit: int = 15):
    """The latest activities on records I own (or that I logged myself). An activity also linked to
    a record I may not open shows without that link (it would answer 404)."""
    mine = Q(owner=user)
    for rt in recordtypes.all_types():
        if rt.timeline and rt.owner_field:
            owned = rt.objects().filter(**{rt.owner_field: user}).values("pk")
            mine |= Activity.linked_q(rt.object_type, Q(record_id__in=owned))
    rows = list(
        Activity.objects.restrict(user).filter(mine).select_related("owner").order_by("-occurred_at", "-id")[:limit]
    )
    return without_hidden(user, "activity", attach_linked(rows, user))


def pipeline_chart(user) -> dict | None:
    """My open deals in the default pipeline, per stage: count, and total per currency (amounts in two
    currencies are never added: one bar per currency) for the home chart."""
    hidden = policy_for(user).hidden_fields("deal")
    if hidden & {"stage", "pipeline"}:  # the chart is the deals per stage of a pipeline
        return None
    pipeline = Pipeline.objects.order_by("-is_default", "order", "id").first()
    if pipeline is None:
        return None
    # A hidden amount or currency: the counts only (sums of amounts would tell the hidden values).
    sums = not hidden & {"amount", "currency"}
    counts: dict[int, int] = {}
    totals: dict[int, dict[str, float]] = {}
    grouped = (
        Deal.objects.restrict(user)
        .filter(owner=user, pipeline=pipeline, status=DealStatus.OPEN)
        .values("stage_id", "currency")
        .annotate(n=Count("id"), total=Sum("amount"))
        .order_by()
    )
    for row in grouped:
        counts[row["stage_id"]] = counts.get(row["stage_id"], 0) + row["n"]
        if sums:
            totals.setdefault(row["stage_id"], {})[row["currency"]] = float(row["total"] or 0)
    stages = pipeline.stages.filter(is_won=False, is_lost=False).order_by("order", "id")
    rows = [{"stage": s.name, "count": counts.get(s.pk, 0), "totals": totals.get(s.pk, {})} for s in stages]
    if not any(r["count"] for r in rows):
        return None
    currencies = sorted({c for r in rows for c in r["totals"]})
    return {"pipeline": pipeline.name, "rows": rows, "currencies": currencies}


@login_required
def home(request):
    user = request.user
    context = {
        "tasks": my_tasks(user),
        "deals": my_deals(user),
        "activities": recent_activity(user),
        "task_form": TaskForm(user=user),
        "now": timezone.now(),
        "chart": pipeline_chart(user),
        # Someone who sees a team's records gets the team first (crm/web/team_home.py), then their day.
        "team": team_home.team_summary(user) if team_home.sees_a_team(user) else None,
    }
    return render(request, "web/home.html", context)

"""Home, "my day": tasks due today or overdue, open deals closing this month, recent activity."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import render
from django.utils import timezone

from crm.records.models import Activity, Deal, DealStatus, Task, TaskStatus
from crm.web.forms.records import TaskForm
from crm.web.saved_views import _month

OPEN_TASK = (TaskStatus.OPEN, TaskStatus.IN_PROGRESS)


def end_of_today() -> dt.datetime:
    """Midnight after today, in the user's time zone (the middleware activated it)."""
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(tomorrow, dt.time()))


def my_tasks(user, limit: int = 30):
    return list(
        Task.objects.restrict(user)
        .filter(assignee=user, status__in=OPEN_TASK, due_at__lt=end_of_today())
        .select_related("company", "contact", "deal")
        .order_by("due_at", "id")[:limit]
    )


def my_deals(user, limit: int = 20):
    start, end = _month(timezone.localdate())
    return list(
        Deal.objects.restrict(user)
        .filter(owner=user, status=DealStatus.OPEN, expected_close_date__gte=start, expected_close_date__lte=end)
        .select_related("stage", "company")
        .order_by("expected_close_date", "id")[:limit]
    )


def recent_activity(user, limit: int = 15):
    """The latest activities on records I own (or that I logged myself)."""
    mine = Q(owner=user)
    for name in ("company", "contact", "deal", "lead"):
        mine |= Q(**{f"{name}__owner": user})
    return list(
        Activity.objects.restrict(user)
        .filter(mine)
        .select_related("owner", "company", "contact", "deal", "lead")
        .order_by("-occurred_at", "-id")[:limit]
    )


@login_required
def home(request):
    user = request.user
    context = {
        "tasks": my_tasks(user),
        "deals": my_deals(user),
        "activities": recent_activity(user),
        "task_form": TaskForm(user=user),
        "now": timezone.now(),
    }
    return render(request, "web/home.html", context)

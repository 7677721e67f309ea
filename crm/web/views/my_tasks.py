"""The "My tasks" page: my open tasks grouped by due date in my time zone (Overdue, Today, Upcoming (next 7
days), Later, No date), with snooze and reschedule in one click (completion: views/tasks.py)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST

from crm.core.errors import ServiceError
from crm.records.models import Task
from crm.records.selectors import attach_linked, get_for, may
from crm.records.services.activities import task_update
from crm.web.views.helpers import page_errors
from crm.web.views.home import OPEN_TASK, without_hidden

GROUPS = (
    ("overdue", "Overdue"),
    ("today", "Today"),
    ("upcoming", "Upcoming (next 7 days)"),
    ("later", "Later"),
    ("none", "No date"),
)
SNOOZE_HOUR = dt.time(9, 0)
UPCOMING_DAYS = 7


def local_at(day: dt.date, at: dt.time = SNOOZE_HOUR) -> dt.datetime:
    """``day`` at ``at`` in the user's zone (the middleware activated it), as an aware datetime."""
    return timezone.make_aware(dt.datetime.combine(day, at))


def group_of(task: Task, now: dt.datetime) -> str:
    """Which group a task falls in: by its due date as a day in the user's zone, so a task due at 23:30
    tonight is Today even when UTC is already tomorrow; one past its due time today is Overdue."""
    if task.due_at is None:
        return "none"
    if task.due_at < now:
        return "overdue"
    days = (timezone.localtime(task.due_at).date() - timezone.localtime(now).date()).days
    if days <= 0:
        return "today"
    return "upcoming" if days <= UPCOMING_DAYS else "later"


def grouped_tasks(user, now: dt.datetime | None = None) -> list[dict]:
    """The open tasks assigned to ``user`` that they may see, grouped, each group with its count; a
    linked record the user may not open is left out of its row, hidden fields are blanked."""
    now = now or timezone.now()
    rows = list(
        Task.objects.restrict(user, "view")
        .filter(assignee=user, status__in=OPEN_TASK)
        .prefetch_related("links")
        .order_by("due_at", "id")
    )
    rows = without_hidden(user, "task", attach_linked(rows, user))
    buckets: dict[str, list] = {key: [] for key, _ in GROUPS}
    for task in rows:
        task.may_change = may(user, task, "change")
        buckets[group_of(task, now)].append(task)
    return [{"key": key, "label": label, "tasks": buckets[key], "count": len(buckets[key])} for key, label in GROUPS]


@login_required
def my_tasks_page(request):
    return render(request, "web/my_tasks.html", {"groups": grouped_tasks(request.user)})


def snooze_target(until: str, today: dt.date) -> dt.datetime | None:
    """Tomorrow 09:00, or next Monday 09:00 (a week on from a Monday), in the user's zone."""
    if until == "tomorrow":
        return local_at(today + dt.timedelta(days=1))
    if until == "next_week":
        return local_at(today + dt.timedelta(days=7 - today.weekday()))
    return None


def reschedule_target(task: Task, typed: str) -> dt.datetime | None:
    """The typed date (YYYY-MM-DD) at the task's current time of day, else 09:00, in the user's zone."""
    try:
        day = dt.date.fromisoformat(typed.strip())
    except ValueError:
        return None
    at = timezone.localtime(task.due_at).time() if task.due_at else SNOOZE_HOUR
    return local_at(day, at)


def _version(request) -> int | None:
    raw = request.POST.get("version", "")
    return int(raw) if raw.isdigit() else None


def _move(request, pk: int, pick):
    """Move a task's due time to ``pick(task)`` through the update service (permission, version check,
    change log); a refusal or bad input is shown in the row (422/409), never a 500."""
    task = get_for(Task, request.user, pk, "change")
    due, error, status = pick(task), None, 200
    if due is None:
        error, status = "Pick a valid date.", 422
    else:
        try:
            task = task_update(task, actor=request.user, data={"due_at": due}, version=_version(request)).obj
        except ServiceError as exc:
            # A field's own message ("must not be after the due time") says more than the summary.
            error = " ".join(exc.fields.values()) if exc.code == "validation_failed" and exc.fields else exc.message
            status = 409 if exc.status == 409 else 422
    if error is None and request.htmx:
        return groups_answer(request, task.pk)
    task = without_hidden(request.user, "task", attach_linked([task], request.user))[0]
    task.may_change = True
    return render(request, "web/parts/my_task_row.html", {"task": task, "error": error}, status=status)


def groups_answer(request, moved: int):
    """Every group again after a one-click move, in place of the groups (the form targets its row): the
    task lands in its new group (or leaves the page when done) and the counts follow. A refusal keeps
    answering with the row alone, its message in it."""
    response = render(request, "web/parts/my_task_groups.html", {"groups": grouped_tasks(request.user), "moved": moved})
    response["HX-Retarget"] = "#mytask-groups"
    response["HX-Reswap"] = "outerHTML"
    return response


@login_required
@page_errors
@require_POST
def snooze(request, pk: int):
    today = timezone.localdate()
    return _move(request, pk, lambda task: snooze_target(request.POST.get("until", ""), today))


@login_required
@page_errors
@require_POST
def reschedule(request, pk: int):
    return _move(request, pk, lambda task: reschedule_target(task, request.POST.get("due_date", "")))

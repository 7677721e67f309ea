"""/calendar/: a person's meetings and tasks by day, week or month in the viewer's time zone, and
rescheduling one (a drag, or the item's own form) through the task and activity update services,
with the version the page was drawn from (a stale one is refused, 409)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from crm.access.policy import policy_for
from crm.core.errors import NotFound, ServiceError, ValidationFailed
from crm.records.models import Activity, Task
from crm.records.models.activities import ActivityKind
from crm.records.selectors import get_for
from crm.records.services.activities import activity_update, task_update
from crm.web import calendar as cal
from crm.web.templatetags.web import person as person_name

HOURS = range(24)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _anchor(raw: str | None) -> dt.date:
    try:
        return dt.date.fromisoformat(raw or "")
    except ValueError:  # missing, malformed or no such day: today
        return timezone.localdate()


def _person(request, people: list):
    raw = request.GET.get("user", "")
    if not raw:
        return request.user
    found = next((p for p in people if str(p.pk) == raw), None)
    if found is None:  # someone the viewer's role does not cover, or no such user
        raise Http404("No such calendar.")
    return found


@login_required
def calendar_page(request):
    policy = policy_for(request.user)
    if not (policy.allows("task", "view") or policy.allows("activity", "view")):
        raise PermissionDenied("You may not see tasks or activities.")
    view = request.GET.get("view") if request.GET.get("view") in cal.VIEWS else "week"
    span = cal.span_of(view, _anchor(request.GET.get("date")))
    people = cal.people_for(request.user)
    person = _person(request, people)
    calendar = cal.Calendar(span, cal.items_for(request.user, person, span))
    base = {"view": view} | ({"user": person.pk} if person != request.user else {})
    context = {
        "span": span,
        "view": view,
        "views": cal.VIEWS,
        "today": timezone.localdate(),
        "person": person,
        "person_name": person_name(person),
        "people": people if len(people) > 1 else [],
        "nav": {
            "prev": "?" + urlencode(base | {"date": span.prev.isoformat()}),
            "next": "?" + urlencode(base | {"date": span.next.isoformat()}),
            "today": "?" + urlencode(base),
        },
        "view_links": [(v, "?" + urlencode(base | {"view": v, "date": span.anchor.isoformat()})) for v in cal.VIEWS],
        "days": calendar.span.days,
        "rows": _rows(calendar) if view != "month" else [],
        "weeks": _weeks(calendar) if view == "month" else [],
        "items": calendar.items,
        "tz": timezone.get_current_timezone_name(),
        "here": request.get_full_path(),
    }
    return render(request, "web/calendar.html", context)


def _rows(calendar: cal.Calendar) -> list[dict]:
    """Day and week views: a row per hour of the day, a cell per day with that hour's items."""
    return [
        {"time": f"{h:02d}:00", "cells": [{"date": d, "items": calendar.at(d, h)} for d in calendar.span.days]}
        for h in HOURS
    ]


def _weeks(calendar: cal.Calendar) -> list[list[dict]]:
    days = [
        {"date": d, "items": calendar.on(d), "other_month": d.month != calendar.span.anchor.month}
        for d in calendar.span.days
    ]
    return [days[i : i + 7] for i in range(0, len(days), 7)]


def _time(raw: str | None) -> dt.time | None:
    if not raw:
        return None
    try:
        return dt.time.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed({"time": "Enter a time as HH:MM."}) from None


def _int(raw) -> int | None:
    return int(raw) if isinstance(raw, str) and raw.isdigit() else None


def reschedule_item(user, post) -> tuple[object, dt.datetime]:
    """Move the task or meeting the form names to its new day (and time): the update service checks
    the permission, the version and the task's rules. Bad input is a ValidationFailed naming the field."""
    what, pk = post.get("item", ""), _int(post.get("id"))
    try:
        day = dt.date.fromisoformat(post.get("day", ""))
    except ValueError:
        raise ValidationFailed({"day": "Enter a real date (YYYY-MM-DD)."}) from None
    at = _time(post.get("time"))
    version = _int(post.get("version"))
    if what == "task" and pk is not None:
        task = get_for(Task, user, pk, "change")
        due = cal.new_moment(task.due_at, day, at)
        return task_update(task, actor=user, data={"due_at": due}, version=version).obj, due
    if what == "meeting" and pk is not None:
        meeting = get_for(Activity.objects.filter(kind=ActivityKind.MEETING), user, pk, "change")
        when = cal.new_moment(meeting.occurred_at, day, at)
        return activity_update(meeting, actor=user, data={"occurred_at": when}, version=version).obj, when
    raise ValidationFailed({"item": "Name a task or a meeting to move."})


@login_required
@require_POST
def reschedule(request):
    """JSON for the drag (the new version, or the error with its status); the form without script
    redirects back to the calendar with a message."""
    wants_json = "application/json" in request.headers.get("Accept", "")
    try:
        obj, when = reschedule_item(request.user, request.POST)
    except ServiceError as exc:
        if wants_json:
            return JsonResponse({"error": _message(exc), "code": exc.code, "fields": exc.fields}, status=exc.status)
        if isinstance(exc, NotFound):
            raise Http404(exc.message) from None
        messages.error(request, _message(exc))
        return redirect(_back(request))
    label = timezone.localtime(when).strftime("%a %b %-d, %H:%M")
    if wants_json:
        return JsonResponse({"version": obj.version, "when": label, "day": timezone.localtime(when).date().isoformat()})
    messages.success(request, f"Moved “{obj}” to {label}.")
    return redirect(_back(request))


def _message(exc: ServiceError) -> str:
    if exc.code == "validation_failed" and exc.fields:
        return " ".join(str(v) for v in exc.fields.values())
    if exc.code == "version_conflict":
        return f"{exc.message} Reload the calendar to see the latest."
    return exc.message


def _back(request) -> str:
    nxt = request.POST.get("next", "")
    if nxt and url_has_allowed_host_and_scheme(nxt, {request.get_host()}, require_https=request.is_secure()):
        return nxt
    return "/calendar/"
